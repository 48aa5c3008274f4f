"""Unit tests of kiln.objective: Target, Objective, parse_results, utility and objective_from_config."""

from __future__ import annotations

from typing import Any

import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.objective import Direction, Objective, Target, objective_from_config


# ------------------------------------------------------------------------------------------------- targets
@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("max", Direction.MAXIMIZE),
        ("maximize", Direction.MAXIMIZE),
        ("Maximise", Direction.MAXIMIZE),
        ("MAX", Direction.MAXIMIZE),
        (Direction.MAXIMIZE, Direction.MAXIMIZE),
        ("min", Direction.MINIMIZE),
        ("minimise", Direction.MINIMIZE),
        ("MINIMIZE", Direction.MINIMIZE),
        (Direction.MINIMIZE, Direction.MINIMIZE),
    ],
)
def test_target_direction_words(word: Any, expected: Direction) -> None:
    target = Target("y", word)
    assert target.direction is expected
    assert target.to_config() == {"name": "y", "direction": expected.value}


def test_target_default_is_maximise() -> None:
    assert Target("y").direction is Direction.MAXIMIZE


@pytest.mark.parametrize("word", ["up", "", None, 1, "maximum"])
def test_target_bad_direction(word: Any) -> None:
    with pytest.raises(ValidationError) as error:
        Target("yield", word)
    assert str(error.value).startswith(f"target 'yield': direction: got {word!r}")
    assert "'max' and 'min'" in str(error.value)


@pytest.mark.parametrize("name", ["", " y", 5])
def test_target_bad_name(name: Any) -> None:
    with pytest.raises(ValidationError, match=r"^target name: got "):
        Target(name)


# ---------------------------------------------------------------------------------------------- objective
def test_objective_constructors() -> None:
    up, down = Objective.maximize("y"), Objective.minimize("cost")
    assert up.target == Target("y", Direction.MAXIMIZE)
    assert down.target == Target("cost", Direction.MINIMIZE)
    assert down.names == ["cost"]
    assert Objective([Target("y")]).targets == (Target("y"),)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("targets", "shown", "words"),
    [((), "[]", "at least one target"), ((Target("a"), Target("a")), "['a', 'a']", "['a'] repeat")],
)
def test_objective_needs_distinct_targets(targets: tuple[Target, ...], shown: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        Objective(targets)
    assert str(error.value).startswith(f"objective: targets: got {shown}")
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3.0), (-1.5, -1.5), ("2.5", 2.5), ({"y": 4}, 4.0), ({"y": "0.5"}, 0.5)]
)
def test_parse_results_good(value: Any, expected: float) -> None:
    result = Objective.maximize("y").parse_results(value)
    assert result == {"y": expected}
    assert type(result["y"]) is float


@pytest.mark.parametrize(
    ("value", "start", "words"),
    [
        (float("nan"), "result 'y': got nan", "NaN"),
        (float("inf"), "result 'y': got inf", "NaN"),
        ({"y": float("-inf")}, "result 'y': got -inf", "NaN"),
        ("high", "result 'y': got 'high'", "a number is required"),
        (None, "result 'y': got None", "a number is required"),
        ({"y": [1]}, "result 'y': got [1]", "a number is required"),
        ({"z": 1.0}, "results: got {'z': 1.0}", "unknown ['z']: correct or leave out each"),
        ({"y": 1.0, "z": 2.0}, "results: got {'y': 1.0, 'z': 2.0}", "unknown ['z']"),
        ({}, "results: got {}", "some of the quantities ['y']"),
        ({}, "results: got {}", "missing ['y']"),
    ],
)
def test_parse_results_errors(value: Any, start: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        Objective.maximize("y").parse_results(value)
    assert str(error.value).startswith(start)
    assert words in str(error.value)
    assert "['y']" in str(error.value) or "result 'y'" in str(error.value)


def test_parse_results_rejects_bools() -> None:
    with pytest.raises(ValidationError, match="result 'y'"):
        Objective.maximize("y").parse_results({"y": True})


@pytest.mark.parametrize(("objective", "expected"), [(Objective.maximize("y"), 2.5), (Objective.minimize("y"), -2.5)])
def test_utility_follows_direction(objective: Objective, expected: float) -> None:
    assert objective.utility({"y": 2.5, "other": 100.0}) == expected


@pytest.mark.parametrize(("objective", "best"), [(Objective.maximize("y"), 1), (Objective.minimize("y"), 2)])
def test_best_index(objective: Objective, best: int) -> None:
    results = [{"y": 1.0}, {"y": 5.0}, {"y": -3.0}, {"y": 2.0}]
    assert objective.best_index(results) == best
    assert objective.best_index([]) is None


def test_utility_needs_the_target() -> None:
    with pytest.raises(KeyError):
        Objective.maximize("y").utility({"z": 1.0})


# ------------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"target": "y"}, Objective.maximize("y")),
        ({"target": "cost", "direction": "min"}, Objective.minimize("cost")),
        ({"targets": [{"name": "y", "direction": "minimise"}]}, Objective.minimize("y")),
        ({"targets": [{"name": "y"}]}, Objective.maximize("y")),
    ],
)
def test_objective_from_config(config: dict[str, Any], expected: Objective) -> None:
    assert objective_from_config(config) == expected


@pytest.mark.parametrize("objective", [Objective.maximize("yield"), Objective.minimize("cost")])
def test_objective_config_round_trip(objective: Objective) -> None:
    config = objective.to_config()
    assert config == {"targets": [{"name": objective.target.name, "direction": objective.target.direction.value}]}
    assert objective_from_config(config) == objective
    assert objective_from_config(config).to_config() == config


@pytest.mark.parametrize(
    ("config", "start", "words"),
    [
        ("yield", "objective: got 'yield'", "a map is required"),
        ({"direction": "max"}, "objective: got {'direction': 'max'}", "a target name is required"),
        ({"target": "y", "aim": 3}, "objective: got ['aim']", "fields are target, direction, unit and goal"),
        ({"targets": "y"}, "objective.targets: got 'y'", "a list of {name, direction}"),
        ({"targets": [{"direction": "max"}]}, "objective.targets[0]: got {'direction': 'max'}", "a map with a name"),
        ({"targets": ["y"]}, "objective.targets[0]: got 'y'", "a map with a name"),
    ],
)
def test_objective_config_spec_errors(config: Any, start: str, words: str) -> None:
    with pytest.raises(SpecError) as error:
        objective_from_config(config)
    assert str(error.value).startswith(start)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("config", "start"),
    [
        ({"target": "y", "direction": "up"}, "target 'y': direction: got 'up'"),
        ({"targets": []}, "objective: targets: got []"),
        ({"targets": [{"name": "a"}, {"name": "a"}]}, "objective: targets: got ['a', 'a']"),
        ({"target": ""}, "target name: got ''"),
    ],
)
def test_objective_config_value_errors(config: dict[str, Any], start: str) -> None:
    with pytest.raises(ValidationError) as error:
        objective_from_config(config)
    assert str(error.value).startswith(start)


def test_a_target_declares_a_unit_kept_in_its_config() -> None:
    from kiln.objective import objective_from_config

    short = objective_from_config({"target": "sigma", "direction": "max", "unit": "S/cm"})
    assert short.units == {"sigma": "S/cm"}
    assert objective_from_config(short.to_config()).units == {"sigma": "S/cm"}
    assert objective_from_config({"targets": [{"name": "y", "unit": "%"}]}).units == {"y": "%"}
    assert "unit" not in objective_from_config({"target": "y"}).to_config()["targets"][0]
