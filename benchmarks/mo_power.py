"""Experiment: `kiln bench pool` with each quantity's GP of the multi-objective strategy fitted on Yeo-Johnson
transformed values, as the one-target default fits its utility (``transform: power``).

The multi-objective strategy models every target and constrained quantity in lab units (standardised). Skewed
quantities (a turnover number over orders of magnitude, conversions piled up at 100 %) then fit a stationary GP
badly. This experiment standardises each quantity's values, fits a Yeo-Johnson exponent to them (scipy's
``yeojohnson``, maximum likelihood), standardises the result and fits Kiln's GP on that; posterior samples are
mapped back through the exact inverse, so the acquisitions see lab units as before. It is not a Kiln setting: it
replaces ``kiln.models.model_list.fit_model_list`` for this process only. Run with ``--jobs 1`` (worker processes
would not see the replacement):

    .venv/bin/python benchmarks/mo_power.py bench pool --dataset suzuki-ii --budget 40 --runs 20 -s kiln \
        --jobs 1 --out ii-power.json

Every argument after the script's name goes to ``kiln``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import yeojohnson

import kiln.models.model_list as model_list
from kiln.models.model_list import FittedModelList

MIN_POINTS = 3
"""Fewer values than this are modelled as they are (the exponent is not identified), as ``kiln.models.warping``."""


@dataclass(frozen=True)
class Warp:
    """y (lab units) -> w: z = (y - centre) / scale, t = yeojohnson(z, power), w = (t - mean) / spread."""

    centre: float
    scale: float
    power: float
    mean: float
    spread: float

    def inverse(self, w: torch.Tensor) -> torch.Tensor:
        """w (any shape) -> y in lab units, elementwise; bases below 1e-12 are clamped (far tails)."""
        t = w * self.spread + self.mean
        lam = self.power
        positive = t >= 0
        tp, tn = t.clamp_min(0.0), t.clamp_max(0.0)
        up = torch.expm1(tp) if abs(lam) < 1e-9 else (tp * lam + 1.0).clamp_min(1e-12) ** (1.0 / lam) - 1.0
        flip = 2.0 - lam
        down = -torch.expm1(-tn) if abs(flip) < 1e-9 else 1.0 - (1.0 - flip * tn).clamp_min(1e-12) ** (1.0 / flip)
        z = torch.where(positive, up, down)
        return z * self.scale + self.centre


def fit_warp(y: np.ndarray) -> Warp | None:
    """The transform of values y (n,), or None where they are modelled as they are."""
    if len(y) < MIN_POINTS or float(np.ptp(y)) <= 0.0:
        return None
    centre, scale = float(y.mean()), float(y.std())
    t, power = yeojohnson((y - centre) / scale)
    if not np.isfinite(t).all() or float(np.ptp(t)) <= 0.0:
        return None
    return Warp(centre, scale, float(power), float(t.mean()), float(t.std()))


@dataclass(frozen=True)
class WarpedModelList(FittedModelList):
    """A FittedModelList whose GP i models ``warps[i]`` of its quantity (None: the values themselves)."""

    warps: tuple[Warp | None, ...] = ()
    lab_stds: tuple[float, ...] = ()

    def raw(self, samples: torch.Tensor) -> torch.Tensor:
        w = super().raw(samples)
        columns = [w[..., i] if warp is None else warp.inverse(w[..., i]) for i, warp in enumerate(self.warps)]
        return torch.stack(columns, dim=-1)

    @property
    def stds(self) -> tuple[float, ...]:
        return self.lab_stds


ORIGINAL = model_list.fit_model_list


def fit_warped_model_list(
    columns: Sequence[tuple[np.ndarray, np.ndarray]], names: Sequence[str], **options: Any
) -> FittedModelList:
    warps = [fit_warp(np.asarray(y, dtype=float)) for _, y in columns]
    warped = []
    for (X, y), warp in zip(columns, warps, strict=True):
        y = np.asarray(y, dtype=float)
        if warp is not None:
            t = yeojohnson((y - warp.centre) / warp.scale, lmbda=warp.power)
            y = (t - warp.mean) / warp.spread
        warped.append((X, y))
    fitted = ORIGINAL(warped, names, **options)
    lab_stds = []
    for (_, y), gp in zip(columns, fitted.gps, strict=True):
        spread = float(np.std(y))
        lab_stds.append(spread if spread > 0 else gp.y_std)
    return WarpedModelList(fitted.gps, fitted.names, tuple(warps), tuple(lab_stds))


def main() -> None:
    from kiln.cli.app import main as kiln

    model_list.fit_model_list = fit_warped_model_list  # type: ignore[assignment]
    sys.argv = ["kiln", *sys.argv[1:]]
    kiln()


if __name__ == "__main__":
    main()
