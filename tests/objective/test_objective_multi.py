"""Several targets, range targets, outcome constraints, scalarisations and the Pareto front of kiln.objective."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.objective import Direction, Objective, OutcomeConstraint, Target, objective_from_config
from kiln.objective.scalarise import clip01, non_dominated

SIZE = Target("size", "range", low=80, high=120)
CENTRE = Target("size", "range", low=80, high=120, prefer="centre")


# --------------------------------------------------------------------------------------------- scores
@pytest.mark.parametrize(
    ("target", "ys", "expected"),
    [
        (Target("y"), [1.0, -2.0], [1.0, -2.0]),
        (Target("y", "min"), [1.0, -2.0], [-1.0, 2.0]),
        (SIZE, [60.0, 80.0, 100.0, 120.0, 130.0], [-20.0, 0.0, 0.0, 0.0, -10.0]),
        (CENTRE, [60.0, 90.0, 100.0, 130.0], [-40.0, -10.0, 0.0, -30.0]),
    ],
)
def test_score_is_the_same_on_floats_arrays_and_tensors(target: Target, ys: list[float], expected: list[float]) -> None:
    import torch

    assert [target.score(y) for y in ys] == expected
    assert np.allclose(target.score(np.array(ys)), expected)
    assert torch.allclose(target.score(torch.tensor(ys, dtype=torch.float64)), torch.tensor(expected).double())


def test_constraint_slack_is_generic_and_signed_like_botorch() -> None:
    import torch

    at_least, at_most = OutcomeConstraint("stability", ">=", 0.9), OutcomeConstraint("cost", "<=", 3)
    assert at_least.slack(0.8) == pytest.approx(0.1)
    assert at_least.slack(1.0) == pytest.approx(-0.1)
    assert at_most.slack(4.0) == 1.0
    assert np.allclose(at_most.slack(np.array([2.0, 3.0])), [-1.0, 0.0])
    assert torch.allclose(at_least.slack(torch.tensor([0.9, 0.5])), torch.tensor([0.0, 0.4]))
    assert at_most.satisfied(3.0) and not at_most.satisfied(3.01)
    assert str(at_least) == "stability >= 0.9"


@pytest.mark.parametrize(
    ("kwargs", "start", "words"),
    [
        ({"direction": "range"}, "target 'size': target: got [None, None]", "needs a window"),
        ({"direction": "range", "low": 120, "high": 80}, "target 'size': target: got [120, 80]", "low < high"),
        ({"direction": "range", "low": 1, "high": 1}, "target 'size': target: got [1, 1]", "low < high"),
        ({"direction": "range", "low": float("nan"), "high": 1}, "target 'size': low: got nan", "NaN"),
        ({"direction": "max", "low": 1, "high": 2}, "target 'size': target: got [1, 2]", "not one with direction"),
        ({"direction": "range", "low": 1, "high": 2, "prefer": "middle"}, "target 'size': prefer: got 'middle'", ""),
        ({"prefer": "centre"}, "target 'size': prefer: got 'centre'", "for a range target"),
        ({"weight": 0}, "target 'size': weight: got 0", "> 0"),
        ({"weight": "heavy"}, "target 'size': weight: got 'heavy'", "a number"),
        ({"priority": 0}, "target 'size': priority: got 0", ">= 1"),
        ({"priority": 1.5}, "target 'size': priority: got 1.5", "whole number"),
        ({"priority": True}, "target 'size': priority: got True", "whole number"),
        ({"tolerance": -1}, "target 'size': tolerance: got -1", ">= 0"),
        ({"direction": True}, "target 'size': direction: got True", "'max' and 'min'"),
    ],
)
def test_target_bad_fields(kwargs: dict[str, Any], start: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        Target("size", **kwargs)
    assert str(error.value).startswith(start)
    assert words in str(error.value)


def test_target_centre_spelling_and_defaults() -> None:
    assert Target("s", "range", low=0, high=1, prefer="center").prefer == "centre"
    assert Target("s", "range", low=0, high=1).prefer == "inside"
    assert SIZE.direction is Direction.RANGE and SIZE.low == 80.0 and type(SIZE.low) is float


@pytest.mark.parametrize(
    ("kwargs", "start"),
    [
        ({"op": ">"}, "constraint 'cost': op: got '>'"),
        ({"op": ">=", "bound": float("inf")}, "constraint 'cost': bound: got inf"),
        ({"op": ">=", "bound": "a lot"}, "constraint 'cost': bound: got 'a lot'"),
        ({"op": ">=", "unit": 3}, "constraint 'cost': unit: got 3"),
    ],
)
def test_constraint_bad_fields(kwargs: dict[str, Any], start: str) -> None:
    with pytest.raises(ValidationError) as error:
        OutcomeConstraint("cost", **{"bound": 1.0, **kwargs})
    assert str(error.value).startswith(start)


# ------------------------------------------------------------------------------------------- structure
def objective_3() -> Objective:
    return Objective(
        (Target("yield"), Target("cost", "min", unit="$"), SIZE),
        (OutcomeConstraint("stability", ">=", 0.9), OutcomeConstraint("stability", "<=", 1.5, unit="h")),
        reference={"yield": 0, "cost": 10},
    )


def test_quantities_units_and_multi() -> None:
    objective = objective_3()
    assert objective.names == ["yield", "cost", "size"]
    assert objective.quantities == ["yield", "cost", "size", "stability"]
    assert objective.units == {"cost": "$", "stability": "h"}
    assert objective.is_multi
    assert not Objective.maximize("y").is_multi
    assert not Objective((Target("a"), Target("b")), scalarisation="desirability").is_multi
    assert objective.reference == {"yield": 0.0, "cost": 10.0}
    assert hash(objective) == hash(objective_3()) and objective == objective_3()
    with pytest.raises(ValidationError, match=r"^objective: target: got \['yield', 'cost', 'size'\]"):
        _ = objective.target


def test_complete_feasible_violated_scores() -> None:
    objective = objective_3()
    full = {"yield": 80.0, "cost": 2.0, "size": 130.0, "stability": 1.0}
    assert objective.is_complete(full) and objective.feasible(full)
    assert objective.scores(full) == (80.0, -2.0, -10.0)
    assert not objective.is_complete({"yield": 80.0})
    assert not objective.feasible({"yield": 80.0})  # the constrained quantity is not measured yet
    assert objective.violated({"yield": 80.0}) == []
    broken = {**full, "stability": 0.5}
    assert not objective.feasible(broken)
    assert objective.violated(broken) == [OutcomeConstraint("stability", ">=", 0.9)]
    assert objective.is_complete(broken)


# ------------------------------------------------------------------------------------------ parse_results
def test_parse_results_partial_and_whole() -> None:
    objective = objective_3()
    assert objective.parse_results({"yield": "82", "stability": 1}) == {"yield": 82.0, "stability": 1.0}
    with pytest.raises(ValidationError) as error:
        objective.parse_results({"yield": 82}, partial=False)
    assert "all of the quantities" in str(error.value) and "missing ['cost', 'size', 'stability']" in str(error.value)
    assert objective.parse_results({"yield": 1, "cost": 2, "size": 3, "stability": 4}, partial=False)["size"] == 3.0


def test_a_partial_result_with_an_unknown_name_blames_only_that_name() -> None:
    """Quantities left out of a partial result are not missing: the message names the unknown one alone."""
    with pytest.raises(ValidationError) as error:
        objective_3().parse_results({"yield": 82, "bogus": 1})
    assert "unknown ['bogus']: correct or leave out each" in str(error.value)
    assert "missing" not in str(error.value)


@pytest.mark.parametrize(
    ("value", "start", "words"),
    [
        ({"yeld": 1}, "results: got {'yeld': 1}", "unknown ['yeld']"),
        ({"yeld": 1}, "results: got {'yeld': 1}", "['yield', 'cost', 'size', 'stability']"),
        ({"yeld": 1}, "results: got {'yeld': 1}", "did you mean 'yield'?"),
        ({}, "results: got {}", "some of the quantities"),
        (82, "results: got 82", "a bare number is the value of the only quantity"),
        ({"cost": float("nan")}, "result 'cost': got nan", "NaN"),
    ],
)
def test_parse_results_refusals(value: Any, start: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        objective_3().parse_results(value)
    assert str(error.value).startswith(start)
    assert words in str(error.value)


def test_a_bare_number_needs_one_quantity_counting_constraints() -> None:
    constrained = Objective((Target("y"),), (OutcomeConstraint("c", "<=", 1),))
    with pytest.raises(ValidationError, match=r"there are \['y', 'c'\]"):
        constrained.parse_results(3)
    assert constrained.parse_results({"c": 0.5}) == {"c": 0.5}


# ------------------------------------------------------------------------------------------ utility
def test_utility_of_one_target_is_its_score_whatever_else() -> None:
    assert Objective((SIZE,)).utility({"size": 70}) == -10.0
    assert Objective((CENTRE,)).utility({"size": 70}) == -30.0
    assert Objective.minimize("c").utility({"c": 2}, observed=[{"c": 5}]) == -2.0


def test_several_unscalarised_targets_have_no_utility_or_best() -> None:
    objective = Objective((Target("a"), Target("b")))
    for call in (lambda: objective.utility({"a": 1, "b": 2}), lambda: objective.best_index([{"a": 1, "b": 2}])):
        with pytest.raises(ValidationError) as error:
            call()
        assert "no single utility" in str(error.value) and "pareto_indices" in str(error.value)


def test_weighted_desirability_over_the_observed_range() -> None:
    objective = Objective((Target("a"), Target("b", "min", weight=3)), scalarisation="desirability")
    observed = [{"a": 0.0, "b": 10.0}, {"a": 10.0, "b": 0.0}]
    # a: d = 0.5 over [0, 10]; b: score -5 over [-10, 0] -> d = 0.5; geometric mean 0.5
    assert objective.utility({"a": 5, "b": 5}, observed) == pytest.approx(0.5)
    # a: 1.0, b: 0.75 -> 1 ** 0.25 * 0.75 ** 0.75
    assert objective.utility({"a": 10, "b": 2.5}, observed) == pytest.approx(0.75**0.75)
    # the worst of any target gives 0, the best of all 1; values outside the observed range widen it
    assert objective.utilities(observed) == [0.0, 1.0]
    assert objective.utility({"a": 20, "b": 0}, observed) == 1.0
    # the weight matters: b counts three times as much as a
    assert objective.utility({"a": 2, "b": 2}, observed) > objective.utility({"a": 8, "b": 8}, observed)
    assert objective.utility({"a": 5, "b": 5}) == 1.0  # one result alone: every range is a single value


def test_priority_order_with_tolerance() -> None:
    objective = Objective(
        (Target("cost", "min", priority=2), Target("yield", priority=1, tolerance=5)), scalarisation="priority"
    )
    assert [t.name for t in objective.priority_order] == ["yield", "cost"]
    observed = [{"yield": 90, "cost": 10}, {"yield": 86, "cost": 2}, {"yield": 50, "cost": 1}]
    values = objective.utilities(observed)
    # yield within 5 of the best (90): the cost decides (level 1 + its desirability over [-10, -1])
    assert values[0] == pytest.approx(1.0)
    assert values[1] == pytest.approx(1 + 8 / 9)
    # yield not good enough: level 0 + yield's desirability over [50, 90]
    assert values[2] == pytest.approx(0.0)
    assert objective.best_index(observed) == 1
    assert objective.utility({"yield": 70, "cost": 1}, observed) == pytest.approx(0.5)


def test_priority_without_numbers_follows_the_list_and_zero_tolerance() -> None:
    objective = Objective((Target("a"), Target("b")), scalarisation="priority")
    observed = [{"a": 1, "b": 0}, {"a": 1, "b": 5}, {"a": 0.9, "b": 100}]
    assert objective.best_index(observed) == 1
    assert objective.utilities(observed)[2] < 1.0


@pytest.mark.parametrize("mode", ["desirability", "priority"])
def test_scalarised_is_the_same_on_arrays_and_tensors(mode: str) -> None:
    import torch

    objective = Objective(
        (Target("a", tolerance=1.0 if mode == "priority" else None), Target("b", "min")), scalarisation=mode
    )
    observed = [objective.scores(r) for r in ({"a": 0, "b": 4}, {"a": 3, "b": 1}, {"a": 2, "b": 2})]
    grid = [(a, b) for a in (-1.0, 0.5, 2.0, 2.5, 4.0) for b in (-2.0, -1.5, -3.0)]
    floats = [objective.scalarised([a, b], observed) for a, b in grid]
    arrays = objective.scalarised([np.array([a for a, _ in grid]), np.array([b for _, b in grid])], observed)
    tensors = objective.scalarised(
        [torch.tensor([a for a, _ in grid]).double(), torch.tensor([b for _, b in grid]).double()], observed
    )
    assert np.allclose(arrays, floats)
    assert np.allclose(tensors.numpy(), floats)
    assert len(set(floats)) > 3  # the grid is not all one value


def test_clip01_on_floats() -> None:
    assert [clip01(x) for x in (-2.0, 0.0, 0.25, 1.0, 3.0)] == [0.0, 0.0, 0.25, 1.0, 1.0]


# ------------------------------------------------------------------------------------------ best and front
def test_best_index_skips_infeasible_and_incomplete() -> None:
    objective = Objective((Target("y"),), (OutcomeConstraint("c", "<=", 3),))
    results = [{"y": 10.0, "c": 5.0}, {"y": 7.0, "c": 1.0}, {"y": 99.0}, {"y": 8.0, "c": 3.0}]
    assert objective.best_index(results) == 3
    assert objective.best_index(results[:1]) is None
    assert Objective.maximize("y").best_index([{"y": 1.0}, {"y": 3.0}]) == 1


def test_pareto_indices() -> None:
    objective = Objective((Target("y"), Target("cost", "min")), (OutcomeConstraint("s", ">=", 0),))
    results = [
        {"y": 1.0, "cost": 1.0, "s": 1.0},  # front
        {"y": 2.0, "cost": 2.0, "s": 1.0},  # front
        {"y": 1.0, "cost": 2.0, "s": 1.0},  # dominated by 0 and 1
        {"y": 9.0, "cost": 0.0, "s": -1.0},  # infeasible
        {"y": 9.0, "cost": 0.0},  # incomplete
        {"y": 2.0, "cost": 2.0, "s": 5.0},  # equal to 1: kept
        {"y": 0.5, "cost": 0.5, "s": 0.0},  # front (cheapest)
    ]
    assert objective.pareto_indices(results) == [0, 1, 5, 6]
    assert objective.pareto_indices([]) == []
    assert non_dominated([(1.0,), (3.0,), (2.0,)]) == [1]


# ------------------------------------------------------------------------------------------ objective rules
@pytest.mark.parametrize(
    ("build", "start", "words"),
    [
        (
            lambda: Objective((Target("a"),), (OutcomeConstraint("a", ">=", 1),)),
            "objective: constraints",
            "not a target",
        ),
        (lambda: Objective((Target("a"), Target("b")), scalarisation="sum"), "objective: scalarisation: got 'sum'", ""),
        (lambda: Objective((Target("a"),), scalarisation="desirability"), "objective: scalarisation", "two or more"),
        (lambda: Objective((Target("a", weight=2), Target("b"))), "target 'a': weight: got 2", "desirability"),
        (
            lambda: Objective((Target("a", weight=2), Target("b")), scalarisation="priority"),
            "target 'a': weight",
            "desirability",
        ),
        (lambda: Objective((Target("a", priority=1), Target("b"))), "target 'a': priority: got 1", "priority"),
        (lambda: Objective((Target("a", tolerance=1), Target("b"))), "target 'a': tolerance: got 1", "priority"),
        (
            lambda: Objective((Target("a", priority=1), Target("b")), scalarisation="priority"),
            "objective: priority",
            "every target has a different priority",
        ),
        (
            lambda: Objective((Target("a", priority=1), Target("b", priority=1)), scalarisation="priority"),
            "objective: priority",
            "",
        ),
        (lambda: Objective((Target("a"),), reference={"b": 1}), "objective: reference: got ['b']", "['a']"),
        (lambda: Objective((Target("a"),), reference={"a": "x"}), "objective: reference 'a': got 'x'", ""),
        (lambda: Objective((Target("a"),), reference=[1]), "objective: reference: got [1]", "a map"),  # type: ignore[arg-type]
    ],
)
def test_objective_rules(build: Any, start: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()
    assert str(error.value).startswith(start)
    assert words in str(error.value)


# ------------------------------------------------------------------------------------------------ config
FULL = {
    "targets": [
        {"name": "yield", "direction": "max", "unit": "%", "weight": 2.0},
        {"name": "size", "target": [80.0, 120.0], "prefer": "centre"},
        {"name": "cost", "direction": "min"},
    ],
    "constraints": [
        {"name": "stability", "op": ">=", "bound": 0.9},
        {"name": "purity", "op": "<=", "bound": 3.0, "unit": "%"},
    ],
    "scalarisation": "desirability",
    "reference": {"yield": 0.0},
}


def test_full_config_round_trip() -> None:
    objective = objective_from_config(FULL)
    assert objective.to_config() == FULL
    assert objective_from_config(objective.to_config()) == objective
    assert objective.targets[1] == CENTRE
    assert objective.targets[0].weight == 2.0


def test_config_short_forms() -> None:
    objective = objective_from_config(
        {
            "targets": [
                {"name": "a", "priority": 2, "tolerance": 1},
                {"name": "size", "target": [80, 120], "priority": 1},
            ],
            "constraints": ["stability >= 0.9", "cost<=3", " ratio  <=  -1e-3 "],
            "scalarisation": "priority",
        }
    )
    assert objective.constraints == (
        OutcomeConstraint("stability", ">=", 0.9),
        OutcomeConstraint("cost", "<=", 3.0),
        OutcomeConstraint("ratio", "<=", -0.001),
    )
    assert objective.targets[1] == Target("size", "range", low=80, high=120, priority=1)
    assert [t.name for t in objective.priority_order] == ["size", "a"]
    assert (
        objective_from_config({"targets": [{"name": "s", "direction": "range", "target": [0, 1]}]}).targets[0].low == 0
    )


def test_todays_one_target_config_is_unchanged() -> None:
    for config in (
        {"targets": [{"name": "yield", "direction": "max"}]},
        {"targets": [{"name": "sigma", "direction": "min", "unit": "S/cm"}]},
    ):
        assert objective_from_config(config).to_config() == config


@pytest.mark.parametrize(
    ("config", "start", "words"),
    [
        ({"targets": [{"name": "y"}], "aim": 1}, "objective: got ['aim']", "fields are"),
        ({"targets": [{"name": "y", "dir": "max"}]}, "objective.targets[0]: got ['dir']", "a target's fields"),
        ({"targets": [{"name": "y", "target": 80}]}, "objective.targets[0].target: got 80", "[low, high]"),
        ({"targets": [{"name": "y", "target": [1, 2, 3]}]}, "objective.targets[0].target", "[low, high]"),
        (
            {"targets": [{"name": "y", "target": [1, 2], "direction": "max"}]},
            "objective.targets[0].direction: got 'max'",
            "no max/min direction",
        ),
        ({"targets": [{"name": "y", "direction": "range"}]}, "objective.targets[0].target", "needs a window"),
        ({"targets": [{"name": "y", "target": [1, 2], "prefer": True}]}, "objective.targets[0].prefer: got True", ""),
        ({"targets": [{"name": "y"}], "constraints": "c >= 1"}, "objective.constraints: got 'c >= 1'", "a list"),
        ({"targets": [{"name": "y"}], "constraints": ["c > 1"]}, "objective.constraints[0]: got 'c > 1'", "<= or >="),
        ({"targets": [{"name": "y"}], "constraints": ["c"]}, "objective.constraints[0]: got 'c'", "NAME >= NUMBER"),
        ({"targets": [{"name": "y"}], "constraints": ["c >= lots"]}, "objective.constraints[0]: bound: got 'lots'", ""),
        ({"targets": [{"name": "y"}], "constraints": [3]}, "objective.constraints[0]: got 3", "text"),
        (
            {"targets": [{"name": "y"}], "constraints": [{"name": "c", "op": ">="}]},
            "objective.constraints[0]: got {'name': 'c', 'op': '>='}",
            "missing ['bound']",
        ),
        ({"targets": [{"name": "y"}], "scalarisation": 1}, "objective.scalarisation: got 1", "desirability"),
        ({"target": "y", "constraints": ["c >= 1"]}, "objective: got ['constraints']", "list form"),
    ],
)
def test_config_spec_errors(config: dict[str, Any], start: str, words: str) -> None:
    with pytest.raises(SpecError) as error:
        objective_from_config(config)
    assert str(error.value).startswith(start)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("config", "start"),
    [
        ({"targets": [{"name": "y", "target": [2, 1]}]}, "target 'y': target: got [2, 1]"),
        ({"targets": [{"name": "y"}], "constraints": ["c >= nan"]}, "constraint 'c': bound: got nan"),
        ({"targets": [{"name": "y"}], "constraints": [{"name": "c", "op": "=", "bound": 1}]}, "constraint 'c': op"),
        ({"targets": [{"name": "y"}, {"name": "z"}], "scalarisation": "mean"}, "objective: scalarisation: got 'mean'"),
        ({"targets": [{"name": "y"}], "reference": {"z": 0}}, "objective: reference: got ['z']"),
    ],
)
def test_config_value_errors(config: dict[str, Any], start: str) -> None:
    with pytest.raises(ValidationError) as error:
        objective_from_config(config)
    assert str(error.value).startswith(start)


def test_non_dominated_matches_the_pairwise_definition_on_random_rows() -> None:
    rng = np.random.default_rng(0)
    for k in (1, 2, 3):
        rows = [tuple(float(v) for v in row) for row in rng.integers(0, 6, size=(60, k))]
        expected = [
            i
            for i, a in enumerate(rows)
            if not any(
                all(y >= x for x, y in zip(a, b, strict=True)) and any(y > x for x, y in zip(a, b, strict=True))
                for b in rows
            )
        ]
        assert non_dominated(rows) == expected


def test_on_front_checks_one_result_against_the_others() -> None:
    objective = Objective((Target("y"), Target("cost", "min")), (OutcomeConstraint("s", ">=", 0),))
    others = [{"y": 2.0, "cost": 2.0, "s": 1.0}, {"y": 9.0, "cost": 0.0, "s": -1.0}, {"y": 9.0, "cost": 0.0}]
    assert objective.on_front({"y": 3.0, "cost": 3.0, "s": 0.0}, others)  # infeasible and partial ones do not count
    assert not objective.on_front({"y": 1.0, "cost": 3.0, "s": 0.0}, others)
    assert objective.on_front({"y": 2.0, "cost": 2.0, "s": 0.0}, others)  # an equal one does not dominate
    assert not objective.on_front({"y": 5.0, "cost": 0.0, "s": -1.0}, others)
    assert not objective.on_front({"y": 5.0}, others)


def test_best_index_scalarises_over_every_measured_result_and_picks_a_feasible_one() -> None:
    objective = Objective((Target("a"), Target("b")), (OutcomeConstraint("c", "<=", 1),), scalarisation="desirability")
    results = [
        {"a": 5.0, "b": 7.0, "c": 0.0},
        {"a": 7.0, "b": 0.0, "c": 5.0},  # infeasible, but it widens b's range to [0, 9]
        {"a": 9.0, "b": 9.0, "c": 5.0},  # infeasible
        {"a": 10.0, "b": 2.0, "c": 0.0},  # d = 1, 2/9 -> 0.471
        {"a": 8.0, "b": 3.0, "c": 0.0},  # d = 0.6, 3/9 -> 0.447
    ]
    assert objective.best_index(results) == 3
    feasible = [results[i] for i in (0, 3, 4)]  # over these alone b's range is [2, 7] and 4 would win
    assert objective.best_index(feasible) == 2


def test_a_window_target_in_a_scalarisation_counts_its_distance() -> None:
    objective = Objective((SIZE, Target("cost", "min")), scalarisation="desirability")
    observed = [{"size": 100, "cost": 1}, {"size": 140, "cost": 1}, {"size": 60, "cost": 3}, {"size": 90}]
    # size scores: 0, -20, -20 (the partial result is left out of the bounds); cost: -1, -1, -3
    assert objective.utility({"size": 110, "cost": 2}, observed) == pytest.approx(0.5**0.5)
    assert objective.utility({"size": 130, "cost": 1}, observed) == pytest.approx(0.5**0.5)
    assert objective.utilities([r for r in observed if "cost" in r]) == [1.0, 0.0, 0.0]


def test_goal_map_round_trips_and_is_written_only_when_set() -> None:
    """goal: map in both spec forms; the default (optimise) is not written, so stored configs stay the same."""
    short = objective_from_config({"target": "y", "goal": "map"})
    assert short.is_map and short.to_config()["goal"] == "map"
    assert objective_from_config(short.to_config()) == short
    long = objective_from_config({"targets": [{"name": "y"}, {"name": "z"}], "goal": "map"})
    assert long.is_map and objective_from_config(long.to_config()) == long
    plain = objective_from_config({"target": "y"})
    assert plain.goal == "optimise" and "goal" not in plain.to_config() and plain != short


def test_unknown_goal_is_named() -> None:
    with pytest.raises(SpecError) as error:
        objective_from_config({"target": "y", "goal": "explore"})
    text = str(error.value)
    assert error.value.field == "objective.goal" and "explore" in text and "map" in text
    with pytest.raises(ValidationError, match="objective: goal"):  # the Python API names it too
        Objective((Target("y"),), goal="explore")
