"""Experiment: `kiln bench pool` with a categorical-aware Matern-5/2 kernel (one lengthscale per categorical).

Kiln's default GP gives every model column its own lengthscale (ARD), so a categorical parameter's one-hot columns
get one lengthscale each: after one poor result with some choice, that choice's own lengthscale can shrink and the
model ranks every candidate with it low. This experiment ties the lengthscales of each categorical's one-hot columns
(one per categorical, one per numeric column; the same prior and constraint as Kiln's Matern-5/2) and runs the pool
backtest with it. It is not a Kiln setting: it replaces the "matern52" kernel factory for this process and the
worker processes it spawns (which import this script again and read the groups and the spread from the
environment), and reads the groups of columns from each pool as it is built:

    .venv/bin/python benchmarks/tied_categorical.py bench pool --dataset suzuki-ii --budget 40 --runs 20 -s kiln \
        --jobs 1 --out ii-tied.json

With ``--spread S`` first (S > 0) the lengthscales are not tied but shrunk: every model column keeps its own
lengthscale and prior, and the log lengthscales of each categorical's one-hot columns get a Normal(0, S) prior on
their deviations from the categorical's mean log lengthscale (a hierarchical prior: S -> 0 is the tied kernel, a
large S the default's ARD):

    .venv/bin/python benchmarks/tied_categorical.py --spread 0.5 bench pool --dataset suzuki-ii --budget 40 \
        --runs 20 -s kiln --jobs 1 --out ii-spread.json

Every other argument after the script's name goes to ``kiln``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

import torch
from botorch.models.utils.gpytorch_modules import SQRT2, SQRT3
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import MaternKernel
from gpytorch.priors import LogNormalPrior

import kiln.models.gp as gp
from kiln.space.pool import CandidatePool

GROUPS: dict[str, Any] = {"index": None, "spread": None}
"""The group of each model column of the pool built last (numeric columns first, then each categorical's block)."""


class TiedMatern(MaternKernel):  # type: ignore[misc]
    """Matern-5/2 whose d lengthscales are g free values, column j taking value ``index[j]``."""

    def __init__(self, index: list[int], prior: Any, constraint: Any) -> None:
        super().__init__(nu=2.5, ard_num_dims=max(index) + 1, lengthscale_constraint=constraint)
        self.register_buffer("index", torch.as_tensor(index, dtype=torch.long))
        self.register_prior("lengthscale_prior", prior, lambda m: m.free_lengthscales, lambda m, v: m.set_free(v))

    @property
    def free_lengthscales(self) -> torch.Tensor:
        return self.raw_lengthscale_constraint.transform(self.raw_lengthscale)

    def set_free(self, value: torch.Tensor) -> None:
        self.initialize(raw_lengthscale=self.raw_lengthscale_constraint.inverse_transform(value))

    @property
    def lengthscale(self) -> torch.Tensor:
        return self.free_lengthscales[..., self.index]

    @lengthscale.setter
    def lengthscale(self, value: torch.Tensor) -> None:
        self.set_free(value)


def deviations(index: list[int]) -> Any:
    """Closure: a Matern kernel -> the deviations of its log lengthscales from their group's mean, for the
    columns of groups with two or more columns (one value per such column)."""
    groups = [[j for j, g in enumerate(index) if g == group] for group in sorted(set(index))]
    members = [g for g in groups if len(g) > 1]

    def closure(kernel: Any) -> torch.Tensor:
        log_ls = kernel.lengthscale.log().reshape(-1)
        parts = [log_ls[g] - log_ls[g].mean() for g in members]
        return torch.cat(parts) if parts else log_ls[:0]

    return closure


def shrunk_matern52(d: int, index: list[int], spread: float) -> Any:
    """Kiln's ARD Matern-5/2 with a Normal(0, spread) prior on each categorical's log-lengthscale deviations."""
    from gpytorch.priors import NormalPrior

    kernel = gp.matern52_base(d, True)
    kernel.register_prior("group_spread_prior", NormalPrior(0.0, spread), deviations(index))
    return gp.scaled(kernel)


def tied_matern52(d: int, ard: bool = True) -> Any:
    """Kiln's Matern-5/2 factory with the pool's categorical groups tied (Kiln's own kernel where they do not
    apply: isotropic, or inputs of another width)."""
    index = GROUPS["index"]
    if index is None or not ard or len(index) != d:
        return gp.scaled(gp.matern52_base(d, ard))
    if GROUPS["spread"] is not None:
        return shrunk_matern52(d, index, GROUPS["spread"])
    prior = LogNormalPrior(loc=SQRT2 + 0.5 * math.log(d), scale=SQRT3)
    constraint = GreaterThan(2.5e-2, transform=torch.exp, inv_transform=torch.log, initial_value=prior.mode)
    return gp.scaled(TiedMatern(index, prior, constraint))


def column_groups(pool: CandidatePool) -> list[int]:
    """The group of each model column: one per numeric column, one per categorical's encoded block."""
    index = list(range(int(sum(pool.numeric))))
    group = len(index)
    for j, column in enumerate(pool.columns):
        if not pool.numeric[j]:
            choices = {row[j] for row in pool.rows}
            index.extend([group] * pool.encodings[column].width(len(choices)))
            group += 1
    return index


ENV_GROUPS, ENV_SPREAD = "KILN_EXPERIMENT_GROUPS", "KILN_EXPERIMENT_SPREAD"
"""Environment variables that carry the groups of the pool built last and the spread to worker processes."""


def patch_from_environment() -> None:
    """In a worker process (spawned: this script is imported again as ``__mp_main__``), the parent's groups and
    spread and the replaced kernel factory."""
    if ENV_GROUPS in os.environ:
        GROUPS["index"] = json.loads(os.environ[ENV_GROUPS])
        spread = os.environ.get(ENV_SPREAD, "")
        GROUPS["spread"] = float(spread) if spread else None
        gp.KERNELS["matern52"] = tied_matern52


if __name__ == "__mp_main__":
    patch_from_environment()


def main() -> None:
    from kiln.cli.app import main as kiln

    built = CandidatePool.__init__

    def remembering(self: CandidatePool, *args: Any, **kwargs: Any) -> None:
        built(self, *args, **kwargs)
        index = column_groups(self)
        GROUPS["index"] = index if len(index) == self.dim else None
        if GROUPS["index"] is None:
            os.environ.pop(ENV_GROUPS, None)
        else:
            os.environ[ENV_GROUPS] = json.dumps(index)

    CandidatePool.__init__ = remembering  # type: ignore[method-assign]
    gp.KERNELS["matern52"] = tied_matern52
    args = sys.argv[1:]
    if args[:1] == ["--spread"]:
        GROUPS["spread"] = float(args[1])
        if GROUPS["spread"] <= 0:
            raise SystemExit("--spread: give a positive standard deviation (log lengthscale units), e.g. 0.5")
        args = args[2:]
        os.environ[ENV_SPREAD] = str(GROUPS["spread"])
    else:
        os.environ.pop(ENV_SPREAD, None)
    sys.argv = ["kiln", *args]
    kiln()


if __name__ == "__main__":
    main()
