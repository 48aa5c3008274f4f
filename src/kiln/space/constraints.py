"""Constraints across parameters: composition groups (parts summing to a total) and linear inequalities."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.core.errors import ValidationError
from kiln.space.parameters import (
    YAML_BOOLEAN,
    check_finite,
    check_name,
    check_precision,
    check_unit,
    quote_hint,
)

_RELATIVE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Composition:
    """A group of parts that sum to ``total`` (e.g. percentages summing to 100), each within its bounds.

    ``bounds`` maps a part to (low, high); parts without an entry may range over [0, total]. The parts become
    parameters of the space under their own names. ``unit`` labels every part (e.g. '%', 'µL'); ``precision`` is
    the step every part is set to (a multiple of it, e.g. 0.5 µL): suggestions are rounded so that the parts stay
    within their bounds and still sum to the total, which must itself be a multiple of the precision.
    """

    name: str
    parts: tuple[str, ...]
    total: float = 100.0
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    unit: str = ""
    precision: float | None = None
    encoding: str = "fractions"
    elements: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        check_name(self.name, "composition")
        if isinstance(self.parts, str) or not isinstance(self.parts, Sequence) or len(self.parts) < 2:
            raise ValidationError(
                f"composition '{self.name}': parts",
                self.parts,
                "at least two part names are required",
                "list the parts",
            )
        parts = tuple(check_name(p, "part") for p in self.parts)
        if len(set(parts)) != len(parts):
            raise ValidationError(
                f"composition '{self.name}': parts", list(parts), "each part may appear once", "remove duplicates"
            )
        total = check_finite(f"composition '{self.name}': total", self.total)
        if total <= 0:
            raise ValidationError(f"composition '{self.name}': total", total, "the total must be > 0", "e.g. 100 or 1")
        unknown = [k for k in self.bounds if isinstance(k, bool) or k not in parts]
        if unknown:
            raise ValidationError(
                f"composition '{self.name}': bounds",
                unknown,
                f"bounds may name only the parts {list(parts)}",
                "fix the names",
            )
        bounds: dict[str, tuple[float, float]] = {}
        for part in parts:
            raw = self.bounds.get(part, (0.0, total))
            if isinstance(raw, str) or not isinstance(raw, Sequence) or len(raw) != 2:
                raise ValidationError(
                    f"composition '{self.name}': bounds[{part}]", raw, "a pair [low, high] is required", "e.g. [0, 50]"
                )
            low = check_finite(f"composition '{self.name}': bounds[{part}]", raw[0])
            high = check_finite(f"composition '{self.name}': bounds[{part}]", raw[1])
            if not 0 <= low < high <= total:
                raise ValidationError(
                    f"composition '{self.name}': bounds[{part}]",
                    [low, high],
                    f"0 <= low < high <= total ({total:g}) is required",
                    "fix the pair",
                )
            bounds[part] = (low, high)
        if sum(b[0] for b in bounds.values()) > total or sum(b[1] for b in bounds.values()) < total:
            raise ValidationError(
                f"composition '{self.name}': bounds",
                bounds,
                f"no mixture fits: the lower bounds must sum to at most {total:g} and the upper bounds to at least it",
                "loosen the bounds",
            )
        object.__setattr__(self, "parts", parts)
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "unit", check_unit(f"composition '{self.name}': unit", self.unit))
        object.__setattr__(self, "precision", self._checked_precision())
        self._resolve_encoding()

    def _checked_precision(self) -> float | None:
        """The precision, if the total is a multiple of it and a mixture of multiples fits the bounds."""
        where = f"composition '{self.name}': precision"
        step = check_precision(where, self.precision, 0.0, self.total)
        if step is None:
            return None
        units = self.total / step
        if abs(units - round(units)) > 1e-9 * max(1.0, units):
            raise ValidationError(
                where, step, f"the total ({self.total:g}) must be a multiple of the precision", "choose a precision"
            )
        lowest = sum(math.ceil(low / step - 1e-9) for low, _ in self.bounds.values())
        highest = sum(math.floor(high / step + 1e-9) for _, high in self.bounds.values())
        if not lowest <= round(units) <= highest:
            raise ValidationError(
                where, step, "no mixture of multiples of it fits the bounds and sums to the total", "choose a finer one"
            )
        for part, (low, high) in self.bounds.items():
            check_precision(f"{where} (part '{part}')", step, low, high)
        return step

    def check(self, values: Mapping[str, Any]) -> None:
        """Raise ValidationError unless the parts (already validated one by one) sum to the total."""
        given = sum(values[p] for p in self.parts)
        if not math.isclose(given, self.total, rel_tol=_RELATIVE_TOLERANCE, abs_tol=1e-9):
            raise ValidationError(
                f"composition '{self.name}'",
                {p: values[p] for p in self.parts},
                f"the parts must sum to {self.total:g} (they sum to {given:g})",
                "rescale the parts so that they add up to the total",
            )

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "name": self.name,
            "parts": list(self.parts),
            "total": self.total,
            "bounds": {k: list(v) for k, v in self.bounds.items()},
        }
        if self.unit:
            config["unit"] = self.unit
        if self.precision is not None:
            config["precision"] = self.precision
        if self.encoding != "fractions":
            config.update(encoding=self.encoding, elements=dict(self.elements))
        return config

    def _resolve_encoding(self) -> None:
        """Check ``encoding`` and, for "elements", find (or check the stored) elemental properties of the parts."""
        where = f"composition '{self.name}': encoding"
        if self.encoding not in ("fractions", "elements"):
            raise ValidationError(
                where, self.encoding, "fractions (default) or elements", "e.g. encoding: elements for Ni, Fe, Co"
            )
        if self.encoding == "fractions":
            object.__setattr__(self, "elements", None)
            return
        from kiln.space.encodings import check_element_block, element_block_config, element_symbols

        if self.elements is None:
            symbols = element_symbols(where, self.parts)
            if len(set(symbols.values())) < 2:
                raise ValidationError(
                    where,
                    symbols,
                    "encoding 'elements' needs parts of at least two different elements",
                    "name each part after its own element, or use encoding: fractions",
                )
            object.__setattr__(self, "elements", element_block_config(symbols))
            return
        block = check_element_block(f"composition '{self.name}': elements", self.elements, self.parts)
        object.__setattr__(self, "elements", block)


@dataclass(frozen=True)
class LinearConstraint:
    """sum_i coefficients[i] * x_i  (<= or >=)  rhs, over continuous parameters or composition parts."""

    coefficients: Mapping[str, float]
    rhs: float
    op: str = "<="

    def __post_init__(self) -> None:
        if not isinstance(self.coefficients, Mapping) or not self.coefficients:
            raise ValidationError(
                "constraint: coefficients",
                self.coefficients,
                "a map parameter -> coefficient is required",
                "e.g. {x: 1, y: 2}",
            )
        if any(isinstance(k, bool) for k in self.coefficients):
            raise ValidationError(
                "constraint: coefficients",
                list(self.coefficients),
                f"keys are parameter names: {YAML_BOOLEAN}",
                quote_hint("coefficients: {'on': 1, x: 2}"),
            )
        coefficients = {str(k): check_finite(f"constraint: coefficients[{k}]", v) for k, v in self.coefficients.items()}
        if self.op not in ("<=", ">="):
            raise ValidationError("constraint: op", self.op, "allowed operators are '<=' and '>='", "use one of them")
        object.__setattr__(self, "coefficients", coefficients)
        object.__setattr__(self, "rhs", check_finite("constraint: rhs", self.rhs))

    @property
    def description(self) -> str:
        terms = " + ".join(f"{c:g}*{n}" for n, c in self.coefficients.items())
        return f"{terms} {self.op} {self.rhs:g}"

    def holds(self, values: Mapping[str, Any]) -> bool:
        lhs = sum(c * float(values[n]) for n, c in self.coefficients.items())
        slack = 1e-9 * max(1.0, abs(self.rhs), *(abs(c) for c in self.coefficients.values()))
        return lhs <= self.rhs + slack if self.op == "<=" else lhs >= self.rhs - slack

    def check(self, values: Mapping[str, Any]) -> None:
        if not self.holds(values):
            raise ValidationError(
                f"constraint '{self.description}'",
                {n: values[n] for n in self.coefficients},
                "the values break this linear constraint",
                "choose values that satisfy it",
            )

    def to_config(self) -> dict[str, Any]:
        return {"coefficients": dict(self.coefficients), "op": self.op, "rhs": self.rhs}
