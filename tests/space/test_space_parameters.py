"""Unit tests of kiln.space.parameters: names, numbers, the four parameter kinds and their configs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.space.parameters import (
    PARAMETER_KINDS,
    Categorical,
    Continuous,
    Discrete,
    Integer,
    check_finite,
    check_name,
)


def _message(error: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(error.value)


# ---------------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["", " x", "x ", "a" * 121, "a\nb", "x\n", 3, None])
def test_bad_parameter_names_are_rejected_and_named(name: object) -> None:
    with pytest.raises(ValidationError) as error:
        Continuous(name, 0, 1)  # type: ignore[arg-type]
    assert _message(error).startswith("parameter name: got ")
    assert repr(name) in _message(error)


@pytest.mark.parametrize("name", ["x", "a" * 120, "temperature (°C)", "T_1 inner"])
def test_good_parameter_names_are_kept(name: str) -> None:
    assert Continuous(name, 0, 1).name == name


def test_check_name_uses_what_in_the_field() -> None:
    with pytest.raises(ValidationError, match=r"^target name: got ''"):
        check_name("", "target")
    assert check_name("yield", "target") == "yield"


# -------------------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1.0), (-2.5, -2.5), ("3.5", 3.5), (np.float32(0.5), 0.5), (np.int64(7), 7.0)]
)
def test_check_finite_accepts_numbers(value: object, expected: float) -> None:
    result = check_finite("f", value)
    assert result == expected
    assert type(result) is float


@pytest.mark.parametrize(
    ("value", "shown", "words"),
    [
        (float("nan"), "nan", "NaN and infinite values are not allowed"),
        (float("inf"), "inf", "NaN and infinite values are not allowed"),
        (float("-inf"), "-inf", "NaN and infinite values are not allowed"),
        ("nan", "nan", "NaN and infinite values are not allowed"),
        ("abc", "'abc'", "a number is required"),
        (None, "None", "a number is required"),
        ([1.0], "[1.0]", "a number is required"),
    ],
)
def test_check_finite_rejects_with_field_and_value(value: object, shown: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_finite("my field", value)
    assert _message(error).startswith(f"my field: got {shown};")
    assert words in _message(error)
    assert error.value.field == "my field"


@pytest.mark.parametrize("value", [True, False])
def test_check_finite_rejects_bools(value: bool) -> None:
    with pytest.raises(ValidationError, match="my field"):
        check_finite("my field", value)


# ----------------------------------------------------------------------------------------------- continuous
def test_continuous_coerces_bounds_to_float() -> None:
    p = Continuous("x", "1", 5)  # type: ignore[arg-type]
    assert (p.low, p.high) == (1.0, 5.0)
    assert type(p.low) is float and type(p.high) is float


@pytest.mark.parametrize(
    ("low", "high", "log", "field", "shown"),
    [
        (1, 1, False, "parameter 'x': bounds", "[1.0, 1.0]"),
        (2, 1, False, "parameter 'x': bounds", "[2.0, 1.0]"),
        (float("nan"), 1, False, "parameter 'x': low", "nan"),
        (0, float("inf"), False, "parameter 'x': high", "inf"),
        (0, "abc", False, "parameter 'x': high", "'abc'"),
        (0, 10, True, "parameter 'x': low", "0.0"),
        (-1, 10, True, "parameter 'x': low", "-1.0"),
    ],
)
def test_continuous_bad_bounds(low: object, high: object, log: bool, field: str, shown: str) -> None:
    with pytest.raises(ValidationError) as error:
        Continuous("x", low, high, log=log)  # type: ignore[arg-type]
    assert _message(error).startswith(f"{field}: got {shown}")
    if log:
        assert "log-scale" in _message(error)


def test_continuous_validate_inside_and_at_bounds() -> None:
    p = Continuous("x", 0, 10)
    assert p.validate(2.5) == 2.5
    assert p.validate("7") == 7.0
    assert p.validate(0) == 0.0
    # a hair outside (relative 1e-12 of the span) is snapped onto the bound
    assert p.validate(10 + 1e-11) == 10.0
    assert p.validate(-1e-11) == 0.0


@pytest.mark.parametrize("value", [10.001, -0.5, 1e9])
def test_continuous_validate_outside(value: float) -> None:
    with pytest.raises(ValidationError) as error:
        Continuous("x", 0, 10).validate(value)
    assert _message(error).startswith(f"parameter 'x': got {value!r}")
    assert "[0, 10]" in _message(error)


@pytest.mark.parametrize("value", [float("nan"), "hot", None])
def test_continuous_validate_not_a_number(value: object) -> None:
    with pytest.raises(ValidationError, match=r"^parameter 'x': got "):
        Continuous("x", 0, 10).validate(value)


def test_continuous_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Continuous("x", 0, 1).low = 3  # type: ignore[misc]


# -------------------------------------------------------------------------------------------------- integer
def test_integer_accepts_whole_floats_and_stores_ints() -> None:
    p = Integer("n", 1.0, 5)  # type: ignore[arg-type]
    assert (p.low, p.high) == (1, 5)
    assert type(p.low) is int


@pytest.mark.parametrize(
    ("low", "high", "field", "shown"),
    [
        (1.5, 5, "parameter 'n': low", "1.5"),
        (1, "5", "parameter 'n': high", "'5'"),
        (True, 5, "parameter 'n': low", "True"),
        (5, 5, "parameter 'n': bounds", "[5, 5]"),
        (6, 5, "parameter 'n': bounds", "[6, 5]"),
    ],
)
def test_integer_bad_bounds(low: object, high: object, field: str, shown: str) -> None:
    with pytest.raises(ValidationError) as error:
        Integer("n", low, high)  # type: ignore[arg-type]
    assert _message(error).startswith(f"{field}: got {shown}")


@pytest.mark.parametrize("high", [float("inf"), float("nan")])
def test_integer_non_finite_bound_is_a_validation_error(high: float) -> None:
    with pytest.raises(ValidationError, match="parameter 'n': high"):
        Integer("n", 0, high)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [(3, 3), (3.0, 3), ("4", 4), (0, 0), (5, 5)])
def test_integer_validate_good(value: object, expected: int) -> None:
    result = Integer("n", 0, 5).validate(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", [2.5, 6, -1, float("nan"), "x"])
def test_integer_validate_bad(value: object) -> None:
    with pytest.raises(ValidationError) as error:
        Integer("n", 0, 5).validate(value)
    assert _message(error).startswith(f"parameter 'n': got {value!r}")


def test_integer_validate_names_the_allowed_range() -> None:
    with pytest.raises(ValidationError, match=r"integers 0\.\.5"):
        Integer("n", 0, 5).validate(2.5)


# ------------------------------------------------------------------------------------------------- discrete
def test_discrete_sorts_and_dedupes_levels() -> None:
    p = Discrete("t", (1.4, 0.7, 1.05, 0.7))
    assert p.values == (0.7, 1.05, 1.4)
    assert Discrete("t", [3, 1]).values == (1.0, 3.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "shown", "words"),
    [
        ("abc", "'abc'", "a list of numbers"),
        (5, "5", "a list of numbers"),
        ((1.0,), "[1.0]", "at least two distinct levels"),
        ((2, 2.0), "[2, 2.0]", "at least two distinct levels"),
        ((1, float("nan")), "nan", "NaN"),
        ((1, "a"), "'a'", "a number is required"),
    ],
)
def test_discrete_bad_values(values: object, shown: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        Discrete("t", values)  # type: ignore[arg-type]
    assert _message(error).startswith(f"parameter 't': values: got {shown}")
    assert words in _message(error)


def test_discrete_validate_snaps_to_close_level_only() -> None:
    p = Discrete("t", (0.7, 1.05, 1.4))
    assert p.validate(1.05 + 1e-13) == 1.05
    assert p.validate("1.4") == 1.4
    with pytest.raises(ValidationError) as error:
        p.validate(1.0)
    assert _message(error).startswith("parameter 't': got 1.0")
    assert "[0.7, 1.05, 1.4]" in _message(error)


# ---------------------------------------------------------------------------------------------- categorical
def test_categorical_turns_choices_into_strings() -> None:
    p = Categorical("s", [1, "b"])  # type: ignore[arg-type]
    assert p.choices == ("1", "b")
    assert p.validate(1) == "1"
    assert p.validate("b") == "b"


@pytest.mark.parametrize(
    ("choices", "shown", "words"),
    [
        ("ab", "'ab'", "a list of names"),
        (("a",), "['a']", "at least two distinct choices"),
        (("a", "a"), "['a', 'a']", "at least two distinct choices"),
        ((1, "1"), "[1, '1']", "at least two distinct choices"),
    ],
)
def test_categorical_bad_choices(choices: object, shown: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        Categorical("s", choices)  # type: ignore[arg-type]
    assert _message(error).startswith(f"parameter 's': choices: got {shown}")
    assert words in _message(error)


@pytest.mark.parametrize("value", ["d", True, None, 1.5, ["a"]])
def test_categorical_validate_rejects_unknown(value: object) -> None:
    with pytest.raises(ValidationError) as error:
        Categorical("s", ("a", "b", "c")).validate(value)
    assert _message(error).startswith(f"parameter 's': got {value!r}")
    assert "['a', 'b', 'c']" in _message(error)


def test_categorical_error_lists_at_most_twenty_choices() -> None:
    p = Categorical("s", tuple(f"c{i}" for i in range(30)))
    with pytest.raises(ValidationError) as error:
        p.validate("zzz")
    assert "'c19', '...'" in _message(error)
    assert "c20" not in _message(error)


def test_categorical_descriptors_are_checked_and_stored_as_float_tuples() -> None:
    p = Categorical("s", ("a", "b"), {"a": [1, 2], "b": ("3", 4.5)})  # type: ignore[dict-item]
    assert p.descriptors == {"a": (1.0, 2.0), "b": (3.0, 4.5)}


@pytest.mark.parametrize(
    ("descriptors", "field", "words"),
    [
        ({"a": (1,)}, "parameter 's': descriptors", "missing ['b']"),
        ({"a": (1,), "b": (2,), "z": (3,)}, "parameter 's': descriptors", "unknown ['z']"),
        ({}, "parameter 's': descriptors", "missing ['a', 'b']"),
        ({"a": (1, 2), "b": (3,)}, "parameter 's': descriptors", "same non-zero length"),
        ({"a": (), "b": ()}, "parameter 's': descriptors", "same non-zero length"),
        ({"a": (1, float("nan")), "b": (1, 2)}, "parameter 's': descriptors[a]", "NaN"),
    ],
)
def test_categorical_bad_descriptors(descriptors: dict[str, tuple[float, ...]], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        Categorical("s", ("a", "b"), descriptors)
    assert _message(error).startswith(f"{field}: got ")
    assert words in _message(error)


def test_categorical_ragged_descriptor_error_shows_lengths() -> None:
    with pytest.raises(ValidationError, match=r"got \{'a': 2, 'b': 1\}"):
        Categorical("s", ("a", "b"), {"a": (1, 2), "b": (3,)})


def test_categorical_scalar_descriptor_row_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"descriptors"):
        Categorical("s", ("a", "b"), {"a": 1.0, "b": 2.0})  # type: ignore[dict-item]


# --------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("parameter", "config"),
    [
        (Continuous("x", 0, 2), {"name": "x", "type": "continuous", "low": 0.0, "high": 2.0, "log": False}),
        (
            Continuous("x", 1, 100, log=True),
            {"name": "x", "type": "continuous", "low": 1.0, "high": 100.0, "log": True},
        ),
        (Integer("n", 1, 4), {"name": "n", "type": "integer", "low": 1, "high": 4}),
        (Discrete("t", (2, 1)), {"name": "t", "type": "discrete", "values": [1.0, 2.0]}),
        (
            Categorical("s", ("a", "b")),
            {
                "name": "s",
                "type": "categorical",
                "choices": ["a", "b"],
                "encoding": "auto",
                "encoded": {"kind": "onehot", "requested": "auto"},
            },
        ),
        (
            Categorical("s", ("a", "b"), {"a": (1,), "b": (2,)}),
            {"name": "s", "type": "categorical", "choices": ["a", "b"], "descriptors": {"a": [1.0], "b": [2.0]}},
        ),
    ],
)
def test_to_config(parameter: object, config: dict[str, object]) -> None:
    assert parameter.to_config() == config  # type: ignore[attr-defined]
    assert PARAMETER_KINDS[config["type"]] is type(parameter)  # type: ignore[index]
