"""Targets and objectives.

An experiment reports its results as a map target name -> value. An Objective holds one or more Targets and turns
results into the scalar that strategies maximise (``utility``). Today an Objective has exactly one target; the
results map and the ``targets`` tuple are the shape that several targets and outcome constraints will extend.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.errors import SpecError, ValidationError
from kiln.space.parameters import check_finite, check_name, check_unit


class Direction(enum.StrEnum):
    MAXIMIZE = "max"
    MINIMIZE = "min"


_DIRECTION_WORDS = {
    "max": Direction.MAXIMIZE,
    "maximize": Direction.MAXIMIZE,
    "maximise": Direction.MAXIMIZE,
    "min": Direction.MINIMIZE,
    "minimize": Direction.MINIMIZE,
    "minimise": Direction.MINIMIZE,
}


@dataclass(frozen=True)
class Target:
    """A measured quantity and whether more or less of it is better; ``unit`` labels it in tables and plots."""

    name: str
    direction: Direction = Direction.MAXIMIZE
    unit: str = ""

    def __post_init__(self) -> None:
        check_name(self.name, "target")
        word = str(self.direction).lower()
        if word not in _DIRECTION_WORDS:
            raise ValidationError(
                f"target '{self.name}': direction",
                self.direction,
                "allowed directions are 'max' and 'min'",
                "use one of them",
            )
        object.__setattr__(self, "direction", _DIRECTION_WORDS[word])
        object.__setattr__(self, "unit", check_unit(f"target '{self.name}': unit", self.unit))

    def to_config(self) -> dict[str, Any]:
        config = {"name": self.name, "direction": self.direction.value}
        return {**config, "unit": self.unit} if self.unit else config


@dataclass(frozen=True)
class Objective:
    """The goal of a campaign: its targets (exactly one for now)."""

    targets: tuple[Target, ...]

    def __post_init__(self) -> None:
        targets = tuple(self.targets)
        if len(targets) != 1:
            raise ValidationError(
                "objective: targets",
                [t.name for t in targets],
                "exactly one target is supported",
                "keep one target; several targets arrive with multi-objective optimisation",
            )
        object.__setattr__(self, "targets", targets)

    @classmethod
    def maximize(cls, name: str) -> Objective:
        return cls((Target(name, Direction.MAXIMIZE),))

    @classmethod
    def minimize(cls, name: str) -> Objective:
        return cls((Target(name, Direction.MINIMIZE),))

    @property
    def target(self) -> Target:
        """The single target."""
        return self.targets[0]

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    @property
    def units(self) -> dict[str, str]:
        """Target name -> unit label, for the targets that declare one."""
        return {t.name: t.unit for t in self.targets if t.unit}

    def parse_results(self, value: float | Mapping[str, Any]) -> dict[str, float]:
        """A reported result -> {target: finite float}. A bare number is the value of the single target."""
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in self.names]
            missing = [n for n in self.names if n not in value]
            if unknown or missing:
                raise ValidationError(
                    "results",
                    dict(value),
                    f"values for exactly the targets {self.names} are required",
                    f"missing {missing}, unknown {unknown}",
                )
            return {name: check_finite(f"result '{name}'", value[name]) for name in self.names}
        return {self.target.name: check_finite(f"result '{self.target.name}'", value)}

    def utility(self, results: Mapping[str, float]) -> float:
        """The scalar to maximise: the target's value, negated when it is minimised."""
        value = float(results[self.target.name])
        return value if self.target.direction is Direction.MAXIMIZE else -value

    def best_index(self, results: Sequence[Mapping[str, float]]) -> int | None:
        """Index of the best of several results, or None when there are none."""
        if not results:
            return None
        return max(range(len(results)), key=lambda i: self.utility(results[i]))

    def to_config(self) -> dict[str, Any]:
        return {"targets": [t.to_config() for t in self.targets]}


def objective_from_config(config: Mapping[str, Any]) -> Objective:
    """An Objective from ``{targets: [{name, direction}]}`` or the short ``{target: NAME, direction: max}``."""
    if not isinstance(config, Mapping):
        raise SpecError("objective", config, "a map is required", "e.g. {target: yield, direction: max}")
    if "targets" in config:
        raw = config["targets"]
        if not isinstance(raw, list) or not all(isinstance(t, Mapping) and "name" in t for t in raw):
            raise SpecError("objective.targets", raw, "a list of {name, direction} is required", "fix the list")
        return Objective(tuple(Target(t["name"], t.get("direction", "max"), t.get("unit", "")) for t in raw))
    if "target" not in config:
        raise SpecError(
            "objective", dict(config), "a target name is required", "add target: NAME and direction: max|min"
        )
    unknown = sorted(set(config) - {"target", "direction", "unit"})
    if unknown:
        raise SpecError("objective", unknown, "fields are target, direction and unit", "remove the others")
    return Objective((Target(config["target"], config.get("direction", "max"), config.get("unit", "")),))
