"""Unit tests of kiln.strategies.base (History, training_data, available_candidates) and kiln.strategies.simple."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest

from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, Proposal, Strategy, available_candidates, training_data
from kiln.strategies.simple import RandomStrategy, SpaceFillingStrategy

OBJECTIVE = Objective.maximize("y")
COMPLETED, PENDING, FAILED = ExperimentStatus.COMPLETED, ExperimentStatus.PENDING, ExperimentStatus.FAILED


def experiment(
    seq: int,
    params: dict[str, Any],
    status: ExperimentStatus = COMPLETED,
    y: float | None = None,
    candidate: int | None = None,
) -> Experiment:
    results = {"y": float(seq) if y is None else y} if status is COMPLETED else {}
    return Experiment(id=f"exp-{seq}", seq=seq, params=params, status=status, results=results, candidate=candidate)


def mixed_space() -> SearchSpace:
    return SearchSpace(
        [
            Continuous("T", 20, 80),
            Continuous("conc", 0.1, 10, log=True),
            Integer("n", 1, 4),
            Discrete("t", (0.7, 1.05, 1.4)),
            Categorical("s", ("a", "b", "c")),
        ]
    )


def pool(allow_repeats: bool = False) -> CandidatePool:
    rows = [[float(i), "ab"[i % 2]] for i in range(8)]
    return CandidatePool(["x", "s"], rows, allow_repeats=allow_repeats)


def pool_history(keys_by_status: dict[ExperimentStatus, list[int]], domain: CandidatePool) -> History:
    experiments, seq = [], 0
    for status, keys in keys_by_status.items():
        for key in keys:
            seq += 1
            experiments.append(experiment(seq, domain.row(key), status, candidate=key))
    return History.from_experiments(experiments)


# ------------------------------------------------------------------------------------------------- History
def test_history_from_experiments_groups_by_status_in_order() -> None:
    experiments = [
        experiment(1, {"x": 0.1}),
        experiment(2, {"x": 0.2}, PENDING, candidate=4),
        experiment(3, {"x": 0.3}, FAILED, candidate=2),
        experiment(4, {"x": 0.4}, candidate=7),
        experiment(5, {"x": 0.5}, PENDING),
    ]
    history = History.from_experiments(experiments)
    assert [e.seq for e in history.completed] == [1, 4]
    assert [e.seq for e in history.pending] == [2, 5]
    assert [e.seq for e in history.failed] == [3]
    assert history.size == 5
    assert history.used_candidates() == {2, 4, 7}
    assert History().size == 0 and History().used_candidates() == set()


@pytest.mark.parametrize(("objective", "sign"), [(Objective.maximize("y"), 1.0), (Objective.minimize("y"), -1.0)])
def test_training_data_encodes_completed_and_pending(objective: Objective, sign: float) -> None:
    space = mixed_space()
    a = {"T": 20.0, "conc": 1.0, "n": 4, "t": 1.4, "s": "b"}
    b = {"T": 80.0, "conc": 0.1, "n": 1, "t": 0.7, "s": "c"}
    c = {"T": 50.0, "conc": 10.0, "n": 2, "t": 1.05, "s": "a"}
    history = History.from_experiments(
        [experiment(1, a, y=3.0), experiment(2, c, PENDING), experiment(3, b, y=-1.5), experiment(4, b, FAILED)]
    )
    data = training_data(space, objective, history)
    np.testing.assert_array_equal(data.X, space.encode([a, b]))
    np.testing.assert_array_equal(data.y, sign * np.array([3.0, -1.5]))
    np.testing.assert_array_equal(data.pending, space.encode([c]))
    assert data.X.shape == (2, space.dim) and data.pending.shape == (1, space.dim)
    assert data.X.min() >= 0 and data.X.max() <= 1


def test_training_data_of_empty_history() -> None:
    space = mixed_space()
    data = training_data(space, OBJECTIVE, History())
    assert data.X.shape == (0, space.dim)
    assert data.y.shape == (0,)
    assert data.pending.shape == (0, space.dim)


def test_training_data_in_a_pool() -> None:
    domain = pool()
    history = pool_history({COMPLETED: [1, 6], PENDING: [3]}, domain)
    data = training_data(domain, Objective.minimize("y"), history)
    np.testing.assert_array_equal(data.X, domain.encoded[[1, 6]])
    np.testing.assert_array_equal(data.pending, domain.encoded[[3]])
    np.testing.assert_array_equal(data.y, [-1.0, -2.0])


def test_training_data_with_descriptors_and_nothing_pending() -> None:
    space = SearchSpace([Categorical("lig", ("a", "b"), {"a": (1.0,), "b": (2.0,)}), Continuous("x", 0, 1)])
    history = History.from_experiments([experiment(1, {"lig": "a", "x": 0.5})])
    assert training_data(space, OBJECTIVE, history).pending.shape == (0, 2)


def test_available_candidates() -> None:
    domain = pool()
    history = pool_history({COMPLETED: [0], PENDING: [5], FAILED: [2]}, domain)
    np.testing.assert_array_equal(available_candidates(domain, history), [1, 3, 4, 6, 7])
    np.testing.assert_array_equal(available_candidates(pool(allow_repeats=True), history), range(8))
    assert available_candidates(domain, History()).tolist() == list(range(8))
    everything = pool_history({COMPLETED: list(range(8))}, domain)
    assert available_candidates(domain, everything).shape == (0,)


# -------------------------------------------------------------------------------------------- helpers
def assert_valid_space_proposals(space: SearchSpace, proposals: list[Proposal], n: int) -> None:
    assert len(proposals) == n
    for proposal in proposals:
        assert proposal.candidate is None
        assert space.validate(proposal.params) == dict(proposal.params)


def assert_valid_pool_proposals(domain: CandidatePool, proposals: list[Proposal], forbidden: set[int]) -> None:
    keys = [p.candidate for p in proposals]
    assert len(set(keys)) == len(keys)
    for proposal in proposals:
        assert isinstance(proposal.candidate, int)
        assert proposal.candidate not in forbidden
        assert dict(proposal.params) == domain.row(proposal.candidate)
        assert domain.key_of(proposal.params) == proposal.candidate


STRATEGIES = [RandomStrategy(), SpaceFillingStrategy(candidates=256)]


# ------------------------------------------------------------------------------------ both strategies
@pytest.mark.parametrize("strategy", STRATEGIES, ids=["random", "sobol"])
def test_space_proposals_are_valid_and_deterministic(strategy: Any) -> None:
    space = mixed_space()
    proposals = strategy.propose(space, OBJECTIVE, History(), 6, seed=3)
    assert_valid_space_proposals(space, proposals, 6)
    assert strategy.propose(space, OBJECTIVE, History(), 6, seed=3) == proposals
    other = strategy.propose(space, OBJECTIVE, History(), 6, seed=4)
    assert [p.params["T"] for p in other] != [p.params["T"] for p in proposals]
    assert len({p.params["T"] for p in proposals}) == 6


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["random", "sobol"])
def test_constrained_space_proposals_are_feasible(strategy: Any) -> None:
    space = SearchSpace(
        [Continuous("x", 0, 1), Integer("k", 0, 3)],
        compositions=[Composition("mix", ("p", "q", "r"), total=1, bounds={"p": (0.1, 0.5)})],
        constraints=[LinearConstraint({"x": 1, "q": 1}, 1, "<=")],
    )
    strategy = SpaceFillingStrategy(candidates=32) if isinstance(strategy, SpaceFillingStrategy) else strategy
    assert_valid_space_proposals(space, strategy.propose(space, OBJECTIVE, History(), 5, seed=0), 5)


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["random", "sobol"])
def test_pool_rows_are_never_repeated(strategy: Any) -> None:
    domain = pool()
    used = {0, 2, 5}
    history = pool_history({COMPLETED: [0], PENDING: [2], FAILED: [5]}, domain)
    for seed in range(5):
        proposals = strategy.propose(domain, OBJECTIVE, history, 3, seed=seed)
        assert len(proposals) == 3
        assert_valid_pool_proposals(domain, proposals, used)
        assert strategy.propose(domain, OBJECTIVE, history, 3, seed=seed) == proposals
    # asking for more than is left returns what is left, then nothing
    rest = strategy.propose(domain, OBJECTIVE, history, 10, seed=0)
    assert sorted(p.candidate for p in rest) == [1, 3, 4, 6, 7]
    everything = pool_history({COMPLETED: list(range(8))}, domain)
    assert strategy.propose(domain, OBJECTIVE, everything, 2, seed=0) == []


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["random", "sobol"])
def test_pool_with_repeats_may_return_used_rows(strategy: Any) -> None:
    domain = pool(allow_repeats=True)
    history = pool_history({COMPLETED: list(range(8))}, domain)
    proposals = strategy.propose(domain, OBJECTIVE, history, 8, seed=1)
    assert sorted(p.candidate for p in proposals) == list(range(8))
    assert_valid_pool_proposals(domain, proposals, set())


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["random", "sobol"])
def test_nothing_asked_nothing_proposed(strategy: Any) -> None:
    assert strategy.propose(mixed_space(), OBJECTIVE, History(), 0, seed=0) == []
    assert strategy.propose(pool(), OBJECTIVE, History(), 0, seed=0) == []


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["random", "sobol"])
def test_strategies_meet_the_protocol(strategy: Any) -> None:
    assert isinstance(strategy, Strategy)


def test_to_config() -> None:
    assert RandomStrategy().to_config() == {"kind": "random"}
    assert SpaceFillingStrategy().to_config() == {"kind": "sobol", "candidates": 1024}
    assert SpaceFillingStrategy(candidates=64).to_config() == {"kind": "sobol", "candidates": 64}


# ------------------------------------------------------------------------------------------------ random
def test_random_pool_draws_vary_with_seed() -> None:
    draws = {
        tuple(p.candidate for p in RandomStrategy().propose(pool(), OBJECTIVE, History(), 3, seed=s)) for s in range(10)
    }
    assert len(draws) > 5


def test_random_space_proposals_are_distinct_in_a_discrete_space() -> None:
    space = SearchSpace([Integer("k", 0, 9)])
    for seed in range(10):
        values = [p.params["k"] for p in RandomStrategy().propose(space, OBJECTIVE, History(), 5, seed=seed)]
        assert len(set(values)) == 5, values


# ------------------------------------------------------------------------------------------ space-filling
def test_space_filling_avoids_the_history() -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    history = History.from_experiments([experiment(1, {"x": 0.0}), experiment(2, {"x": 1.0}, PENDING)])
    proposals = SpaceFillingStrategy().propose(space, OBJECTIVE, history, 3, seed=0)
    values = [p.params["x"] for p in proposals]
    assert values[0] == pytest.approx(0.5, abs=0.01)
    assert sorted(values[1:]) == pytest.approx([0.25, 0.75], abs=0.01)


def test_space_filling_counts_failed_experiments() -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    history = History.from_experiments([experiment(1, {"x": 0.0}, FAILED)])
    (proposal,) = SpaceFillingStrategy().propose(space, OBJECTIVE, history, 1, seed=0)
    assert proposal.params["x"] > 0.99


def test_space_filling_pool_prefers_unused_rows_and_far_rows() -> None:
    domain = CandidatePool(["x"], [[float(i)] for i in range(11)], allow_repeats=True)
    history = pool_history({COMPLETED: [0, 10]}, domain)
    proposals = SpaceFillingStrategy().propose(domain, OBJECTIVE, history, 3, seed=0)
    assert proposals[0].candidate == 5
    assert sorted(p.candidate for p in proposals[1:]) in ([2, 7], [2, 8], [3, 7], [3, 8])
    assert {p.candidate for p in SpaceFillingStrategy().propose(domain, OBJECTIVE, history, 11, seed=0)[:9]}.isdisjoint(
        {0, 10}
    )


def _min_distance(points: np.ndarray) -> float:
    return min(float(np.linalg.norm(a - b)) for a, b in combinations(points, 2))


def test_space_filling_is_more_spread_than_random() -> None:
    space = SearchSpace([Continuous("x", 0, 1), Continuous("y", 0, 1), Continuous("z", -5, 5)])
    spread: dict[str, list[float]] = {"random": [], "sobol": []}
    for seed in range(12):
        for name, strategy in (("random", RandomStrategy()), ("sobol", SpaceFillingStrategy(candidates=512))):
            proposals = strategy.propose(space, OBJECTIVE, History(), 10, seed=seed)
            spread[name].append(_min_distance(space.encode([p.params for p in proposals])))
    assert np.mean(spread["sobol"]) > 1.5 * np.mean(spread["random"])
    assert all(s > r for s, r in zip(spread["sobol"], spread["random"], strict=True))


def test_space_filling_on_a_tiny_discrete_space_does_not_repeat_while_it_can() -> None:
    space = SearchSpace([Categorical("c", ("a", "b")), Integer("k", 0, 1)])
    proposals = SpaceFillingStrategy(candidates=64).propose(space, OBJECTIVE, History(), 4, seed=2)
    assert {(p.params["c"], p.params["k"]) for p in proposals} == {("a", 0), ("a", 1), ("b", 0), ("b", 1)}
