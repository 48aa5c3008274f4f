"""The map of a ``goal: map`` campaign as a report draws it: the model's mean and std over the space or the pool.

The view plots two numeric parameters against each other (the first two of the space; with one numeric
parameter, that parameter against the second one's absence is not a map, so one numeric parameter gives no view).
Points: every pool row (a fixed subsample of ``POINTS`` for larger pools), or ``POINTS`` random feasible points of
a space (``kiln.space.sampling.sample_points``), so compositions and linear constraints hold at every point drawn
and the other parameters vary over the sample rather than being pinned. Mean and std are the report model's
(``kiln.report.surrogate``: the latent function, target units).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.records import Experiment
from kiln.report.question import unit_of
from kiln.report.surrogate import TargetModel
from kiln.space.config import Domain
from kiln.space.parameters import Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool

POINTS = 1500
"""Points a map view draws (pool rows or random points of the space)."""


@dataclass(frozen=True)
class MapView:
    """One target's map over two numeric parameters.

    Attributes:
        target / unit: the target and its unit.
        xname / yname, xunit / yunit: the two parameters drawn and their units.
        points: what the points are, in words ("pool candidates", "random points of the space").
        x / y: the points' parameter values (m,), lab units; mean / std: the model's there (m,), target units.
        measured_x / measured_y: the measured experiments' values of the two parameters (n,).
    """

    target: str
    unit: str
    xname: str
    yname: str
    xunit: str
    yunit: str
    points: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    measured_x: tuple[float, ...]
    measured_y: tuple[float, ...]


def numeric_names(domain: Domain) -> list[str]:
    """The names of the domain's numeric parameters (continuous, integer, discrete), in order."""
    if isinstance(domain, CandidatePool):
        return [c for c, numeric in zip(domain.columns, domain.numeric, strict=True) if numeric]
    return [p.name for p in domain.parameters if isinstance(p, Continuous | Integer | Discrete)]


def map_view(model: TargetModel, domain: Domain, experiments: Sequence[Experiment], *, seed: int) -> MapView | None:
    """The view of ``model``'s target (module docstring); None with fewer than two numeric parameters."""
    import numpy as np

    names = numeric_names(domain)
    if len(names) < 2:
        return None
    xname, yname = names[0], names[1]
    points: list[dict[str, Any]]
    if isinstance(domain, CandidatePool):
        rows = np.arange(len(domain))
        if len(rows) > POINTS:
            rows = np.sort(np.random.default_rng(seed).choice(len(domain), POINTS, replace=False))
        points = [domain.row(int(r)) for r in rows]
        mean, std = model.predict_encoded(np.asarray(domain.encoded)[rows])
        what = "pool candidates" if len(rows) == len(domain) else f"pool candidates (of {len(domain)})"
    else:
        from kiln.space.sampling import sample_points

        points = sample_points(domain, POINTS, seed=seed)
        mean, std = model.predict(points)
        what = "random points of the space"
    measured = model.experiments
    units = domain.units
    return MapView(
        target=model.target.name,
        unit=unit_of(model.target.name, model.target.unit),
        xname=xname,
        yname=yname,
        xunit=unit_of(xname, units.get(xname, "")),
        yunit=unit_of(yname, units.get(yname, "")),
        points=what,
        x=tuple(float(p[xname]) for p in points),
        y=tuple(float(p[yname]) for p in points),
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        measured_x=tuple(float(e.params[xname]) for e in measured),
        measured_y=tuple(float(e.params[yname]) for e in measured),
    )
