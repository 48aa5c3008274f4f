"""Parameter kinds of a design space: continuous, integer, discrete numeric levels, categorical.

Each is a frozen value validated when built; an error names the parameter, the value, what is allowed and how to
fix it. Values are in lab units; ``kiln.space.search_space`` maps them to model coordinates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kiln.core.errors import ValidationError
from kiln.space.encodings import Encoding, check_encoding, resolve

_NAME = re.compile(r"^[^\s].{0,119}$")

YAML_BOOLEAN = "text is required, not true/false (YAML reads an unquoted yes, no, on, off, true or false as true/false)"
"""What is allowed where a boolean arrived in place of text: usually an unquoted word in a YAML spec."""


def quote_hint(example: str) -> str:
    """How to fix a boolean that should have been text: quote it in the spec."""
    return f"quote it in the spec, e.g. {example}"


def check_name(name: Any, what: str = "parameter") -> str:
    """A parameter or target name: a non-empty string of at most 120 characters, not starting with space."""
    if isinstance(name, bool):
        raise ValidationError(f"{what} name", name, YAML_BOOLEAN, quote_hint("name: 'on'"))
    if not isinstance(name, str) or not _NAME.match(name) or name != name.strip():
        raise ValidationError(
            f"{what} name", name, "a name is 1-120 characters without leading or trailing spaces", "rename it"
        )
    return name


def check_finite(field_name: str, value: Any) -> float:
    """``value`` as a finite float, or ValidationError naming ``field_name``."""
    if isinstance(value, bool):
        raise ValidationError(field_name, value, "a number is required, not true/false", "give a finite number")
    if not isinstance(value, int | float):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValidationError(field_name, value, "a number is required", "give a finite number") from None
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValidationError(field_name, value, "NaN and infinite values are not allowed", "give a finite number")
    return number


def check_unit(field_name: str, unit: Any) -> str:
    """A unit label (e.g. '°C', 'µL', 'mg/mL'): text of at most 40 characters, '' for none."""
    if isinstance(unit, bool):
        raise ValidationError(field_name, unit, YAML_BOOLEAN, quote_hint("unit: 'on'"))
    if not isinstance(unit, str) or len(unit) > 40 or unit != unit.strip() or not unit.isprintable():
        raise ValidationError(
            field_name, unit, "a unit is text of at most 40 printable characters", "e.g. unit: '°C' or unit: µL"
        )
    return unit


def check_precision(field_name: str, precision: Any, low: float, high: float) -> float | None:
    """A precision (the step an instrument can set, e.g. 0.1 for a pipette): a finite number > 0 with a multiple
    of it inside [low, high]; None for none."""
    if precision is None:
        return None
    step = check_finite(field_name, precision)
    if step <= 0:
        raise ValidationError(field_name, precision, "a precision is a number > 0", "e.g. precision: 0.1")
    if math.ceil(low / step - 1e-9) > math.floor(high / step + 1e-9):
        raise ValidationError(
            field_name,
            precision,
            f"no multiple of {step:g} lies in [{low:g}, {high:g}]",
            "choose a finer precision or wider bounds",
        )
    return step


def unit_label(name: str, unit: str) -> str:
    """A column header or axis title: the name with its unit, e.g. 'temperature [°C]' (the name alone without)."""
    return f"{name} [{unit}]" if unit else name


def check_point_keys(params: Any, names: Sequence[str], what: str) -> None:
    """Raise ValidationError unless ``params`` is a map with exactly the keys ``names`` (of ``what``)."""
    if not isinstance(params, Mapping):
        raise ValidationError("parameters", params, f"a map of {what} name -> value is required", "")
    missing = [n for n in names if n not in params]
    unknown = [k for k in params if k not in set(names)]
    if missing or unknown:
        raise ValidationError(
            "parameters",
            sorted(map(str, params)),
            f"exactly the {what}s are required (missing {missing}, unknown {unknown})",
            f"give values for {list(names)}",
        )


INTEGER_MAX = 2**53
"""Largest bound of an integer parameter: every integer up to it is a distinct float."""


def _span_error(name: str, low: float, high: float) -> ValidationError:
    """The error for a continuous range too wide for floating point (``high - low`` overflows)."""
    return ValidationError(
        f"parameter '{name}': bounds",
        [low, high],
        "the range high - low must be a finite number (below about 1.8e308)",
        "narrow the bounds, or rescale the parameter (e.g. a unit of 1e100)",
    )


@dataclass(frozen=True)
class Continuous:
    """A real-valued parameter in [low, high]; with ``log=True`` it is modelled on a log scale (low > 0).

    ``unit`` labels its values in tables and plots (e.g. '°C'); ``precision`` is the step an instrument can set
    (e.g. 0.1 for a pipette): suggestions are rounded to multiples of it inside the bounds
    (``SearchSpace.snap``); values given by hand (imports) need not be multiples.
    """

    name: str
    low: float
    high: float
    log: bool = False
    unit: str = ""
    precision: float | None = None
    kind: ClassVar[str] = "continuous"

    def __post_init__(self) -> None:
        check_name(self.name)
        low = check_finite(f"parameter '{self.name}': low", self.low)
        high = check_finite(f"parameter '{self.name}': high", self.high)
        if low >= high:
            raise ValidationError(
                f"parameter '{self.name}': bounds", [low, high], "low must be below high", "swap or widen them"
            )
        if not isinstance(self.log, bool):
            raise ValidationError(
                f"parameter '{self.name}': log", self.log, "true or false is required", "write log: true or log: false"
            )
        if self.log and low <= 0:
            raise ValidationError(
                f"parameter '{self.name}': low",
                low,
                "a log-scale parameter needs low > 0",
                "raise low above zero or set log: false",
            )
        if not math.isfinite(high - low):
            raise _span_error(self.name, low, high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        object.__setattr__(self, "unit", check_unit(f"parameter '{self.name}': unit", self.unit))
        step = check_precision(f"parameter '{self.name}': precision", self.precision, low, high)
        object.__setattr__(self, "precision", step)

    def validate(self, value: Any) -> float:
        """``value`` as a float inside the bounds, or ValidationError."""
        number = check_finite(f"parameter '{self.name}'", value)
        tolerance = 1e-9 * (self.high - self.low)
        if not self.low - tolerance <= number <= self.high + tolerance:
            raise ValidationError(
                f"parameter '{self.name}'",
                value,
                f"allowed values lie in [{self.low:g}, {self.high:g}]",
                "give a value inside the bounds or widen them in the spec",
            )
        return min(max(number, self.low), self.high)

    def to_config(self) -> dict[str, Any]:
        config = {"name": self.name, "type": self.kind, "low": self.low, "high": self.high, "log": self.log}
        return _with_unit(config, self.unit, self.precision)


@dataclass(frozen=True)
class Integer:
    """An integer parameter in [low, high], both included."""

    name: str
    low: int
    high: int
    unit: str = ""
    kind: ClassVar[str] = "integer"

    def __post_init__(self) -> None:
        check_name(self.name)
        for label, value in (("low", self.low), ("high", self.high)):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or float(value) != int(value)
            ):
                raise ValidationError(
                    f"parameter '{self.name}': {label}", value, "an integer is required", "give a whole number"
                )
        if int(self.low) >= int(self.high):
            raise ValidationError(
                f"parameter '{self.name}': bounds",
                [self.low, self.high],
                "low must be below high",
                "swap or widen them",
            )
        if max(abs(int(self.low)), abs(int(self.high))) > INTEGER_MAX:
            raise ValidationError(
                f"parameter '{self.name}': bounds",
                [self.low, self.high],
                f"integer bounds lie within +-{INTEGER_MAX} (2**53: beyond it, neighbouring integers are the same "
                "number to a model)",
                "narrow the bounds, or use a continuous parameter",
            )
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))
        object.__setattr__(self, "unit", check_unit(f"parameter '{self.name}': unit", self.unit))

    def validate(self, value: Any) -> int:
        number = check_finite(f"parameter '{self.name}'", value)
        if number != round(number) or not self.low <= number <= self.high:
            raise ValidationError(
                f"parameter '{self.name}'",
                value,
                f"allowed values are the integers {self.low}..{self.high}",
                "give a whole number inside the bounds",
            )
        return round(number)

    def to_config(self) -> dict[str, Any]:
        return _with_unit({"name": self.name, "type": self.kind, "low": self.low, "high": self.high}, self.unit)


@dataclass(frozen=True)
class Discrete:
    """A numeric parameter restricted to given levels, e.g. thickness in {0.7, 1.05, 1.4}."""

    name: str
    values: tuple[float, ...]
    unit: str = ""
    kind: ClassVar[str] = "discrete"

    def __post_init__(self) -> None:
        check_name(self.name)
        if isinstance(self.values, str | bytes) or not isinstance(self.values, Sequence):
            raise ValidationError(
                f"parameter '{self.name}': values", self.values, "a list of numbers is required", "list the levels"
            )
        levels = sorted({check_finite(f"parameter '{self.name}': values", v) for v in self.values})
        if len(levels) < 2:
            raise ValidationError(
                f"parameter '{self.name}': values",
                list(self.values),
                "at least two distinct levels are required",
                "add levels, or leave a fixed value out of the space",
            )
        object.__setattr__(self, "values", tuple(levels))
        object.__setattr__(self, "unit", check_unit(f"parameter '{self.name}': unit", self.unit))

    def validate(self, value: Any) -> float:
        number = check_finite(f"parameter '{self.name}'", value)
        for level in self.values:
            if math.isclose(number, level, rel_tol=1e-9, abs_tol=1e-12):
                return level
        raise ValidationError(
            f"parameter '{self.name}'",
            value,
            f"allowed levels are {list(self.values)}",
            "give one of the levels or add it to the spec",
        )

    def to_config(self) -> dict[str, Any]:
        return _with_unit({"name": self.name, "type": self.kind, "values": list(self.values)}, self.unit)


@dataclass(frozen=True)
class Categorical:
    """A choice among named categories (solvent, ligand, ...).

    How the model sees the choices (``kiln.space.encodings``): ``descriptors`` maps each category to a numeric
    vector of the user's own (each column min-max scaled); otherwise ``encoding`` says: "auto" (default;
    RDKit descriptors when every choice is a molecule, elemental properties when every choice is a formula, else
    one-hot), "onehot", "descriptors", "fingerprints" or "elements". ``smiles`` maps choice names to the SMILES of
    their molecules (default: each choice is its own SMILES). ``encoded`` is the stored result (a campaign's
    configuration keeps it, so that reopening never recomputes it); without it the encoding is computed here.
    """

    name: str
    choices: tuple[str, ...]
    descriptors: Mapping[str, tuple[float, ...]] | None = field(default=None)
    encoding: str = "auto"
    smiles: Mapping[str, str] | None = field(default=None)
    encoded: Any = field(default=None, compare=False)
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        check_name(self.name)
        if isinstance(self.choices, str | bytes) or not isinstance(self.choices, Sequence):
            raise ValidationError(
                f"parameter '{self.name}': choices", self.choices, "a list of names is required", "list the choices"
            )
        booleans = [c for c in self.choices if isinstance(c, bool)]
        if booleans:
            raise ValidationError(
                f"parameter '{self.name}': choices",
                list(self.choices),
                f"names of choices are {YAML_BOOLEAN}",
                quote_hint("choices: ['yes', 'no']"),
            )
        choices = tuple(str(c) for c in self.choices)
        if len(choices) < 2 or len(set(choices)) != len(choices):
            raise ValidationError(
                f"parameter '{self.name}': choices",
                list(self.choices),
                "at least two distinct choices are required",
                "list each choice once",
            )
        object.__setattr__(self, "choices", choices)
        where = f"parameter '{self.name}'"
        check_encoding(f"{where}: encoding", self.encoding)
        if self.smiles is not None:
            object.__setattr__(self, "smiles", self._checked_smiles(choices))
        if self.descriptors is not None:
            if self.encoding not in ("auto", "descriptors") or self.smiles is not None:
                raise ValidationError(
                    f"{where}: descriptors",
                    "given",
                    f"a table of your own is the encoding; it cannot go with encoding {self.encoding!r} or smiles",
                    "remove descriptors, or the encoding and smiles fields",
                )
            object.__setattr__(self, "descriptors", self._checked_descriptors(choices))
            object.__setattr__(self, "encoded", None)
        elif isinstance(self.encoded, Encoding):  # given in Python: checked against the choices as a stored one
            checked = Encoding.from_config(f"{where}: encoded", self.encoded.to_config(), choices)
            object.__setattr__(self, "encoded", checked)
        elif self.encoded is not None:
            object.__setattr__(self, "encoded", Encoding.from_config(f"{where}: encoded", self.encoded, choices))
        else:
            object.__setattr__(self, "encoded", resolve(where, choices, self.encoding, self.smiles))

    def _checked_smiles(self, choices: tuple[str, ...]) -> dict[str, str]:
        where = f"parameter '{self.name}': smiles"
        if not isinstance(self.smiles, Mapping):
            raise ValidationError(where, self.smiles, "a map from each choice to its SMILES", "e.g. {water: O}")
        if any(isinstance(k, bool) for k in self.smiles):
            raise ValidationError(
                where, list(self.smiles), f"keys are the choices: {YAML_BOOLEAN}", quote_hint("smiles: {'no': O}")
            )
        if self.encoding == "elements":
            raise ValidationError(
                where,
                "given",
                "smiles are read by encoding auto, descriptors or fingerprints; elements reads the choices as formulas",
                "remove smiles, or choose one of those encodings",
            )
        table = {str(k): v for k, v in self.smiles.items()}
        missing = [c for c in choices if c not in table]
        extra = [k for k in table if k not in choices]
        if missing or extra:
            raise ValidationError(
                where,
                sorted(table),
                f"one SMILES per choice is required (missing {missing}, unknown {extra})",
                "give a SMILES for every choice and no other",
            )
        bad = [c for c in choices if not isinstance(table[c], str) or not table[c].strip()]
        if bad:
            raise ValidationError(where, bad, "each SMILES is a non-empty text", "quote each SMILES")
        return {c: table[c].strip() for c in choices}

    @property
    def width(self) -> int:
        """Model columns of this parameter."""
        if self.descriptors is not None:
            return len(next(iter(self.descriptors.values())))
        assert isinstance(self.encoded, Encoding)
        return self.encoded.width(len(self.choices))

    @property
    def resolved_encoding(self) -> str:
        """The encoding in use: "descriptors" (a table of the user's own, or computed), "onehot", ..."""
        if self.descriptors is not None:
            return "descriptors"
        assert isinstance(self.encoded, Encoding)
        return self.encoded.kind

    def describe_encoding(self) -> str:
        """One line: the encoding and how many model columns the parameter became."""
        if self.descriptors is not None:
            return f"descriptors of your own: {self.width} columns"
        assert isinstance(self.encoded, Encoding)
        return self.encoded.describe(len(self.choices))

    def _checked_descriptors(self, choices: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
        assert self.descriptors is not None
        if any(isinstance(k, bool) for k in self.descriptors):
            raise ValidationError(
                f"parameter '{self.name}': descriptors",
                list(self.descriptors),
                f"keys are the choices: {YAML_BOOLEAN}",
                quote_hint("descriptors: {'yes': [0.1], 'no': [0.2]}"),
            )
        table = {str(k): v for k, v in dict(self.descriptors).items()}
        missing = [c for c in choices if c not in table]
        extra = [k for k in table if k not in choices]
        if missing or extra:
            raise ValidationError(
                f"parameter '{self.name}': descriptors",
                sorted(table),
                f"one descriptor row per choice is required (missing {missing}, unknown {extra})",
                "give a row for every choice and no other",
            )
        rows = {}
        for choice in choices:
            raw = table[choice]
            if isinstance(raw, str | bytes) or not isinstance(raw, Sequence):
                raise ValidationError(
                    f"parameter '{self.name}': descriptors[{choice}]",
                    raw,
                    "a list of numbers is required",
                    "e.g. [0.1, 2.0]",
                )
            rows[choice] = tuple(check_finite(f"parameter '{self.name}': descriptors[{choice}]", v) for v in raw)
        widths = {len(r) for r in rows.values()}
        if len(widths) != 1 or 0 in widths:
            raise ValidationError(
                f"parameter '{self.name}': descriptors",
                {c: len(r) for c, r in rows.items()},
                "every descriptor row needs the same non-zero length",
                "give each choice the same descriptors",
            )
        if len(set(rows.values())) != len(rows):
            raise ValidationError(
                f"parameter '{self.name}': descriptors",
                {c: list(r) for c, r in rows.items()},
                "each choice needs a distinct descriptor row (identical rows cannot be told apart)",
                "add a descriptor that separates them",
            )
        return rows

    def validate(self, value: Any) -> str:
        text = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
        if text is None or text not in self.choices:
            shown = list(self.choices[:20]) + (["..."] if len(self.choices) > 20 else [])
            raise ValidationError(
                f"parameter '{self.name}'",
                value,
                f"allowed choices are {shown}",
                "use one of them or add it to the spec",
            )
        return text

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "type": self.kind, "choices": list(self.choices)}
        if self.descriptors is not None:
            config["descriptors"] = {k: list(v) for k, v in self.descriptors.items()}
            return config
        assert isinstance(self.encoded, Encoding)
        config["encoding"] = self.encoding
        if self.smiles is not None:
            config["smiles"] = dict(self.smiles)
        config["encoded"] = self.encoded.to_config()
        return config


def _with_unit(config: dict[str, Any], unit: str, precision: float | None = None) -> dict[str, Any]:
    """``config`` with ``unit`` and ``precision`` when they are set (stored configurations stay as they were)."""
    if unit:
        config["unit"] = unit
    if precision is not None:
        config["precision"] = precision
    return config


Parameter = Continuous | Integer | Discrete | Categorical
PARAMETER_KINDS: dict[str, type[Continuous] | type[Integer] | type[Discrete] | type[Categorical]] = {
    "continuous": Continuous,
    "integer": Integer,
    "discrete": Discrete,
    "categorical": Categorical,
}
