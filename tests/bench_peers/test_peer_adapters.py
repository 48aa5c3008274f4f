"""Every peer adapter on a small pool (2 numeric + 1 text column) and on a 2-d continuous space."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from kiln.bench.peers import LIBRARIES, PEERS
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space import CandidatePool, Continuous, SearchSpace
from kiln.strategies.base import History, Strategy

OBJECTIVE = Objective.minimize("y")  # a minimised target: adapters must work with the utility (-y)
ADAPTERS = [name for name in PEERS if not name.startswith("baybe-")]
"""One name per adapter: baybe-mordred, -ecfp and -rdkit2d are BayBE with an encoding (tests/bench_peers/
test_peer_baybe_encodings.py)."""

# Peers with an initial random phase get a short one, so 6 results reach their model.
OPTIONS: dict[str, dict[str, Any]] = {"skopt-gp": {"initial_points": 5}, "optuna-tpe": {"initial_points": 5}}
OPTIONS |= {"optuna-gp": {"initial_points": 5}, "ax": {"initial_points": 5}}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """One torch thread, as Kiln's own GP code uses: much faster on a small, busy machine."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def make(name: str) -> Strategy:
    pytest.importorskip(LIBRARIES[name])
    strategy = PEERS[name]()
    return type(strategy)(**OPTIONS.get(name, {}))  # type: ignore[call-arg]


def experiment(
    i: int, params: dict[str, Any], status: ExperimentStatus, y: float | None, key: int | None
) -> Experiment:
    results = {} if y is None else {"y": y}
    return Experiment(id=f"e{i}", seq=i + 1, params=params, status=status, results=results, candidate=key)


def small_pool() -> CandidatePool:
    rng = np.random.default_rng(7)
    rows = [
        [round(float(rng.uniform(20, 80)), 2), float(rng.integers(1, 4)), str(rng.choice(["water", "ethanol", "dmf"]))]
        for _ in range(40)
    ]
    return CandidatePool(["temperature", "ratio", "solvent"], rows)


def pool_history(pool: CandidatePool) -> History:
    """6 completed rows (keys 0-5), one running (6) and one failed (7)."""

    def y(key: int) -> float:
        row = pool.row(key)
        return (row["temperature"] - 60.0) ** 2 / 100 + row["ratio"] + (row["solvent"] == "dmf")

    completed = [experiment(k, pool.row(k), ExperimentStatus.COMPLETED, y(k), k) for k in range(6)]
    pending = [experiment(6, pool.row(6), ExperimentStatus.PENDING, None, 6)]
    failed = [experiment(7, pool.row(7), ExperimentStatus.FAILED, None, 7)]
    return History(completed=tuple(completed), pending=tuple(pending), failed=tuple(failed))


SPACE = SearchSpace([Continuous("a", 0.0, 1.0), Continuous("b", 1.0, 100.0, log=True)])


def space_history() -> History:
    rng = np.random.default_rng(3)
    points = [{"a": float(rng.random()), "b": float(np.exp(rng.uniform(0.0, np.log(100.0))))} for _ in range(6)]
    return History(
        completed=tuple(
            experiment(i, p, ExperimentStatus.COMPLETED, (p["a"] - 0.3) ** 2 + abs(np.log10(p["b"]) - 1), None)
            for i, p in enumerate(points)
        )
    )


@pytest.mark.parametrize("name", ADAPTERS)
def test_pool_proposals_are_unused_rows_and_repeatable(name: str) -> None:
    strategy = make(name)
    pool = small_pool()
    history = pool_history(pool)
    proposals = strategy.propose(pool, OBJECTIVE, history, 1, seed=11)
    assert len(proposals) == 1
    key = proposals[0].candidate
    assert key is not None and key not in history.used_candidates()
    assert dict(proposals[0].params) == pool.row(key)
    assert strategy.propose(pool, OBJECTIVE, history, 1, seed=11) == proposals  # deterministic for a seed


@pytest.mark.parametrize("name", ADAPTERS)
def test_space_proposals_are_valid_points(name: str) -> None:
    strategy = make(name)
    proposals = strategy.propose(SPACE, OBJECTIVE, space_history(), 1, seed=5)
    assert len(proposals) == 1 and proposals[0].candidate is None
    assert SPACE.validate(proposals[0].params) == dict(proposals[0].params)


@pytest.mark.parametrize("name", [n for n in ADAPTERS if n != "ax"])  # ax: covered by the equivalence test below
def test_batches_are_distinct_unused_rows(name: str) -> None:
    pool = small_pool()
    history = pool_history(pool)
    proposals = make(name).propose(pool, OBJECTIVE, history, 2, seed=2)
    keys = [p.candidate for p in proposals]
    assert len(keys) == 2 and len(set(keys)) == 2
    assert not set(keys) & history.used_candidates()


@pytest.mark.parametrize("name", ADAPTERS)
def test_an_exhausted_pool_gives_nothing(name: str) -> None:
    pool = CandidatePool(["x", "s"], [[1.0, "a"], [2.0, "b"]])
    done = [experiment(k, pool.row(k), ExperimentStatus.COMPLETED, float(k), k) for k in range(2)]
    assert make(name).propose(pool, OBJECTIVE, History(completed=tuple(done)), 1, seed=0) == []


def test_ax_bulk_tell_matches_complete_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter attaches all data at once; Ax's own attach_trial + complete_trial path gives the same batch."""
    strategy = make("ax")
    pool = small_pool()
    history = pool_history(pool)
    fast = strategy.propose(pool, OBJECTIVE, history, 2, seed=4)
    module = importlib.import_module("kiln.bench.peers.ax_client")

    def tell_one_by_one(client: Any, experiment: Any, problem: Any) -> None:
        for params, value in zip(problem.X, problem.y, strict=True):
            client.complete_trial(client.attach_trial(params), {module.METRIC: float(value)})

    monkeypatch.setattr(module, "_tell", tell_one_by_one)
    assert strategy.propose(pool, OBJECTIVE, history, 2, seed=4) == fast
    assert len({p.candidate for p in fast}) == 2
