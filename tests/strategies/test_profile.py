"""kiln.strategies.profile: the surrogate's prediction along one parameter, in target units."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from kiln.core.errors import StateError, ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, OutcomeConstraint, Target
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History
from kiln.strategies.bayes import BayesStrategy
from kiln.strategies.default import DefaultStrategy
from kiln.strategies.profile import grid_along, model_profile
from kiln.strategies.simple import RandomStrategy

SPACE = SearchSpace([Continuous("x", 0.0, 1.0), Categorical("s", ("a", "b"))])


def done(points: Sequence[Mapping[str, Any]], values: Sequence[float]) -> History:
    return History(
        completed=tuple(
            Experiment(id=f"e{i}", seq=i + 1, params=dict(p), status=ExperimentStatus.COMPLETED, results={"y": v})
            for i, (p, v) in enumerate(zip(points, values, strict=True))
        )
    )


def parabola(minimise: bool = False) -> History:
    xs = np.linspace(0.0, 1.0, 9)
    values = [(1 if minimise else -1) * (x - 0.3) ** 2 + (0.5 if s == "b" else 0.0) for x in xs for s in "ab"]
    return done([{"x": x, "s": s} for x in xs for s in "ab"], values)


@pytest.mark.parametrize("strategy", [DefaultStrategy(), BayesStrategy(acquisition="ucb"), RandomStrategy()])
def test_profile_follows_the_data_through_the_best_experiment(strategy: Any) -> None:
    profile = model_profile(strategy, SPACE, Objective.maximize("y"), parabola(), "x", points=41)
    values, mean, std = np.array(profile.values), np.array(profile.mean), np.array(profile.std)
    assert profile.through == {"x": pytest.approx(0.25), "s": "b"}  # the best measured point
    assert abs(values[np.argmax(mean)] - 0.3) <= 0.05
    assert mean.max() == pytest.approx(0.5, abs=0.05)  # target units, with the +0.5 of category b
    assert np.all(std >= 0) and std.max() < 0.1
    assert profile.model.startswith("gp")


def test_a_minimised_target_is_predicted_in_its_own_units() -> None:
    profile = model_profile(BayesStrategy(), SPACE, Objective.minimize("y"), parabola(minimise=True), "x")
    mean = np.array(profile.mean)
    assert profile.through["s"] == "a"  # a's values are the lower ones
    assert mean.min() == pytest.approx(0.0, abs=0.05) and abs(profile.values[int(np.argmin(mean))] - 0.3) <= 0.05


def test_uncertainty_grows_away_from_the_data() -> None:
    history = done([{"x": x, "s": "a"} for x in (0.0, 0.05, 0.1, 0.15, 0.2)], [0.0, 0.1, 0.2, 0.1, 0.3])
    profile = model_profile(BayesStrategy(), SPACE, Objective.maximize("y"), history, "x", points=21)
    assert profile.std[-1] > 3 * profile.std[2]


def test_grids_of_every_parameter_kind_and_of_a_pool() -> None:
    space = SearchSpace(
        [
            Continuous("c", 1.0, 100.0, log=True),
            Integer("i", 1, 4),
            Discrete("d", (0.7, 1.05, 1.4)),
            Categorical("k", ("x", "y")),
        ]
    )
    assert grid_along(space, "c", 3) == pytest.approx([1.0, 10.0, 100.0])
    assert grid_along(space, "i", 60) == [1, 2, 3, 4]
    assert grid_along(space, "d", 10) == [0.7, 1.05, 1.4]
    assert grid_along(space, "k", 10) == ["x", "y"]
    pool = CandidatePool(["x", "solvent"], [[1.0, "w"], [3.0, "e"]])
    assert grid_along(pool, "x", 3) == [1.0, 2.0, 3.0]
    assert grid_along(pool, "solvent", 3) == ["e", "w"]


@pytest.mark.parametrize(
    ("parameter", "points", "field"), [("z", 10, "parameter"), ("x", 1, "points"), ("x", True, "points")]
)
def test_bad_requests_name_the_field(parameter: str, points: Any, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        model_profile(BayesStrategy(), SPACE, Objective.maximize("y"), parabola(), parameter, points=points)
    assert error.value.field == field


def test_a_model_needs_two_results() -> None:
    with pytest.raises(StateError, match="at least 2"):
        model_profile(BayesStrategy(), SPACE, Objective.maximize("y"), done([{"x": 0.1, "s": "a"}], [1.0]), "x")


def test_a_composition_part_is_varied_with_the_other_parts_keeping_the_total() -> None:
    """The slice of a mixture: the other parts are rescaled in proportion, so every point sums to 100 %."""
    from kiln.space.constraints import Composition

    space = SearchSpace(
        [Continuous("t", 20.0, 80.0)],
        compositions=[Composition("mix", ("a", "b", "c"), 100.0, bounds={"c": (0.0, 40.0)})],
    )
    rng = np.random.default_rng(0)
    points = []
    for _ in range(12):
        a, b = rng.uniform(10, 50, 2)
        points.append({"t": float(rng.uniform(20, 80)), "a": a, "b": b, "c": 100.0 - a - b})
    history = done(points, [p["a"] / 10 - (p["t"] - 50) ** 2 / 1000 for p in points])
    profile = model_profile(BayesStrategy(), space, Objective.maximize("y"), history, "a", points=21)
    through = profile.through
    assert set(profile.rescaled) == {"b", "c"}
    for i, a in enumerate(profile.values):
        b, c = profile.rescaled["b"][i], profile.rescaled["c"][i]
        assert a + b + c == pytest.approx(100.0)
        assert b * through["c"] == pytest.approx(c * through["b"], abs=1e-9)  # in proportion, as at the best point
    assert profile.feasible == [c <= 40.0 + 1e-9 for c in profile.rescaled["c"]]  # c has a bound of its own
    assert profile.noise is False
    free = model_profile(BayesStrategy(), space, Objective.maximize("y"), history, "t", points=5)
    assert free.rescaled == {} and all(free.feasible)


@pytest.mark.parametrize(
    ("objective", "words"),
    [
        (Objective((Target("y"), Target("z"))), "the targets ['y', 'z']"),
        (Objective((Target("y"), Target("z")), scalarisation="desirability"), "the targets ['y', 'z']"),
        (Objective((Target("y", "range", low=0, high=1),)), "is a window"),
    ],
)
def test_a_profile_needs_one_max_or_min_target(objective: Objective, words: str) -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    with pytest.raises(StateError, match=re.escape(words)):
        model_profile(BayesStrategy(), space, objective, History(), "x")


def test_a_profile_of_a_constrained_target_goes_through_the_best_feasible_experiment() -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    objective = Objective((Target("y"),), (OutcomeConstraint("c", "<=", 1),))
    rows = [(0.1, 1.0, 0.5), (0.5, 9.0, 5.0), (0.9, 2.0, 0.0)]
    done = [
        Experiment(id=f"e{i}", seq=i, params={"x": x}, status=ExperimentStatus.COMPLETED, results={"y": y, "c": c})
        for i, (x, y, c) in enumerate(rows)
    ]
    profile = model_profile(BayesStrategy(), space, objective, History(completed=done), "x", points=5)
    assert profile.through == {"x": 0.9}  # e1 has the highest y but breaks the constraint


def test_a_quantity_profile_predicts_each_quantity_in_its_units_with_partial_results() -> None:
    objective = Objective((Target("a"), Target("b", "min")), (OutcomeConstraint("c", "<=", 50.0),))
    xs = [0.0, 0.25, 0.5, 0.75, 1.0]
    done = [
        Experiment(
            id=f"e{i}",
            seq=i + 1,
            params={"x": x},
            status=ExperimentStatus.COMPLETED,
            results={"a": 10 * x, "b": (x - 0.5) ** 2, "c": 100 * x},
        )
        for i, x in enumerate(xs)
    ]
    partial = Experiment(id="p", seq=9, params={"x": 0.6}, status=ExperimentStatus.PENDING, results={"c": 60.0})
    history = History(completed=tuple(done), pending=(partial,))
    space = SearchSpace([Continuous("x", 0.0, 1.0)])
    for quantity, truth in (("a", lambda x: 10 * x), ("c", lambda x: 100 * x)):
        profile = model_profile(BayesStrategy(), space, objective, history, "x", points=11, quantity=quantity)
        assert np.abs(np.array(profile.mean) - truth(np.array(profile.values))).max() < 0.1 * truth(1.0)
        assert quantity in profile.model
    assert profile.through in ({"x": 0.0}, {"x": 0.25}, {"x": 0.5})  # on the front and feasible (c <= 50)
    with pytest.raises(ValidationError, match="quantities"):
        model_profile(BayesStrategy(), space, objective, history, "x", quantity="nope")
    with pytest.raises(StateError):
        model_profile(BayesStrategy(), space, objective, history, "x")  # several targets: no utility's model
