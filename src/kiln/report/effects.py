"""What the model believes about each parameter, and where no experiment has been.

Partial dependence (Friedman 2001): for each value v of parameter p on a grid, the model's mean averaged over a
reference set of points (``REFERENCE`` random points of the space, or pool rows) with p set to v (the other parts
of p's composition rescaled in proportion, so every point keeps the group's total). The band is the average of
the model's std over the same points: an upper bound of the std of the average (the std of a mean is at most the
mean of the stds), so the band is conservative.

A parameter's effect is "cannot tell yet" when the partial dependence moves less (max - min) than twice its band
(the average band std). The experiments that would help follow the rule that the band shrinks like 1 / sqrt(n):
the effect would clear twice the band after n * (2 * band / effect)^2 experiments in all; without any visible
effect the count is capped at ``CAP_FACTOR`` times the experiments so far, and stated as "at least".

Never-sampled regions: each numeric parameter's range cut into ``BINS`` equal bins (equal on a log scale for log
parameters; a discrete parameter's levels, an integer's values when there are at most ``BINS``), with a pool only
bins that hold candidates; the bins (and categories) that no finished experiment (completed or failed) used. One
experiment in each would help.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.records import Experiment, ExperimentStatus
from kiln.report.question import unit_of
from kiln.report.surrogate import TargetModel
from kiln.space.config import Domain
from kiln.space.constraints import Composition
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.strategies.profile import grid_along

REFERENCE = 40
"""Reference points the partial dependence averages over."""

GRID = 25
"""Grid values of a numeric parameter."""

BINS = 5
"""Bins of a numeric parameter's range for never-sampled regions."""

CAP_FACTOR = 3
"""Without a visible effect: at least this many times the experiments so far would be needed."""


@dataclass(frozen=True)
class Effect:
    """The partial dependence of the modelled target on one parameter.

    Attributes:
        parameter / unit: the parameter and its unit label.
        values: the grid (m,), lab units (numbers or category names).
        mean / band: partial dependence and its band (m,), target units (see the module docstring).
        size: max - min of ``mean``, target units.
        established: whether ``size`` is at least twice the average band.
        more_experiments: for an effect not established, the experiments in all that the 1 / sqrt(n) rule says
            would establish it (None when established); ``at_least``: it is the cap (no visible effect).
        experiments: the experiments the model learned from (n).
    """

    parameter: str
    unit: str
    values: list[Any]
    mean: list[float]
    band: list[float]
    size: float
    established: bool
    more_experiments: int | None
    at_least: bool
    experiments: int

    @property
    def average_band(self) -> float:
        return sum(self.band) / len(self.band) if self.band else 0.0


@dataclass(frozen=True)
class Unsampled:
    """Regions of one parameter no finished experiment used: ``ranges`` ((low, high) in lab units) of a numeric
    parameter, or ``categories`` never tried; ``more_experiments``: one in each."""

    parameter: str
    unit: str
    ranges: list[tuple[float, float]]
    categories: list[str]

    @property
    def more_experiments(self) -> int:
        return len(self.ranges) + len(self.categories)


def reference_points(domain: Domain, *, seed: int) -> list[dict[str, Any]]:
    """The points a partial dependence averages over: random points of a space, or pool rows (up to
    ``REFERENCE`` of each, chosen with ``seed``)."""
    import numpy as np

    from kiln.space.sampling import sample_points

    if isinstance(domain, CandidatePool):
        rng = np.random.default_rng(seed)
        keys = rng.choice(len(domain), size=min(REFERENCE, len(domain)), replace=False)
        return [domain.row(int(k)) for k in sorted(keys)]
    return sample_points(domain, REFERENCE, seed=seed)


def partial_dependence(model: TargetModel, parameter: str, *, seed: int = 0) -> Effect:
    """The partial dependence of ``model``'s target on ``parameter`` (module docstring)."""
    import numpy as np

    domain = model.domain
    grid = grid_along(domain, parameter, GRID)
    reference = reference_points(domain, seed=seed)
    group = _composition_of(domain, parameter)
    rows = [_with(point, parameter, value, group) for value in grid for point in reference]
    mean, std = model.predict(rows)
    mean = mean.reshape(len(grid), len(reference)).mean(axis=1)
    band = std.reshape(len(grid), len(reference)).mean(axis=1)
    size = float(mean.max() - mean.min())
    average = float(band.mean())
    n = len(model.experiments)
    established = size >= 2 * average
    more, at_least = None, False
    if not established:
        cap = CAP_FACTOR * n
        needed = cap if size <= 0 else math.ceil(n * (2 * average / size) ** 2)
        more, at_least = (cap, True) if needed >= cap else (max(needed, n + 1), False)
    return Effect(
        parameter=parameter,
        unit=unit_of(parameter, domain.units.get(parameter, "")),
        values=list(grid),
        mean=np.asarray(mean).tolist(),
        band=np.asarray(band).tolist(),
        size=size,
        established=bool(established),
        more_experiments=more,
        at_least=at_least,
        experiments=n,
    )


def unsampled_regions(domain: Domain, experiments: Sequence[Experiment]) -> list[Unsampled]:
    """Per parameter, the bins and categories no finished experiment used (module docstring); parameters with
    none left out."""
    finished = [
        e for e in experiments if not e.retracted and e.status in (ExperimentStatus.COMPLETED, ExperimentStatus.FAILED)
    ]
    found: list[Unsampled] = []
    for name in domain.names:
        used = [e.params[name] for e in finished if name in e.params]
        unit = unit_of(name, domain.units.get(name, ""))
        categories, edges = _levels(domain, name)
        if categories is not None:
            missing = [c for c in categories if c not in {str(v) for v in used}]
            if missing:
                found.append(Unsampled(name, unit, [], missing))
            continue
        values = [float(v) for v in used]
        empty = [(low, high) for low, high, holds in edges if holds and not any(low <= v <= high for v in values)]
        if empty:
            found.append(Unsampled(name, unit, empty, []))
    return found


def _levels(domain: Domain, name: str) -> tuple[list[str] | None, list[tuple[float, float, bool]]]:
    """(categories, None-like []) for a categorical parameter, else (None, bins as (low, high, holds candidates))."""
    import numpy as np

    if isinstance(domain, CandidatePool):
        j = domain.columns.index(name)
        column = [row[j] for row in domain.rows]
        if not domain.numeric[j]:
            return sorted({str(v) for v in column}), []
        numbers = [float(v) for v in column]
        distinct = sorted(set(numbers))
        if len(distinct) <= BINS:
            return None, [(v, v, True) for v in distinct]
        cuts = np.linspace(min(numbers), max(numbers), BINS + 1)
        return None, [(float(a), float(b), any(a <= v <= b for v in numbers)) for a, b in itertools.pairwise(cuts)]
    spec = domain.by_name[name]
    if isinstance(spec, Categorical):
        return list(spec.choices), []
    if isinstance(spec, Discrete):
        return None, [(float(v), float(v), True) for v in sorted(spec.values)]
    if isinstance(spec, Integer) and spec.high - spec.low + 1 <= BINS:
        return None, [(float(v), float(v), True) for v in range(spec.low, spec.high + 1)]
    assert isinstance(spec, Continuous | Integer)
    log = isinstance(spec, Continuous) and spec.log
    cuts = np.geomspace(spec.low, spec.high, BINS + 1) if log else np.linspace(spec.low, spec.high, BINS + 1)
    return None, [(float(a), float(b), True) for a, b in itertools.pairwise(cuts)]


def _composition_of(domain: Domain, parameter: str) -> Composition | None:
    if isinstance(domain, CandidatePool):
        return None
    return next((g for g in domain.compositions if parameter in g.parts), None)


def _with(point: Mapping[str, Any], parameter: str, value: Any, group: Composition | None) -> dict[str, Any]:
    """``point`` with ``parameter`` at ``value``; the other parts of its composition rescaled in proportion."""
    changed = {**point, parameter: value}
    if group is None:
        return changed
    others = [p for p in group.parts if p != parameter]
    held = sum(float(point[p]) for p in others)
    left = group.total - float(value)
    for part in others:
        changed[part] = left * float(point[part]) / held if held > 0 else left / len(others)
    return changed
