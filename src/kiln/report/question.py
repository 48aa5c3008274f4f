"""What a campaign asked: its space or pool, parameters with units, targets and directions, constraints, budget.

Everything here is read from the campaign's configuration and its record of experiments; nothing is computed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.objective.targets import Direction, Target
from kiln.space.config import Domain
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool


@dataclass(frozen=True)
class ParameterFact:
    """One parameter: ``name``, ``kind`` (continuous, integer, discrete, categorical, or pool column), the values
    allowed in words (``allowed``: "20 to 300", "3 levels: 1, 2, 4", "4 choices: ..."), and its ``unit``."""

    name: str
    kind: str
    allowed: str
    unit: str


@dataclass(frozen=True)
class TargetFact:
    """One target: ``name``, what is wanted in words (``wanted``: "as high as possible", "as low as possible",
    "inside 80 to 120"), and its ``unit``."""

    name: str
    wanted: str
    unit: str


@dataclass(frozen=True)
class Budget:
    """Experiments by state. ``planned``: the budget the spec set (None without one); ``total``: every
    experiment recorded, of any state; ``retracted``: kept in the record but counted nowhere else."""

    planned: int | None
    completed: int
    failed: int
    pending: int
    discarded: int
    retracted: int
    total: int


@dataclass(frozen=True)
class Question:
    """What the campaign asked. ``kind``: "space" or "pool"; ``pool_size``: the pool's candidates (None for a
    space); ``constraints``: outcome constraints and space constraints in words; ``description``: the spec's
    description (empty without one)."""

    name: str
    kind: str
    pool_size: int | None
    parameters: tuple[ParameterFact, ...]
    targets: tuple[TargetFact, ...]
    constraints: tuple[str, ...]
    budget: Budget
    description: str


def unit_of(name: str, unit: str) -> str:
    """The unit a report shows for ``name``: its declared ``unit``, else a trailing parenthesised part of the
    name ("Conductivity (measured) (S/cm)" -> "S/cm"), else none."""
    if unit:
        return unit
    found = re.search(r"\(([^()]+)\)\s*$", name)
    return found.group(1).strip() if found else ""


def plus_minus(value: float, spread: float) -> str:
    """``value ± spread`` with the spread to 2 significant figures and the value to the same decimal place
    ("700 ± 38", "0.123 ± 0.0045"); a zero or non-finite spread leaves the value at ``number``'s 4 figures."""
    if not math.isfinite(spread) or spread <= 0 or not math.isfinite(value):
        return f"{number(value)} ± {number(spread)}"
    places = 1 - math.floor(math.log10(spread))  # decimals that keep 2 significant figures of the spread
    if places <= 0:
        step = 10 ** (-places)
        return f"{round(value / step) * step:.0f} ± {round(spread / step) * step:.0f}"
    return f"{value:.{places}f} ± {spread:.{places}f}"


def number(value: float) -> str:
    """A number in at most 4 significant figures, no trailing zeros: 0.1234, 12.35, 1.2e+05."""
    return f"{value:.4g}"


MAPPED = "mapped everywhere (a good model of it across the whole space)"
"""What is wanted of a target of a ``goal: map`` campaign."""


def wanted(target: Target) -> str:
    if target.direction is Direction.MAXIMIZE:
        return "as high as possible"
    if target.direction is Direction.MINIMIZE:
        return "as low as possible"
    where = "near the middle of" if target.prefer == "centre" else "inside"
    return f"{where} {number(float(target.low or 0))} to {number(float(target.high or 0))}"


def _parameter(domain: Domain, name: str) -> ParameterFact:
    unit = unit_of(name, domain.units.get(name, ""))
    if isinstance(domain, CandidatePool):
        j = domain.columns.index(name)
        column = [row[j] for row in domain.rows]
        if domain.numeric[j]:
            numbers = [float(v) for v in column]
            return ParameterFact(name, "pool column", f"{number(min(numbers))} to {number(max(numbers))}", unit)
        names = sorted({str(v) for v in column})
        return ParameterFact(name, "pool column", f"{len(names)} choices", unit)
    spec: Any = domain.by_name[name]
    if isinstance(spec, Categorical):
        return ParameterFact(name, "categorical", f"{len(spec.choices)} choices: {', '.join(spec.choices)}", unit)
    if isinstance(spec, Discrete):
        levels = ", ".join(number(float(v)) for v in sorted(spec.values))
        return ParameterFact(name, "discrete", f"{len(spec.values)} levels: {levels}", unit)
    if isinstance(spec, Integer):
        return ParameterFact(name, "integer", f"{spec.low} to {spec.high}", unit)
    assert isinstance(spec, Continuous)
    scale = " (log scale)" if spec.log else ""
    return ParameterFact(name, "continuous", f"{number(spec.low)} to {number(spec.high)}{scale}", unit)


def _space_constraints(domain: Domain) -> list[str]:
    if isinstance(domain, CandidatePool):
        return []
    lines = [f"{' + '.join(g.parts)} = {number(g.total)}" for g in domain.compositions]
    lines += [str(c) for c in getattr(domain, "constraints", ())]
    return lines


def budget_of(experiments: Sequence[Experiment], planned: int | None) -> Budget:
    """The experiments by state (``Budget``)."""
    live = [e for e in experiments if not e.retracted]

    def count(status: ExperimentStatus) -> int:
        return sum(1 for e in live if e.status is status)

    return Budget(
        planned=planned,
        completed=count(ExperimentStatus.COMPLETED),
        failed=count(ExperimentStatus.FAILED),
        pending=count(ExperimentStatus.PENDING),
        discarded=count(ExperimentStatus.DISCARDED),
        retracted=len(experiments) - len(live),
        total=len(experiments),
    )


def question_of(
    name: str, domain: Domain, objective: Objective, experiments: Sequence[Experiment], extra: dict[str, Any]
) -> Question:
    """The ``Question`` of a campaign from its configuration (``extra``: the spec's budget and description)."""
    planned = extra.get("budget")
    pool = isinstance(domain, CandidatePool)
    return Question(
        name=name,
        kind="pool" if pool else "space",
        pool_size=len(domain) if isinstance(domain, CandidatePool) else None,
        parameters=tuple(_parameter(domain, n) for n in domain.names),
        targets=tuple(
            TargetFact(t.name, MAPPED if objective.is_map else wanted(t), unit_of(t.name, t.unit))
            for t in objective.targets
        ),
        constraints=tuple([str(c) for c in objective.constraints] + _space_constraints(domain)),
        budget=budget_of(experiments, planned if isinstance(planned, int) else None),
        description=str(extra.get("description", "")),
    )
