"""Unit tests of kiln.space.constraints: Composition and LinearConstraint."""

from __future__ import annotations

import pytest

from kiln.core.errors import ValidationError
from kiln.space.constraints import Composition, LinearConstraint


# ------------------------------------------------------------------------------------------------ composition
def test_composition_defaults_bounds_to_zero_total() -> None:
    group = Composition("mix", ["a", "b", "c"], total=1, bounds={"a": [0.1, 0.5]})  # type: ignore[arg-type,dict-item]
    assert group.parts == ("a", "b", "c")
    assert group.total == 1.0 and type(group.total) is float
    assert group.bounds == {"a": (0.1, 0.5), "b": (0.0, 1.0), "c": (0.0, 1.0)}


@pytest.mark.parametrize(
    ("kwargs", "field", "shown", "words"),
    [
        ({"parts": "ab"}, "composition 'mix': parts", "'ab'", "at least two part names"),
        ({"parts": ("a",)}, "composition 'mix': parts", "('a',)", "at least two part names"),
        ({"parts": ("a", "a")}, "composition 'mix': parts", "['a', 'a']", "each part may appear once"),
        ({"parts": ("a", " b")}, "part name", "' b'", "1-120 characters"),
        ({"total": 0}, "composition 'mix': total", "0.0", "> 0"),
        ({"total": -5}, "composition 'mix': total", "-5.0", "> 0"),
        ({"total": float("nan")}, "composition 'mix': total", "nan", "NaN"),
        ({"bounds": {"z": (0, 1)}}, "composition 'mix': bounds", "['z']", "only the parts ['a', 'b']"),
        ({"bounds": {"a": (0, 1, 2)}}, "composition 'mix': bounds[a]", "(0, 1, 2)", "a pair [low, high]"),
        ({"bounds": {"a": "01"}}, "composition 'mix': bounds[a]", "'01'", "a pair [low, high]"),
        ({"bounds": {"a": (50, 50)}}, "composition 'mix': bounds[a]", "[50.0, 50.0]", "0 <= low < high <= total"),
        ({"bounds": {"a": (-1, 50)}}, "composition 'mix': bounds[a]", "[-1.0, 50.0]", "0 <= low < high"),
        ({"bounds": {"a": (0, 101)}}, "composition 'mix': bounds[a]", "[0.0, 101.0]", "total (100)"),
        ({"bounds": {"a": (0, float("inf"))}}, "composition 'mix': bounds[a]", "inf", "NaN"),
        (
            {"bounds": {"a": (60, 100), "b": (50, 100)}},
            "composition 'mix': bounds",
            "{'a': (60.0, 100.0)",
            "lower bounds must sum to at most 100",
        ),
        (
            {"bounds": {"a": (0, 40), "b": (0, 50)}},
            "composition 'mix': bounds",
            "{'a': (0.0, 40.0)",
            "upper bounds to at least it",
        ),
    ],
)
def test_composition_errors(kwargs: dict[str, object], field: str, shown: str, words: str) -> None:
    arguments: dict[str, object] = {"name": "mix", "parts": ("a", "b"), **kwargs}
    with pytest.raises(ValidationError) as error:
        Composition(**arguments)  # type: ignore[arg-type]
    message = str(error.value)
    assert message.startswith(f"{field}: got {shown}")
    assert words in message


def test_composition_bad_name() -> None:
    with pytest.raises(ValidationError, match=r"^composition name: got ''"):
        Composition("", ("a", "b"))


def test_composition_tight_but_feasible_bounds_are_accepted() -> None:
    group = Composition("mix", ("a", "b"), total=10, bounds={"a": (0, 4), "b": (6, 10)})
    assert group.bounds["b"] == (6.0, 10.0)


def test_composition_check_accepts_sums_within_relative_tolerance() -> None:
    group = Composition("mix", ("a", "b", "c"))
    group.check({"a": 20.0, "b": 30.0, "c": 50.0, "other": 7.0})
    group.check({"a": 20.0, "b": 30.0, "c": 50.0 + 5e-5})  # relative 5e-7


@pytest.mark.parametrize("c", [40.0, 50.001, 60.0])
def test_composition_check_rejects_wrong_sums(c: float) -> None:
    group = Composition("mix", ("a", "b", "c"))
    with pytest.raises(ValidationError) as error:
        group.check({"a": 20.0, "b": 30.0, "c": c})
    message = str(error.value)
    assert message.startswith(f"composition 'mix': got {{'a': 20.0, 'b': 30.0, 'c': {c!r}}}")
    assert "must sum to 100" in message
    assert f"they sum to {20 + 30 + c:g}" in message


def test_composition_to_config() -> None:
    group = Composition("mix", ("a", "b"), total=10, bounds={"a": (1, 9)})
    assert group.to_config() == {
        "name": "mix",
        "parts": ["a", "b"],
        "total": 10.0,
        "bounds": {"a": [1.0, 9.0], "b": [0.0, 10.0]},
    }


# ------------------------------------------------------------------------------------------ linear constraint
def test_linear_constraint_coerces_values() -> None:
    constraint = LinearConstraint({"x": 1, "y": "2"}, 3)  # type: ignore[dict-item]
    assert constraint.coefficients == {"x": 1.0, "y": 2.0}
    assert constraint.rhs == 3.0 and constraint.op == "<="
    assert constraint.description == "1*x + 2*y <= 3"


@pytest.mark.parametrize(
    ("args", "field", "shown"),
    [
        (({}, 1), "constraint: coefficients", "{}"),
        ((["x"], 1), "constraint: coefficients", "['x']"),
        (({"x": float("nan")}, 1), "constraint: coefficients[x]", "nan"),
        (({"x": "a"}, 1), "constraint: coefficients[x]", "'a'"),
        (({"x": 1}, 1, "<"), "constraint: op", "'<'"),
        (({"x": 1}, 1, "=="), "constraint: op", "'=='"),
        (({"x": 1}, float("inf")), "constraint: rhs", "inf"),
        (({"x": 1}, None), "constraint: rhs", "None"),
    ],
)
def test_linear_constraint_errors(args: tuple[object, ...], field: str, shown: str) -> None:
    with pytest.raises(ValidationError) as error:
        LinearConstraint(*args)  # type: ignore[arg-type]
    assert str(error.value).startswith(f"{field}: got {shown}")


@pytest.mark.parametrize(
    ("op", "x", "expected"),
    [
        ("<=", 2.0, True),
        ("<=", 3.0, True),  # on the boundary
        ("<=", 3.0 + 1e-10, True),  # within the slack
        ("<=", 3.001, False),
        (">=", 3.0, True),
        (">=", 3.0 - 1e-10, True),
        (">=", 2.999, False),
        (">=", 10.0, True),
    ],
)
def test_linear_constraint_holds(op: str, x: float, expected: bool) -> None:
    constraint = LinearConstraint({"x": 1.0, "y": 2.0}, 5.0, op)
    assert constraint.holds({"x": x, "y": 1.0}) is expected


def test_linear_constraint_check_names_description_and_values() -> None:
    constraint = LinearConstraint({"x": 1.0, "y": -0.5}, 1.0, ">=")
    constraint.check({"x": 2.0, "y": 2.0, "z": 99.0})
    with pytest.raises(ValidationError) as error:
        constraint.check({"x": 0.0, "y": 2.0, "z": 99.0})
    message = str(error.value)
    assert message.startswith("constraint '1*x + -0.5*y >= 1': got {'x': 0.0, 'y': 2.0}")
    assert "break this linear constraint" in message


def test_linear_constraint_to_config() -> None:
    config = LinearConstraint({"x": 1, "y": 2}, 3, ">=").to_config()
    assert config == {"coefficients": {"x": 1.0, "y": 2.0}, "op": ">=", "rhs": 3.0}
    assert LinearConstraint(config["coefficients"], config["rhs"], config["op"]) == LinearConstraint(
        {"x": 1, "y": 2}, 3, ">="
    )
