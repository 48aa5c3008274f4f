"""Rounding a point to what an instrument can set: multiples of each parameter's ``precision``.

Rounding keeps every rule of the space: a value stays inside its bounds (the nearest multiple that lies in them),
a composition's parts still sum exactly to its total (largest-remainder rounding in units of its precision), and
linear constraints still hold (a rounded point that breaks one is moved step by step to the nearest grid point
that satisfies them all; when there is none nearby, the point is left as it was).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Continuous, Parameter

_EPS = 1e-9
_REPAIR_STEPS = 200


def decimals(step: float) -> int:
    """Decimal places of a step written in the shortest form: 0.1 -> 1, 0.25 -> 2, 5 -> 0."""
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def on_grid(units: int, step: float) -> float:
    """``units * step`` without binary noise (3 * 0.1 -> 0.3)."""
    return round(units * step, decimals(step) + 2) if step < 1 else float(units * step)


def grid_range(low: float, high: float, step: float) -> tuple[int, int]:
    """The first and last multiple of ``step`` (in units of it) inside [low, high]."""
    return math.ceil(low / step - _EPS), math.floor(high / step + _EPS)


def round_value(value: float, parameter: Continuous) -> float:
    """The multiple of the parameter's precision nearest ``value`` inside its bounds."""
    step = parameter.precision
    if step is None:
        return value
    first, last = grid_range(parameter.low, parameter.high, step)
    return on_grid(min(max(round(value / step), first), last), step)


def round_composition(values: Mapping[str, float], group: Composition) -> dict[str, float]:
    """The parts as multiples of the group's precision, inside their bounds and summing exactly to the total:
    each part is floored, and the units still missing go to the parts with the largest remainders."""
    step = group.precision
    if step is None:
        return {p: float(values[p]) for p in group.parts}
    total_units = round(group.total / step)
    ranges = {p: grid_range(*group.bounds[p], step) for p in group.parts}
    exact = {p: float(values[p]) / step for p in group.parts}
    units = {p: min(max(math.floor(exact[p] + _EPS), ranges[p][0]), ranges[p][1]) for p in group.parts}
    missing = total_units - sum(units.values())
    while missing != 0:
        if missing > 0:
            order = sorted(group.parts, key=lambda p: units[p] - exact[p])  # furthest below its exact value first
            movable = [p for p in order if units[p] < ranges[p][1]]
        else:
            order = sorted(group.parts, key=lambda p: exact[p] - units[p])
            movable = [p for p in order if units[p] > ranges[p][0]]
        if not movable:  # cannot happen: the composition checked that a mixture on the grid fits
            break
        for part in movable[: abs(missing)]:
            units[part] += 1 if missing > 0 else -1
        missing = total_units - sum(units.values())
    return {p: on_grid(units[p], step) for p in group.parts}


def snap_point(
    point: Mapping[str, Any],
    parameters: Sequence[Parameter],
    compositions: Sequence[Composition],
    constraints: Sequence[LinearConstraint],
) -> dict[str, Any]:
    """``point`` rounded to the precisions of ``parameters`` and ``compositions`` (see the module docstring)."""
    snapped = dict(point)
    in_groups = {part for group in compositions for part in group.parts}
    for parameter in parameters:
        if isinstance(parameter, Continuous) and parameter.precision is not None and parameter.name not in in_groups:
            snapped[parameter.name] = round_value(float(snapped[parameter.name]), parameter)
    for group in compositions:
        if group.precision is not None:
            snapped.update(round_composition(snapped, group))
    if all(c.holds(snapped) for c in constraints):
        return snapped
    repaired = _repair(snapped, parameters, compositions, constraints)
    return repaired if repaired is not None else dict(point)


def _violation(point: Mapping[str, Any], constraints: Sequence[LinearConstraint]) -> float:
    total = 0.0
    for c in constraints:
        lhs = sum(k * float(point[n]) for n, k in c.coefficients.items())
        total += max(0.0, lhs - c.rhs) if c.op == "<=" else max(0.0, c.rhs - lhs)
    return total


def _moves(
    point: Mapping[str, Any], parameters: Sequence[Parameter], compositions: Sequence[Composition]
) -> list[dict[str, float]]:
    """Single grid steps from ``point``: one free parameter up or down, or one unit moved between two parts."""
    in_groups = {part for group in compositions for part in group.parts}
    moves: list[dict[str, float]] = []
    for parameter in parameters:
        step = parameter.precision if isinstance(parameter, Continuous) else None
        if step is None or parameter.name in in_groups:
            continue
        assert isinstance(parameter, Continuous)
        first, last = grid_range(parameter.low, parameter.high, step)
        here = round(float(point[parameter.name]) / step)
        moves += [{parameter.name: on_grid(u, step)} for u in (here - 1, here + 1) if first <= u <= last]
    for group in compositions:
        step = group.precision
        if step is None:
            continue
        units = {p: round(float(point[p]) / step) for p in group.parts}
        ranges = {p: grid_range(*group.bounds[p], step) for p in group.parts}
        for give in group.parts:
            for take in group.parts:
                if give != take and units[give] > ranges[give][0] and units[take] < ranges[take][1]:
                    moves.append({give: on_grid(units[give] - 1, step), take: on_grid(units[take] + 1, step)})
    return moves


def _repair(
    point: dict[str, Any],
    parameters: Sequence[Parameter],
    compositions: Sequence[Composition],
    constraints: Sequence[LinearConstraint],
) -> dict[str, Any] | None:
    """Greedy steps on the grid that lower the constraints' violation until all hold; None if they stall."""
    current = dict(point)
    for _ in range(_REPAIR_STEPS):
        if all(c.holds(current) for c in constraints):
            return current
        now = _violation(current, constraints)
        best, best_violation = None, now
        for move in _moves(current, parameters, compositions):
            candidate = {**current, **move}
            violation = _violation(candidate, constraints)
            if violation < best_violation - 1e-15:
                best, best_violation = candidate, violation
        if best is None:
            return None
        current = best
    return current if all(c.holds(current) for c in constraints) else None
