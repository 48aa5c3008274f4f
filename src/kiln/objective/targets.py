"""Targets (measured quantities to optimise) and outcome constraints (measured quantities held to a bound).

Both turn a raw measurement into a number with one sign convention, written with ``+ - * abs`` only so that the
same function applies unchanged to a float, a numpy array or a torch tensor (strategies apply it to posterior
samples):

- ``Target.score(y)``: larger is better (max -> y; min -> -y; range inside -> minus the distance to the window;
  range centre -> minus the distance to the window's middle);
- ``OutcomeConstraint.slack(y)``: the amount of violation, <= 0 when satisfied (BoTorch's convention).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.core.errors import SpecError, ValidationError
from kiln.space.parameters import YAML_BOOLEAN, check_finite, check_name, check_unit


class Direction(enum.StrEnum):
    MAXIMIZE = "max"
    MINIMIZE = "min"
    RANGE = "range"


_DIRECTION_WORDS = {
    "max": Direction.MAXIMIZE,
    "maximize": Direction.MAXIMIZE,
    "maximise": Direction.MAXIMIZE,
    "min": Direction.MINIMIZE,
    "minimize": Direction.MINIMIZE,
    "minimise": Direction.MINIMIZE,
    "range": Direction.RANGE,
}

PREFERENCES = ("inside", "centre")
"""What counts as good inside a range target's window: anywhere inside equally, or closer to the middle."""

_PREFER_WORDS = {"inside": "inside", "centre": "centre", "center": "centre"}


def relu(x: Any) -> Any:
    """max(x, 0) written as (x + |x|) / 2: the same on floats, numpy arrays and torch tensors."""
    return (x + abs(x)) / 2


@dataclass(frozen=True)
class Target:
    """A measured quantity to optimise.

    Attributes:
        name: the quantity's name, the key of the results map.
        direction: ``max``, ``min`` or ``range`` (a window ``[low, high]`` in raw units, ``low < high``).
        unit: label for tables and plots.
        low, high: the window of a range target (None for max/min).
        prefer: for a range target, ``inside`` (every value inside the window is equally good) or ``centre``
            (closer to the middle is better).
        weight: > 0, the target's exponent share in the weighted desirability (``scalarisation: desirability``).
        priority: 1, 2, ... the target's rank in a priority order (``scalarisation: priority``; 1 comes first).
        tolerance: >= 0, in the target's raw units: how far below its best observed value a target may be and still
            count as good enough for the next target in the priority order to count (None: 0).
    """

    name: str
    direction: Direction = Direction.MAXIMIZE
    unit: str = ""
    low: float | None = None
    high: float | None = None
    prefer: str = "inside"
    weight: float = 1.0
    priority: int | None = None
    tolerance: float | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "target")
        label = f"target '{self.name}'"
        word = str(self.direction).lower()
        if word not in _DIRECTION_WORDS or isinstance(self.direction, bool):
            raise ValidationError(
                f"{label}: direction",
                self.direction,
                "allowed directions are 'max' and 'min' (or a window: target: [low, high])",
                "use one of them",
            )
        direction = _DIRECTION_WORDS[word]
        object.__setattr__(self, "direction", direction)
        object.__setattr__(self, "unit", check_unit(f"{label}: unit", self.unit))
        self._check_window(label, direction)
        object.__setattr__(self, "weight", _positive(f"{label}: weight", self.weight))
        if self.priority is not None and (
            isinstance(self.priority, bool) or not isinstance(self.priority, int) or self.priority < 1
        ):
            raise ValidationError(
                f"{label}: priority", self.priority, "a priority is a whole number >= 1 (1 comes first)", "e.g. 1"
            )
        if self.tolerance is not None:
            tolerance = check_finite(f"{label}: tolerance", self.tolerance)
            if tolerance < 0:
                raise ValidationError(
                    f"{label}: tolerance",
                    self.tolerance,
                    "a tolerance is a number >= 0 in the target's units",
                    "e.g. tolerance: 5",
                )
            object.__setattr__(self, "tolerance", tolerance)

    def _check_window(self, label: str, direction: Direction) -> None:
        prefer = _PREFER_WORDS.get(self.prefer) if isinstance(self.prefer, str) else None
        if prefer is None:
            raise ValidationError(f"{label}: prefer", self.prefer, f"allowed are {list(PREFERENCES)}", "use one")
        object.__setattr__(self, "prefer", prefer)
        if direction is not Direction.RANGE:
            if self.low is not None or self.high is not None:
                raise ValidationError(
                    f"{label}: target",
                    [self.low, self.high],
                    f"a window is for a range target, not one with direction {direction.value}",
                    "remove the direction or the window",
                )
            if prefer != "inside":
                raise ValidationError(
                    f"{label}: prefer", self.prefer, "prefer is for a range target (target: [low, high])", "remove it"
                )
            return
        if self.low is None or self.high is None:
            raise ValidationError(
                f"{label}: target",
                [self.low, self.high],
                "a range target needs a window [low, high]",
                "e.g. target: [80, 120]",
            )
        low, high = check_finite(f"{label}: low", self.low), check_finite(f"{label}: high", self.high)
        if not low < high:
            raise ValidationError(
                f"{label}: target", [self.low, self.high], "a window [low, high] needs low < high", "swap or widen it"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def score(self, y: Any) -> Any:
        """The maximisation-sense value of a raw measurement ``y`` (float, array or tensor; same shape back)."""
        if self.direction is Direction.MAXIMIZE:
            return y
        if self.direction is Direction.MINIMIZE:
            return -y
        assert self.low is not None and self.high is not None
        if self.prefer == "centre":
            return -abs(y - (self.low + self.high) / 2)
        return -(relu(self.low - y) + relu(y - self.high))

    def to_config(self) -> dict[str, Any]:
        """The spec form; only fields that differ from their defaults (a max/min target: {name, direction})."""
        config: dict[str, Any] = {"name": self.name}
        if self.direction is Direction.RANGE:
            config["target"] = [self.low, self.high]
            if self.prefer != "inside":
                config["prefer"] = self.prefer
        else:
            config["direction"] = self.direction.value
        if self.unit:
            config["unit"] = self.unit
        if self.weight != 1.0:
            config["weight"] = self.weight
        if self.priority is not None:
            config["priority"] = self.priority
        if self.tolerance is not None:
            config["tolerance"] = self.tolerance
        return config


CONSTRAINT_OPS = (">=", "<=")


@dataclass(frozen=True)
class OutcomeConstraint:
    """A measured quantity that is not optimised but must stay on one side of a bound, e.g. ``stability >= 0.9``.

    An experiment that breaks one is an observation (completed, infeasible), not a failure.
    """

    name: str
    op: str
    bound: float
    unit: str = ""

    def __post_init__(self) -> None:
        check_name(self.name, "constraint")
        label = f"constraint '{self.name}'"
        if self.op not in CONSTRAINT_OPS:
            raise ValidationError(
                f"{label}: op", self.op, f"allowed are {list(CONSTRAINT_OPS)}", "e.g. stability >= 0.9"
            )
        object.__setattr__(self, "bound", check_finite(f"{label}: bound", self.bound))
        object.__setattr__(self, "unit", check_unit(f"{label}: unit", self.unit))

    def slack(self, y: Any) -> Any:
        """Amount of violation of a raw measurement ``y``: <= 0 when satisfied (">=": bound - y; "<=": y - bound)."""
        if self.op == ">=":
            return self.bound - y
        return y - self.bound

    def satisfied(self, y: float) -> bool:
        return bool(self.slack(float(y)) <= 0)

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.bound:g}"

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "op": self.op, "bound": self.bound}
        return {**config, "unit": self.unit} if self.unit else config


# ------------------------------------------------------------------------------------------- spec forms
_TARGET_FIELDS = ("name", "direction", "target", "prefer", "unit", "weight", "priority", "tolerance")
_CONSTRAINT_TEXT = re.compile(r"^\s*(?P<name>.+?)\s*(?P<op>>=|<=|=>|=<|>|<|==|=)\s*(?P<bound>\S+)\s*$")


def target_from_config(raw: Any, field: str) -> Target:
    """A Target from ``{name, direction: max|min}`` or ``{name, target: [low, high], prefer: inside|centre}``,
    each with optional unit, weight, priority, tolerance."""
    if not isinstance(raw, Mapping) or "name" not in raw:
        raise SpecError(
            field,
            raw,
            "a target is a map with a name and a direction or a window",
            "e.g. {name: yield, direction: max} or {name: size, target: [80, 120]}",
        )
    unknown = sorted(str(k) for k in raw if k not in _TARGET_FIELDS)
    if unknown:
        raise SpecError(field, unknown, f"a target's fields are {list(_TARGET_FIELDS)}", "remove the others")
    window = raw.get("target")
    low = high = None
    direction = raw.get("direction", "range" if window is not None else "max")
    if window is not None:
        if not isinstance(window, list | tuple) or len(window) != 2:
            raise SpecError(f"{field}.target", window, "a window is a list [low, high]", "e.g. target: [80, 120]")
        if str(direction).lower() != "range":
            raise SpecError(
                f"{field}.direction",
                direction,
                "a target with a window [low, high] has no max/min direction",
                "remove the direction or the window",
            )
        low, high = window
    elif str(direction).lower() == "range":
        raise SpecError(f"{field}.target", None, "a range target needs a window [low, high]", "add target: [80, 120]")
    if isinstance(raw.get("prefer"), bool):
        raise SpecError(f"{field}.prefer", raw["prefer"], YAML_BOOLEAN, "use prefer: inside or prefer: centre")
    return Target(
        raw["name"],
        direction,
        raw.get("unit", ""),
        low=low,
        high=high,
        prefer=raw.get("prefer", "inside"),
        weight=raw.get("weight", 1.0),
        priority=raw.get("priority"),
        tolerance=raw.get("tolerance"),
    )


def constraint_from_config(raw: Any, field: str) -> OutcomeConstraint:
    """An OutcomeConstraint from the text form ``"stability >= 0.9"`` or the map ``{name, op, bound, unit}``."""
    if isinstance(raw, str):
        match = _CONSTRAINT_TEXT.match(raw)
        if match is None or match["op"] not in CONSTRAINT_OPS:
            raise SpecError(
                field,
                raw,
                "a constraint reads NAME >= NUMBER or NAME <= NUMBER",
                "e.g. 'stability >= 0.9' (strict < and > and = are not offered: use <= or >=)",
            )
        bound: Any = match["bound"]
        try:
            bound = float(bound)
        except ValueError:
            raise SpecError(f"{field}: bound", bound, "a number is required", "e.g. 'stability >= 0.9'") from None
        return OutcomeConstraint(match["name"], match["op"], bound)
    if isinstance(raw, Mapping):
        unknown = sorted(str(k) for k in raw if k not in ("name", "op", "bound", "unit"))
        missing = [k for k in ("name", "op", "bound") if k not in raw]
        if unknown or missing:
            raise SpecError(
                field,
                dict(raw),
                "a constraint map has name, op ('>=' or '<='), bound and optionally unit",
                f"missing {missing}, unknown {unknown}",
            )
        return OutcomeConstraint(raw["name"], raw["op"], raw["bound"], raw.get("unit", ""))
    raise SpecError(field, raw, "a constraint is text 'NAME >= NUMBER' or a map {name, op, bound}", "e.g. 'cost <= 3'")


def _positive(field: str, value: Any) -> float:
    number = check_finite(field, value)
    if number <= 0:
        raise ValidationError(field, value, "a weight is a number > 0", "e.g. weight: 2")
    return number
