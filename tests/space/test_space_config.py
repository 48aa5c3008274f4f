"""Unit tests of kiln.space.config: parameter_from_config and space_from_config."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.space.config import parameter_from_config, space_from_config
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace

FULL: dict[str, Any] = {
    "kind": "space",
    "parameters": [
        {"name": "T", "type": "continuous", "low": 20.0, "high": 80.0, "log": False},
        {"name": "conc", "type": "continuous", "low": 0.1, "high": 10.0, "log": True},
        {"name": "n", "type": "integer", "low": 1, "high": 4},
        {"name": "t", "type": "discrete", "values": [0.7, 1.05]},
        {
            "name": "s",
            "type": "categorical",
            "choices": ["a", "b"],
            "encoding": "auto",
            "encoded": {"kind": "onehot", "requested": "auto"},
        },
        {
            "name": "lig",
            "type": "categorical",
            "choices": ["L1", "L2"],
            "descriptors": {"L1": [1.0, 2.0], "L2": [3.0, 0.0]},
        },
    ],
    "compositions": [{"name": "mix", "parts": ["A", "B"], "total": 1.0, "bounds": {"A": [0.2, 0.8], "B": [0.0, 1.0]}}],
    "constraints": [{"coefficients": {"T": 1.0, "A": 10.0}, "op": ">=", "rhs": 25.0}],
}


# ----------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "parameter",
    [
        Continuous("x", -1, 1),
        Continuous("x", 1e-3, 1, log=True),
        Integer("n", 0, 7),
        Discrete("t", (0.5, 1.5, 3.0)),
        Categorical("c", ("u", "v", "w")),
        Categorical("c", ("u", "v"), {"u": (0.0, 1.0), "v": (2.0, 3.0)}),
    ],
)
def test_parameter_round_trip(parameter: Any) -> None:
    rebuilt = parameter_from_config(parameter.to_config())
    assert rebuilt == parameter
    assert rebuilt.to_config() == parameter.to_config()


def test_parameter_defaults_and_list_values() -> None:
    assert parameter_from_config({"name": "x", "type": "continuous", "low": 0, "high": 1}) == Continuous("x", 0, 1)
    assert parameter_from_config({"name": "t", "type": "discrete", "values": [2, 1]}) == Discrete("t", (1.0, 2.0))


@pytest.mark.parametrize(
    ("config", "start", "words"),
    [
        ("x", "space.parameters: got 'x'", "a map with name and type"),
        (
            {"name": "x"},
            "space.parameters: type: got None",
            "known types are ['categorical', 'continuous', 'discrete', 'integer']",
        ),
        ({"name": "x", "type": "float"}, "space.parameters: type: got 'float'", "known types"),
        (
            {"name": "x", "type": "continuous", "low": 0, "high": 1, "lo": 0, "stride": 2},
            "space.parameters 'x': got ['lo', 'stride']",
            "fields of a continuous parameter are",
        ),
        (
            {"name": "t", "type": "discrete", "values": [1, 2], "log": True},
            "space.parameters 't': got ['log']",
            "discrete",
        ),
        ({"type": "integer", "low": 0, "high": 1}, "space.parameters: name: got None", "needs a name"),
        (
            {"name": "x", "type": "continuous", "low": 0},
            "space.parameters 'x': got [",
            "a continuous parameter needs the fields ['high']",
        ),
        (
            {"name": "c", "type": "categorical"},
            "space.parameters 'c': got [",
            "a categorical parameter needs the fields ['choices']",
        ),
    ],
)
def test_parameter_spec_errors(config: Any, start: str, words: str) -> None:
    with pytest.raises(SpecError) as error:
        parameter_from_config(config)
    assert str(error.value).startswith(start)
    assert words in str(error.value)


def test_parameter_error_uses_where() -> None:
    with pytest.raises(SpecError, match=r"^space\.parameters\[3\]: type: got 'real'"):
        parameter_from_config({"name": "x", "type": "real"}, "space.parameters[3]")


def test_bad_parameter_values_raise_the_parameter_error() -> None:
    with pytest.raises(ValidationError, match=r"^parameter 'x': bounds: got \[2.0, 1.0\]"):
        parameter_from_config({"name": "x", "type": "continuous", "low": 2, "high": 1})


def test_unhashable_type_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="type"):
        parameter_from_config({"name": "x", "type": ["continuous"], "low": 0, "high": 1})


# ---------------------------------------------------------------------------------------------- spaces
def test_full_space_round_trip() -> None:
    space = space_from_config(FULL)
    assert isinstance(space, SearchSpace)
    assert space.names == ["T", "conc", "n", "t", "s", "lig", "A", "B"]
    assert space.compositions == (Composition("mix", ("A", "B"), 1.0, {"A": (0.2, 0.8), "B": (0.0, 1.0)}),)
    assert space.constraints == (LinearConstraint({"T": 1.0, "A": 10.0}, 25.0, ">="),)
    assert space.to_config() == FULL
    assert space_from_config(space.to_config()).to_config() == FULL


def test_space_defaults() -> None:
    space = space_from_config(
        {
            "parameters": [{"name": "x", "type": "continuous", "low": 0, "high": 1}],
            "compositions": [{"parts": ["p", "q"]}],
            "constraints": [{"coefficients": {"x": 1, "p": 0.01}, "rhs": 1}],
        }
    )
    assert isinstance(space, SearchSpace)
    (group,) = space.compositions
    assert group.name == "composition1" and group.total == 100.0
    assert group.bounds == {"p": (0.0, 100.0), "q": (0.0, 100.0)}
    assert space.constraints[0].op == "<="
    assert isinstance(space_from_config({"parameters": FULL["parameters"][:1], "constraints": None}), SearchSpace)


def test_pool_allow_repeats_must_be_a_bool() -> None:
    with pytest.raises(ValidationError, match="allow_repeats: got 'false'; true or false"):
        space_from_config({"kind": "pool", "columns": ["x"], "rows": [[1], [2]], "allow_repeats": "false"})


def test_pool_config() -> None:
    pool = space_from_config(
        {"kind": "pool", "columns": ["x", "s"], "rows": [[1, "a"], [2, "b"]], "allow_repeats": True}
    )
    assert isinstance(pool, CandidatePool)
    assert len(pool) == 2 and pool.allow_repeats is True


@pytest.mark.parametrize(
    ("config", "start", "words"),
    [
        ([1], "space: got [1]", "a map is required"),
        ({"kind": "grid"}, "space: kind: got 'grid'", "'space' and 'pool'"),
        ({"kind": "pool", "rows": [[1]]}, "space.columns: got None", "columns and rows"),
        ({"kind": "pool", "columns": ["x"]}, "space.rows: got None", "columns and rows"),
        ({"parameters": [], "objective": {}, "seed": 1}, "space: got ['objective', 'seed']", "fields of a space"),
        ({"parameters": {"name": "x"}}, "space.parameters: got {'name': 'x'}", "a list is required"),
        ({"parameters": [FULL["parameters"][0]], "compositions": "ab"}, "space.compositions: got 'ab'", "a list"),
        (
            {"parameters": [FULL["parameters"][0]], "constraints": [{"coefficients": {"T": 1}}]},
            "space.constraints[0]: got {'coefficients': {'T': 1}}",
            "coefficients, op and rhs",
        ),
        ({"parameters": [FULL["parameters"][0]], "constraints": [5]}, "space.constraints[0]: got 5", "needs"),
        ({"compositions": [{"name": "m"}]}, "space.compositions[0]: got {'name': 'm'}", "needs name and parts"),
        ({"compositions": ["m"]}, "space.compositions[0]: got 'm'", "needs name and parts"),
        (
            {"parameters": [FULL["parameters"][0], {"name": "y", "type": "cont"}]},
            "space.parameters[1]: type: got 'cont'",
            "known types",
        ),
    ],
)
def test_space_spec_errors(config: Any, start: str, words: str) -> None:
    with pytest.raises(SpecError) as error:
        space_from_config(config)
    assert str(error.value).startswith(start)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("config", "start"),
    [
        ({"parameters": []}, "space: parameters: got []"),
        ({"compositions": [{"parts": ["a", "b"], "total": -1}]}, "composition 'composition1': total: got -1.0"),
        (
            {"parameters": [FULL["parameters"][0]], "constraints": [{"coefficients": {"T": 1}, "rhs": 1, "op": "<"}]},
            "constraint: op: got '<'",
        ),
        (
            {"parameters": [FULL["parameters"][1]], "constraints": [{"coefficients": {"conc": 1}, "rhs": 1}]},
            "constraint '1*conc <= 1': got 'conc'",
        ),
    ],
)
def test_space_value_errors_name_the_field(config: Any, start: str) -> None:
    with pytest.raises(ValidationError) as error:
        space_from_config(config)
    assert str(error.value).startswith(start)


def test_composition_parts_given_as_a_string_is_an_error() -> None:
    with pytest.raises(ValidationError, match="parts"):
        space_from_config({"compositions": [{"name": "m", "parts": "abc", "total": 1}]})


def test_scalar_composition_bound_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"bounds"):
        space_from_config({"compositions": [{"name": "m", "parts": ["a", "b"], "bounds": {"a": 5}}]})


@pytest.mark.parametrize(
    "section",
    [
        {"constraints": [{"coefficients": {"T": 1}, "rhs": 30, "opp": ">="}]},
        {"compositions": [{"name": "m", "parts": ["a", "b"], "totl": 1}]},
    ],
)
def test_unknown_composition_or_constraint_fields_are_spec_errors(section: dict[str, Any]) -> None:
    with pytest.raises(SpecError):
        space_from_config({"parameters": [FULL["parameters"][0]], **section})
