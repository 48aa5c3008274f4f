"""Unit tests of kiln.strategies.multi_objective and of the default strategy's hand-over to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, OutcomeConstraint, Target
from kiln.space.parameters import Continuous
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, training_data
from kiln.strategies.default import DefaultStrategy
from kiln.strategies.multi_objective import UTILITY, AcquisitionChooser, MultiObjectiveStrategy, build_problem
from kiln.strategies.registry import strategy_from_config
from kiln.strategies.simple import SpaceFillingStrategy

COMPLETED, PENDING, FAILED = ExperimentStatus.COMPLETED, ExperimentStatus.PENDING, ExperimentStatus.FAILED
LINE = CandidatePool(["x"], [[float(v)] for v in np.linspace(0.0, 1.0, 41)])
"""41 rows x = 0, 0.025, ..., 1."""


def line_history(
    done: Mapping[int, Mapping[str, float]],
    *,
    pending: Mapping[int, Mapping[str, float]] | None = None,
    failed: Sequence[int] = (),
) -> History:
    """Experiments on rows of LINE: completed with their results, pending with what has arrived, failed."""
    rows = [(k, COMPLETED, r) for k, r in done.items()] + [(k, PENDING, r) for k, r in (pending or {}).items()]
    rows += [(k, FAILED, {}) for k in failed]
    experiments = [
        Experiment(
            id=f"exp-{i}",
            seq=i + 1,
            params=LINE.row(k),
            status=status,
            results=dict(results),
            reason="charred" if status is FAILED else "",
            candidate=k,
        )
        for i, (k, status, results) in enumerate(rows)
    ]
    return History.from_experiments(experiments)


def x_of(k: int) -> float:
    return float(LINE.row(k)["x"])


# ------------------------------------------------------------------------------------------------- settings
@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"acquisition": "ehvi"}, "acquisition"),
        ({"kernel": "cubic"}, "kernel"),
        ({"ard": "yes"}, "ard"),
        ({"feasibility": 1}, "feasibility"),
        ({"feasibility_first": "no"}, "feasibility_first"),
        ({"raw_samples": 1}, "raw_samples"),
        ({"restarts": 0}, "restarts"),
        ({"raw_samples": 8, "restarts": 9}, "restarts"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises((ValidationError, SpecError), match=field):
        MultiObjectiveStrategy(**options)


def test_the_kind_is_registered_and_its_config_round_trips() -> None:
    strategy = MultiObjectiveStrategy(acquisition="qlognparego", restarts=2, ard=False)
    config = strategy.to_config()
    assert config["kind"] == "multi"
    assert strategy_from_config(config) == strategy
    assert strategy_from_config("multi") == MultiObjectiveStrategy()
    assert "feasibility_first" not in config  # off: configs stored before the option existed read the same
    seeking = MultiObjectiveStrategy(feasibility_first=True)
    assert seeking.to_config()["feasibility_first"] is True and strategy_from_config(seeking.to_config()) == seeking


# --------------------------------------------------------------------------------------------- what is modelled
def test_partial_results_teach_each_quantity_what_they_have() -> None:
    objective = Objective((Target("yield"), Target("cost", "min")), (OutcomeConstraint("stability", ">=", 0.5),))
    h = line_history(
        {0: {"yield": 1.0, "cost": 2.0, "stability": 0.9}, 1: {"yield": 2.0, "cost": 3.0, "stability": 0.1}},
        pending={2: {"stability": 0.7}, 3: {}},
    )
    problem = build_problem(LINE, objective, h)
    assert problem.names == ("yield", "cost", "stability")
    sizes = {name: len(values) for name, (_, values) in zip(problem.names, problem.columns, strict=True)}
    assert sizes == {"yield": 2, "cost": 2, "stability": 3}
    assert problem.columns[2][1].tolist() == [0.9, 0.1, 0.7]
    assert problem.baseline.shape == (2, 1) and problem.pending.shape == (2, 1)  # partly measured: still pending
    assert problem.front.tolist() == [[1.0, -2.0]]  # only the feasible experiment, in maximisation sense
    assert [column for column, _ in problem.outcomes.constraints] == [2]


def test_a_scalarised_objective_is_one_utility_over_the_experiments_with_every_target() -> None:
    objective = Objective((Target("yield"), Target("cost", "min")), scalarisation="desirability")
    results = {0: {"yield": 1.0, "cost": 2.0}, 1: {"yield": 3.0, "cost": 1.0}, 2: {"yield": 2.0, "cost": 1.5}}
    problem = build_problem(LINE, objective, line_history(results, pending={3: {"yield": 5.0}}))
    assert problem.names == (UTILITY,)
    assert np.allclose(problem.columns[0][1], objective.utilities(list(results.values())))
    assert len(problem.outcomes.targets) == 1


def test_a_given_reference_point_is_used_in_the_objectives_units() -> None:
    objective = Objective((Target("yield"), Target("cost", "min")), reference={"cost": 10.0})
    results = {k: {"yield": float(k), "cost": float(k) ** 2} for k in range(5)}
    problem = build_problem(LINE, objective, line_history(results))
    from kiln.models.model_list import fit_model_list

    fitted = fit_model_list(problem.columns, problem.names)
    chooser = AcquisitionChooser("auto", fitted, problem)
    assert chooser.kind == "qlognehvi"
    assert chooser.reference is not None
    assert chooser.reference[1] == pytest.approx(-10.0 / fitted.stds[1])
    assert chooser.reference[0] < 0.0 / fitted.stds[0]  # below the worst observed yield (0), from the data


# --------------------------------------------------------------------------------------------------- proposals
def test_with_fewer_than_two_results_it_fills_the_space() -> None:
    objective = Objective((Target("a"), Target("b")))
    h = line_history({5: {"a": 1.0, "b": 1.0}})
    expected = SpaceFillingStrategy().propose(LINE, objective, h, 2, seed=4)
    assert MultiObjectiveStrategy().propose(LINE, objective, h, 2, seed=4) == expected
    assert MultiObjectiveStrategy().propose(LINE, objective, h, 0, seed=4) == []


def line_results(keys: Sequence[int], **quantities: Any) -> dict[int, dict[str, float]]:
    return {k: {name: float(f(x_of(k))) for name, f in quantities.items()} for k in keys}


@pytest.mark.parametrize("acquisition", ["auto", "qlognparego"])
def test_an_outcome_constraint_keeps_a_single_target_inside_it(acquisition: str) -> None:
    """yield = x grows to the right; stability = 1 - x must stay >= 0.6, so x <= 0.4."""
    keys = [0, 6, 12, 20, 28, 34, 40]
    free = Objective((Target("yield"),))
    bound = Objective((Target("yield"),), (OutcomeConstraint("stability", ">=", 0.6),))
    h = line_history(line_results(keys, **{"yield": lambda x: x, "stability": lambda x: 1 - x}))
    strategy = MultiObjectiveStrategy(acquisition=acquisition)
    [without] = strategy.propose(LINE, free, h, 1, seed=0)
    [inside] = strategy.propose(LINE, bound, h, 1, seed=0)
    assert x_of(int(without.candidate or 0)) > 0.8
    assert 0.2 < x_of(int(inside.candidate or 0)) <= 0.45


@pytest.mark.parametrize("targets", [1, 2])
def test_feasibility_first_seeks_the_constraints_while_no_experiment_meets_them(targets: int) -> None:
    """yield (and purity) grow with x; stability = 1 - x must stay >= 0.6 (x <= 0.4), and every experiment so far
    is at x >= 0.6. Improvement would go right; the probability of feasibility goes left."""
    bound = Objective((Target("yield"), Target("purity"))[:targets], (OutcomeConstraint("stability", ">=", 0.6),))
    quantities = {"yield": lambda x: x, "purity": lambda x: x**2, "stability": lambda x: 1 - x}
    h = line_history(line_results([24, 28, 32, 36, 40], **quantities))
    assert build_problem(LINE, bound, h).unmet
    [proposal] = MultiObjectiveStrategy(feasibility_first=True).propose(LINE, bound, h, 1, seed=0)
    assert x_of(int(proposal.candidate or 0)) <= 0.45
    from kiln.models.model_list import fit_model_list

    problem = build_problem(LINE, bound, h)
    fitted = fit_model_list(problem.columns, problem.names)
    assert AcquisitionChooser("auto", fitted, problem, feasibility_first=True).kind == "qlogpof"
    assert AcquisitionChooser("auto", fitted, problem).kind == ("qlognei" if targets == 1 else "qlognehvi")  # off
    met = line_history(line_results([12, 24, 28, 32, 36, 40], **quantities))  # x = 0.3 meets it
    assert not build_problem(LINE, bound, met).unmet
    assert not build_problem(LINE, Objective((Target("yield"),)), h).unmet  # no constraint: nothing to meet


def test_a_range_target_is_sought_inside_its_window() -> None:
    keys = [0, 8, 16, 24, 32, 40]
    objective = Objective((Target("size", "range", low=0.55, high=0.65, prefer="centre"),))
    h = line_history(line_results(keys, size=lambda x: x))
    [proposal] = MultiObjectiveStrategy().propose(LINE, objective, h, 1, seed=0)
    assert abs(x_of(int(proposal.candidate or 0)) - 0.6) <= 0.05


def test_probable_failures_come_after_every_other_candidate() -> None:
    """Both targets grow with x, but experiments at x >= 0.85 failed."""
    objective = Objective((Target("a"), Target("b")))
    h = line_history(
        line_results([0, 5, 10, 15, 20, 25, 30], a=lambda x: x, b=lambda x: np.sqrt(x)), failed=[35, 37, 39]
    )
    [blind] = MultiObjectiveStrategy(feasibility=False).propose(LINE, objective, h, 1, seed=0)
    [careful] = MultiObjectiveStrategy().propose(LINE, objective, h, 1, seed=0)
    assert x_of(int(blind.candidate or 0)) >= 0.85
    assert x_of(int(careful.candidate or 0)) < 0.85


# ------------------------------------------------------------------------------------------ the default strategy
CUBE = SearchSpace([Continuous("x", 0, 1), Continuous("y", 0, 1)])


def cube_history(objective: Objective, n: int = 8) -> History:
    rng = np.random.default_rng(2)
    experiments = []
    for i, (x, y) in enumerate(rng.random((n, 2))):
        values = {"a": x + y, "b": x - y, "c": x * y}
        results = {name: float(values[name]) for name in objective.quantities}
        experiments.append(
            Experiment(id=f"e{i}", seq=i + 1, params={"x": x, "y": y}, status=COMPLETED, results=results)
        )
    return History(completed=tuple(experiments))


@pytest.mark.parametrize(
    "objective",
    [
        Objective((Target("a"), Target("b", "min"))),
        Objective((Target("a"),), (OutcomeConstraint("c", "<=", 0.2),)),
    ],
    ids=["two targets", "a constraint"],
)
def test_default_hands_several_targets_and_constraints_to_the_multi_objective_strategy(objective: Objective) -> None:
    h = cube_history(objective)
    expected = MultiObjectiveStrategy().propose(CUBE, objective, h, 2, seed=7)
    assert DefaultStrategy().propose(CUBE, objective, h, 2, seed=7) == expected


def test_default_hands_its_kernel_to_the_multi_objective_strategy() -> None:
    objective = Objective((Target("a"), Target("b", "min")))
    h = cube_history(objective)
    rbf = MultiObjectiveStrategy(kernel="rbf").propose(CUBE, objective, h, 1, seed=7)
    assert DefaultStrategy(kernel="rbf").propose(CUBE, objective, h, 1, seed=7) == rbf
    assert rbf != MultiObjectiveStrategy().propose(CUBE, objective, h, 1, seed=7)


def test_default_keeps_one_target_on_the_bayesian_strategy(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("one target must not reach the multi-objective strategy")

    monkeypatch.setattr(MultiObjectiveStrategy, "propose", refuse)
    objective = Objective.maximize("a")
    h = cube_history(objective)
    strategy = DefaultStrategy()
    assert strategy.propose(CUBE, objective, h, 2, seed=7) == strategy.bayes.propose(CUBE, objective, h, 2, seed=7)


def test_default_optimises_a_scalarised_objective_as_one_utility(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a scalarisation without constraints is one utility")

    monkeypatch.setattr(MultiObjectiveStrategy, "propose", refuse)
    for mode in ("desirability", "priority"):
        objective = Objective((Target("a"), Target("b", "min")), scalarisation=mode)
        h = cube_history(objective)
        y = training_data(CUBE, objective, h).y
        assert np.allclose(y, objective.utilities([e.results for e in h.completed])) and np.ptp(y) > 0
        proposals = DefaultStrategy().propose(CUBE, objective, h, 2, seed=1)
        assert len(proposals) == 2 and all(CUBE.validate(p.params) for p in proposals)


@pytest.mark.parametrize(("targets", "kind"), [(3, "qlognehvi"), (5, "qlognparego")])
def test_more_targets_propose_new_rows_with_the_acquisition_for_their_number(targets: int, kind: str) -> None:
    names = [f"t{i}" for i in range(targets)]
    objective = Objective(tuple(Target(name) for name in names))
    keys = [0, 5, 10, 15, 20, 25, 30, 35, 40]
    quantities = {name: (lambda x, i=i: np.cos(3 * x + i)) for i, name in enumerate(names)}
    h = line_history(line_results(keys, **quantities))
    problem = build_problem(LINE, objective, h)
    from kiln.models.model_list import fit_model_list

    assert AcquisitionChooser("auto", fit_model_list(problem.columns, problem.names), problem).kind == kind
    proposals = MultiObjectiveStrategy().propose(LINE, objective, h, 2, seed=0)
    assert len({p.candidate for p in proposals}) == 2 and not {p.candidate for p in proposals} & set(keys)
