"""Active learning: experiments chosen for a good model everywhere (``goal: map``) rather than for the best point.

Each target is modelled by its own GP (Kiln's fast GP, ``kiln.models.model_list``) on its raw values: the
direction does not matter when the goal is a map. The acquisitions, for candidates C (the pool's unused rows, or
a scrambled Sobol sample of the space) and integration points M (the pool's rows, or another Sobol sample):

- ``ipv``: integrated posterior variance reduction. A measurement at c lowers the posterior variance at m by
  cov(m, c)^2 / (var(c) + noise), whatever it reads (a GP's variance does not depend on y); the score of c is
  that reduction averaged over M and summed over the targets (each in its standardised units). This is exactly
  what BoTorch's ``qNegIntegratedPosteriorVariance`` (q = 1) ranks by, up to a constant, computed for every
  candidate at once instead of one fantasy model per candidate (``tests/strategies/test_active.py`` checks the
  two agree): optimising BoTorch's own over a box took about 60 s per point with 1,024 integration points, the
  closed form scores a thousand candidates in milliseconds. In a search space the candidates are a Sobol sample
  and ``LOCAL_POINTS`` perturbations of its best few (decoded to valid points), so the choice is not limited to
  the sample.
- ``variance``: maximum posterior variance (uncertainty sampling), summed over the targets in standardised units.
- ``spacefill``: greedy maximin (k-centre) on the encoded candidates, no model (``SpaceFillingStrategy``).
- ``igs``: improved greedy sampling (Wu, Lin and Huang 2019, "Active learning for regression using greedy
  sampling", Information Sciences 474): the candidate c whose smallest product, over the measured (and pending)
  points i, of the input distance ||c - x_i|| (model coordinates) and the output distance |f(c) - y_i| (f the
  GP's mean, standardised units) is largest; far from every measurement in the inputs and in the predicted
  outputs at once. Summed over the targets. A pending point counts with its predicted mean as its value.
- ``medoids``: representative points, no model (``kiln.strategies.representative``): greedy facility location
  over the integration points M, each new point where it most lowers their summed distance to a measurement.

A batch is chosen one point at a time; each chosen point joins the pending ones, which are folded into the GPs by
conditioning on them (``FittedGP.believe``): exact for the variance, which is all these acquisitions read. With
fewer than two results of any target with a spread, the strategy spreads points out (space-filling).

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.core.errors import ValidationError
from kiln.models.gp import check_kernel
from kiln.models.warping import check_transform, warp
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, Proposal, available_candidates
from kiln.strategies.representative import representative_proposals
from kiln.strategies.simple import MAX_CANDIDATES, SpaceFillingStrategy
from kiln.strategies.space_points import first_new

if TYPE_CHECKING:
    import numpy as np

    from kiln.models.gp import FittedGP
    from kiln.models.model_list import FittedModelList

MAP_ACQUISITIONS = ("ipv", "variance", "spacefill", "igs", "medoids")
"""Acquisitions of the mapping strategy."""

DEFAULT_MAP_ACQUISITION = "ipv"
"""The map strategy's own default acquisition (the default strategy's ``mapping`` is ``spacefill``: see
``kiln.strategies.default`` and docs/benchmarks.md, "Mapping")."""

SCORE_CHUNK = 2048
"""Candidates scored at once (the M x chunk covariance stays small)."""

LOCAL_STARTS = 4
LOCAL_POINTS = 256
LOCAL_SCALES = (0.02, 0.05, 0.1)
"""Search spaces: the best Sobol candidates, points scored near them, and the steps (model coordinates)."""

CONSTRAINED_POINTS = 256
"""Most Sobol candidates and integration points in a space with linear or composition constraints."""

MC_SEED = 7919
"""Seed of the integration points: fixed, so every ask of a campaign integrates over the same points."""


def check_map_acquisition(value: Any, field: str = "strategy 'map': acquisition") -> str:
    """``value`` if it is a mapping acquisition, else ValidationError naming ``field``."""
    if not isinstance(value, str) or value not in MAP_ACQUISITIONS:
        raise ValidationError(
            field,
            value,
            f"mapping acquisitions are {list(MAP_ACQUISITIONS)}",
            f"use one of them, e.g. {DEFAULT_MAP_ACQUISITION}",
        )
    return value


def _check_count(value: Any, field: str, example: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CANDIDATES:
        raise ValidationError(
            field,
            value,
            f"a whole number from 1 to {MAX_CANDIDATES} is required (each ask scores them)",
            f"e.g. {example}",
        )


@dataclass(frozen=True)
class MapStrategy:
    """Active learning for a map of every target (see the module docstring).

    Args:
        acquisition: "ipv" (integrated posterior variance reduction, default), "variance" (largest posterior
            variance) or "spacefill" (greedy maximin, no model).
        kernel: the GPs' kernel, "matern52" (default) or "rbf".
        candidates: Sobol candidates scored per point in a search space (a pool scores every unused row).
        mc_points: integration points of "ipv": the pool's rows (a deterministic subsample when there are more),
            or a Sobol sample of the space of this size.
        transform: "none" (default) or "power": each target's values are Yeo-Johnson transformed before its GP's
            hyperparameters are fitted (``kiln.models.warping``), which steadies them on heavy-tailed values.
    """

    acquisition: str = DEFAULT_MAP_ACQUISITION
    kernel: str = "matern52"
    candidates: int = 1024
    mc_points: int = 1024
    transform: str = "none"
    kind: ClassVar[str] = "map"

    def __post_init__(self) -> None:
        check_map_acquisition(self.acquisition)
        check_kernel(self.kernel, "strategy 'map': kernel")
        check_transform(self.transform, "strategy 'map': transform")
        _check_count(self.candidates, "strategy 'map': candidates", 1024)
        _check_count(self.mc_points, "strategy 'map': mc_points", 1024)

    def to_config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "acquisition": self.acquisition,
            "kernel": self.kernel,
            "candidates": self.candidates,
            "mc_points": self.mc_points,
            "transform": self.transform,
        }

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        """Up to ``n`` distinct proposals (fewer only when a pool runs out); deterministic for a given seed."""

        from kiln.models.gp import torch_threads

        if n <= 0 or (isinstance(domain, CandidatePool) and len(available_candidates(domain, history)) == 0):
            return []
        spread = SpaceFillingStrategy(candidates=self.candidates)
        if self.acquisition == "spacefill":
            return spread.propose(domain, objective, history, n, seed=seed)
        if self.acquisition == "medoids":
            population = integration_points(domain, self.mc_points)
            return representative_proposals(
                domain, history, n, population=population, candidates=self.candidates, seed=seed
            )
        with torch_threads():
            fitted = fit_map_models(domain, objective, history, kernel=self.kernel, seed=seed, transform=self.transform)
            if fitted is None:
                return spread.propose(domain, objective, history, n, seed=seed)
            pending = domain.encode([e.params for e in history.pending]).reshape(-1, domain.dim)
            if isinstance(domain, CandidatePool):
                keys = available_candidates(domain, history)
                X = domain.encoded[keys]
                chosen = self._greedy(fitted.gps, X, integration_points(domain, self.mc_points), pending, n)
                return [Proposal(domain.row(int(keys[i])), int(keys[i])) for i in chosen]
            return self._from_space(domain, fitted.gps, history, pending, n, seed)

    def _greedy(
        self, gps: tuple[FittedGP, ...], X: np.ndarray, M: np.ndarray, pending: np.ndarray, n: int
    ) -> list[int]:
        """Indices of up to ``n`` distinct rows of X (m x d), each the best given the pending rows and those chosen
        before it."""
        import numpy as np

        chosen: list[int] = []
        alive = np.ones(len(X), dtype=bool)
        for _ in range(min(n, len(X))):
            values = map_scores(self.acquisition, [gp.believe(pending) for gp in gps], X, M)
            values[~alive] = -np.inf
            best = int(np.argmax(values))
            chosen.append(best)
            alive[best] = False
            pending = np.vstack([pending.reshape(-1, X.shape[1]), X[best]])
        return chosen

    def _from_space(
        self,
        space: SearchSpace,
        gps: tuple[FittedGP, ...],
        history: History,
        pending: np.ndarray,
        n: int,
        seed: int,
    ) -> list[Proposal]:
        """Score a Sobol sample of the space and points near its best ones, take the best new valid point; repeat
        with it pending."""
        import numpy as np

        size = self.candidates if not space.constrained_names else min(self.candidates, CONSTRAINED_POINTS)
        options = sample_points(space, max(size, n), seed=seed, method="sobol")
        X = space.encode(options).reshape(-1, space.dim)
        M = integration_points(space, self.mc_points)
        seen = [e.params for e in (*history.completed, *history.pending, *history.failed)]
        taken = space.encode(seen).reshape(-1, space.dim) if seen else np.zeros((0, space.dim))
        proposals: list[Proposal] = []
        for i in range(n):
            believed = [gp.believe(pending) for gp in gps]
            values = map_scores(self.acquisition, believed, X, M)
            top = X[np.argsort(-values, kind="stable")[:LOCAL_STARTS]]
            local = _perturbed(space, top, seed + i)  # a local search around the best candidates
            candidates = local + options
            candidate_X = np.vstack([space.encode(local).reshape(-1, space.dim), X])
            scores = np.concatenate([map_scores(self.acquisition, believed, candidate_X[: len(local)], M), values])
            point = first_new(space, candidates, candidate_X, np.argsort(-scores, kind="stable"), taken)
            if point is None:
                break
            x = space.encode([point])
            taken, pending = np.vstack([taken, x]), np.vstack([pending.reshape(-1, space.dim), x])
            proposals.append(Proposal(point))
        return proposals


def fit_map_models(
    domain: Domain,
    objective: Objective,
    history: History,
    *,
    kernel: str = "matern52",
    seed: int = 0,
    transform: str = "none",
) -> FittedModelList | None:
    """One GP per target with at least two measured values that differ, on the completed experiments that have a
    value of it (raw values, or power-transformed with ``transform="power"``; model coordinates); None when no
    target has such values."""
    import numpy as np

    from kiln.models.model_list import fit_model_list

    columns, names = [], []
    for target in objective.targets:
        measured = [e for e in history.completed if target.name in e.results]
        y = np.array([float(e.results[target.name]) for e in measured], dtype=float)
        if len(y) < 2 or float(np.ptp(y)) <= 0.0:
            continue
        columns.append((domain.encode([e.params for e in measured]).reshape(-1, domain.dim), warp(y, transform)))
        names.append(target.name)
    if not columns:
        return None
    return fit_model_list(columns, names, kernel=kernel, seed=seed, layout=domain.kernel_layout)


def integration_points(domain: Domain, size: int) -> np.ndarray:
    """The points (size x d at most, model coordinates) over which the map's variance is integrated: every pool
    row, or ``size`` of them chosen by a fixed seed when the pool is larger; a Sobol sample of a search space (of
    at most ``CONSTRAINED_POINTS`` under linear or composition constraints)."""
    import numpy as np

    if isinstance(domain, CandidatePool):
        X = domain.encoded
        if len(X) <= size:
            return np.asarray(X, dtype=float)
        rows = np.sort(np.random.default_rng(MC_SEED).choice(len(X), size=size, replace=False))
        return np.asarray(X[rows], dtype=float)
    if domain.constrained_names:  # hit-and-run sampling costs a step per point: fewer of them there
        size = min(size, CONSTRAINED_POINTS)
    return domain.encode(sample_points(domain, size, seed=MC_SEED, method="sobol")).reshape(-1, domain.dim)


def map_scores(acquisition: str, gps: list[FittedGP], X: np.ndarray, M: np.ndarray) -> np.ndarray:
    """The acquisition value of each candidate row of X (m x d), shape (m,), summed over the GPs (standardised
    units): "variance" the posterior variance at the row, "ipv" the posterior variance a measurement there removes,
    averaged over the integration points M (k x d), "igs" the smallest product of input and output distances to
    the GP's training points (module docstring)."""
    import numpy as np
    import torch

    X = np.array(X, dtype=float)  # a copy: torch refuses read-only arrays (pool.encoded)
    total = np.zeros(len(X))
    M_t = torch.tensor(np.asarray(M, dtype=float), dtype=torch.float64)
    for gp in gps:
        train_x, train_y = gp.model.train_inputs[0], gp.model.train_targets
        for start in range(0, len(X), SCORE_CHUNK):
            rows = torch.as_tensor(X[start : start + SCORE_CHUNK], dtype=torch.float64)
            mean, variance = gp.moments(rows)
            if acquisition == "igs":
                inputs = torch.cdist(rows, train_x)  # chunk x n
                outputs = (mean.unsqueeze(-1) - train_y.unsqueeze(0)).abs()
                total[start : start + len(rows)] += (inputs * outputs).min(dim=1).values.numpy()
                continue
            if acquisition == "variance":
                total[start : start + len(rows)] += variance.numpy()
                continue
            cross = gp.posterior_covariance(M_t, rows)  # k x chunk
            reduction = (cross * cross).mean(0) / (variance + gp.noise)
            total[start : start + len(rows)] += reduction.numpy()
    return total


def _perturbed(space: SearchSpace, starts: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """``LOCAL_POINTS`` points near the rows ``starts`` (k x d, model coordinates): Gaussian steps of the scales
    ``LOCAL_SCALES``, decoded to lab units (rounded, snapped, renormalised); those the space refuses are left out."""
    import numpy as np

    rng = np.random.default_rng(seed)
    picks = starts[rng.integers(len(starts), size=LOCAL_POINTS)]
    scales = rng.choice(LOCAL_SCALES, size=(LOCAL_POINTS, 1))
    moved = np.clip(picks + scales * rng.standard_normal(picks.shape), 0.0, 1.0)
    kept = []
    for point in space.decode(moved):
        try:
            kept.append(space.validate(point))
        except ValidationError:
            continue
    return kept
