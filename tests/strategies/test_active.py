"""Active learning (kiln.strategies.active): the Strategy contract for every mapping acquisition in pools and
search spaces, the IPV scores against BoTorch's qNegIntegratedPosteriorVariance, several targets, the default
strategy under ``goal: map``, a better map than random sampling on a synthetic pool, and clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from kiln.core.errors import KilnError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, Target
from kiln.space.constraints import Composition
from kiln.space.parameters import Categorical, Continuous, Integer
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.active import MapStrategy, map_scores
from kiln.strategies.base import History
from kiln.strategies.default import DefaultStrategy
from kiln.strategies.registry import strategy_from_config

COMPLETED, PENDING = ExperimentStatus.COMPLETED, ExperimentStatus.PENDING
MAP = Objective((Target("y"),), goal="map")
TWO = Objective((Target("y"), Target("z", "min")), goal="map")
STRATEGIES = {
    "ipv": MapStrategy(),
    "variance": MapStrategy(acquisition="variance"),
    "spacefill": MapStrategy(acquisition="spacefill"),
    "igs": MapStrategy(acquisition="igs"),
    "medoids": MapStrategy(acquisition="medoids"),
    "default": DefaultStrategy(),
}


def truth(params: Mapping[str, Any]) -> dict[str, float]:
    values = [float(v) if not isinstance(v, str) else float(ord(v) - 97) for v in params.values()]
    x = np.array(values) / (1.0 + np.abs(values).max())
    return {"y": float(np.sin(4 * x).sum()), "z": float((x**2).sum())}


def grid_pool(size: int = 12) -> CandidatePool:
    rows = [(i / (size - 1), j / (size - 1)) for i in range(size) for j in range(size)]
    return CandidatePool(["a", "b"], rows)


def history_of(
    domain: Any, keys: list[int] | None = None, points: list[dict[str, Any]] | None = None, pending: int = 0
) -> History:
    """Completed experiments at pool rows ``keys`` (or at ``points``); the last ``pending`` of them pending."""
    rows = [(domain.row(k), k) for k in keys] if keys is not None else [(p, None) for p in points or []]
    done = rows[: len(rows) - pending]
    running = rows[len(rows) - pending :]
    completed = tuple(
        Experiment(id=f"e{i}", seq=i + 1, params=p, status=COMPLETED, results=truth(p), candidate=k)
        for i, (p, k) in enumerate(done)
    )
    waiting = tuple(
        Experiment(id=f"p{i}", seq=100 + i, params=p, status=PENDING, candidate=k) for i, (p, k) in enumerate(running)
    )
    return History(completed=completed, pending=waiting)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("objective", [MAP, TWO], ids=["one target", "two targets"])
def test_pool_contract(name: str, objective: Objective) -> None:
    pool = grid_pool()
    strategy = STRATEGIES[name]
    history = history_of(pool, [0, 5, 30, 77, 100, 143, 60, 12], pending=2)
    first = strategy.propose(pool, objective, history, 4, seed=3)
    again = strategy.propose(pool, objective, history, 4, seed=3)
    keys = [p.candidate for p in first]
    assert keys == [p.candidate for p in again]  # deterministic for a seed
    assert len(keys) == 4 and len(set(keys)) == 4  # distinct within the batch
    assert not set(keys) & history.used_candidates()  # never measured or pending rows
    for proposal in first:
        assert proposal.candidate is not None and dict(proposal.params) == pool.row(proposal.candidate)


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_pool_runs_out(name: str) -> None:
    pool = grid_pool(3)
    history = history_of(pool, list(range(7)))
    proposals = STRATEGIES[name].propose(pool, MAP, history, 5, seed=0)
    assert sorted(p.candidate for p in proposals) == [7, 8]
    assert STRATEGIES[name].propose(pool, MAP, history_of(pool, list(range(9))), 2, seed=0) == []


SPACES = {
    "continuous": SearchSpace([Continuous("a", 0, 1), Continuous("b", -2, 2)]),
    "mixed": SearchSpace([Continuous("a", 0, 1), Integer("n", 1, 6), Categorical("s", ("p", "q", "r"))]),
    "composition": SearchSpace(
        [Continuous("T", 20, 80)], compositions=[Composition("mix", ("A", "B", "C"), total=1.0)]
    ),
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("space_name", sorted(SPACES))
def test_space_contract(name: str, space_name: str) -> None:
    from kiln.space.sampling import sample_points

    space = SPACES[space_name]
    points = sample_points(space, 8, seed=1, method="random")
    history = history_of(space, points=points, pending=2)
    strategy = STRATEGIES[name]
    first = strategy.propose(space, MAP, history, 3, seed=5)
    assert [dict(p.params) for p in first] == [dict(p.params) for p in strategy.propose(space, MAP, history, 3, seed=5)]
    assert len(first) == 3
    encoded = space.encode([p.params for p in first])
    seen = space.encode(points)
    for i, proposal in enumerate(first):
        assert space.validate(proposal.params) == dict(proposal.params)  # feasible (constraints held)
        assert np.abs(seen - encoded[i]).max(1).min() > 1e-7  # not an experiment of the history
        assert all(np.abs(encoded[j] - encoded[i]).max() > 1e-7 for j in range(i))  # distinct in the batch


def test_ipv_scores_are_botorch_qnipv() -> None:
    """The closed-form reduction equals the integrated variance before minus BoTorch's qNIPV after, point by point."""
    import torch
    from botorch.acquisition.active_learning import qNegIntegratedPosteriorVariance

    from kiln.models.gp import fit_gp

    rng = np.random.default_rng(0)
    X = rng.random((15, 2))
    gp = fit_gp(X, np.sin(6 * X[:, 0]) + X[:, 1], seed=0)
    C, M = rng.random((40, 2)), rng.random((64, 2))
    ours = map_scores("ipv", [gp], C, M)
    acquisition = qNegIntegratedPosteriorVariance(gp.model, mc_points=torch.as_tensor(M))
    with torch.no_grad():
        theirs = acquisition(torch.as_tensor(C).unsqueeze(-2)).numpy()
        before = float(gp.moments(torch.as_tensor(M))[1].mean())
    np.testing.assert_allclose(before - ours, -theirs, rtol=1e-8, atol=1e-10)
    assert np.ptp(ours) > 1e-3  # the scores tell candidates apart


def test_igs_scores_are_the_smallest_product_of_input_and_output_distances() -> None:
    """Improved greedy sampling (Wu, Lin and Huang 2019), checked against the definition row by row: for each
    candidate, the smallest over the measured points of ||c - x_i|| |f(c) - y_i| (f the GP mean, standardised)."""
    from kiln.strategies.active import fit_map_models

    pool = grid_pool()
    history = history_of(pool, [0, 143, 11, 132, 70, 40])
    fitted = fit_map_models(pool, MAP, history, seed=0)
    assert fitted is not None
    (gp,) = fitted.gps
    X = np.asarray(pool.encoded, dtype=float)
    scores = map_scores("igs", [gp], X, X)
    train_x = gp.model.train_inputs[0].numpy()
    train_y = gp.model.train_targets.numpy()
    mean = (gp.posterior_mean_std(X)[0] - gp.y_mean) / gp.y_std
    by_hand = [
        min(np.linalg.norm(x - xi) * abs(m - yi) for xi, yi in zip(train_x, train_y, strict=True))
        for x, m in zip(X, mean, strict=True)
    ]
    np.testing.assert_allclose(scores, by_hand, rtol=1e-9, atol=1e-12)
    assert scores[[0, 143, 11, 132, 70, 40]].max() == pytest.approx(0.0, abs=1e-12)  # measured rows score nothing


def test_medoids_follow_the_population_where_maximin_reaches_for_the_ends() -> None:
    """On 101 evenly spread points of [0, 1] (population and candidates), greedy facility location starts at the
    median 0.5, then (given 0.5) at 1/6 or 5/6, the x that maximises the gain x (1/2 - x) + (1/2 - x)^2 / 4;
    maximin starts at an end. Points already measured count."""
    from kiln.strategies.representative import greedy_medoids

    line = np.linspace(0.0, 1.0, 101).reshape(-1, 1)
    first, second = greedy_medoids(line, line, np.zeros((0, 1)), 2)
    assert (
        line[first, 0] == pytest.approx(0.5) and min(abs(line[second, 0] - 1 / 6), abs(line[second, 0] - 5 / 6)) < 0.011
    )
    (after,) = greedy_medoids(line, line, np.array([[0.5], [1 / 6]]), 1)
    assert line[after, 0] == pytest.approx(5 / 6, abs=0.011)  # the stretch left far from a measurement
    pool = CandidatePool(["a"], [[float(v)] for v in line[:, 0]])
    spread = MapStrategy(acquisition="spacefill").propose(pool, MAP, History(), 2, seed=0)
    assert {0.0, 1.0} & {p.params["a"] for p in spread}


def test_pending_points_change_the_choice() -> None:
    """With the first choice pending, the next ask goes elsewhere (the variance there has been folded away)."""
    pool = grid_pool()
    strategy = MapStrategy(acquisition="variance")
    history = history_of(pool, [0, 143, 11, 132, 70])
    first = strategy.propose(pool, MAP, history, 1, seed=0)[0]
    pending = History(
        completed=history.completed,
        pending=(Experiment(id="p", seq=9, params=first.params, status=PENDING, candidate=first.candidate),),
    )
    second = strategy.propose(pool, MAP, pending, 1, seed=0)[0]
    assert second.candidate != first.candidate
    x = np.array([[first.params["a"], first.params["b"]]])
    y = np.array([[second.params["a"], second.params["b"]]])
    assert np.abs(x - y).max() > 1.5 / 11  # not a neighbour of the pending point


def _pool_r2(strategy: Any, seed: int, budget: int = 12) -> float:
    """R^2 over a synthetic 3-D pool (300 rows) of Kiln's GP after ``budget`` experiments chosen by ``strategy``."""
    import pandas as pd

    from kiln.bench.backtest import PoolProblem, run_order
    from kiln.bench.mapping import pool_error

    X = np.random.default_rng(11).random((300, 3))
    values = np.sin(3 * X[:, 0]) * np.cos(3 * X[:, 1]) + X[:, 2] ** 2
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": values})
    problem = PoolProblem.from_frame(frame, ["a", "b", "c"], "y")
    objective = Objective(problem.objective.targets, goal="map")
    start, chosen = run_order(
        problem.pool, objective, lambda k: {"y": float(problem.values[k])}, strategy, seed=seed, budget=budget
    )
    return pool_error(problem, [*start, *chosen], seed=0)[1]


def test_ipv_maps_better_than_random() -> None:
    """Median R^2 over the pool after 12 experiments, 3 fixed seeds: IPV beats random sampling by a clear margin
    (measured: random 0.77, IPV 0.94). Largest variance is left out here: at such small budgets it measures the
    pool's edges first and was no better than random on this pool."""
    from kiln.strategies.simple import RandomStrategy

    seeds = (1, 2, 3)
    random = float(np.median([_pool_r2(RandomStrategy(), s) for s in seeds]))
    mapped = float(np.median([_pool_r2(MapStrategy(), s) for s in seeds]))
    assert mapped > random + 0.1, (mapped, random)


def test_default_maps_when_the_goal_is_map() -> None:
    """Under goal: map the default strategy proposes what the MapStrategy with its mapping acquisition (and its
    kernel and transform) proposes."""
    pool = grid_pool()
    history = history_of(pool, [0, 5, 30, 77, 100, 143])
    for mapping in ("spacefill", "ipv", "variance", "igs", "medoids"):
        default = DefaultStrategy(mapping=mapping)
        alone = MapStrategy(acquisition=mapping, transform=default.transform)
        assert [p.candidate for p in default.propose(pool, MAP, history, 2, seed=1)] == [
            p.candidate for p in alone.propose(pool, MAP, history, 2, seed=1)
        ]
    ipv = DefaultStrategy(mapping="ipv")
    assert ipv.to_config()["mapping"] == "ipv" and "mapping" not in DefaultStrategy().to_config()
    assert strategy_from_config(ipv.to_config()) == ipv


def test_config_round_trip_and_errors() -> None:
    strategy = strategy_from_config({"kind": "map", "acquisition": "variance", "mc_points": 256})
    assert strategy == MapStrategy(acquisition="variance", mc_points=256)
    assert strategy_from_config(strategy.to_config()) == strategy
    with pytest.raises(KilnError) as error:
        strategy_from_config({"kind": "map", "acquisition": "entropy"})
    assert "acquisition" in str(error.value) and "ipv" in str(error.value) and "entropy" in str(error.value)
    with pytest.raises(KilnError, match="mapping"):
        DefaultStrategy(mapping="nope")
    with pytest.raises(KilnError, match="mc_points"):
        MapStrategy(mc_points=0)
