"""BayesStrategy with the random-forest surrogate (model="forest"): pools, search spaces, batches, settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.models.forest import fit_forest
from kiln.objective import Objective
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.acquisition import ACQUISITIONS, UCB, build_acquisition, score
from kiln.strategies.base import History
from kiln.strategies.bayes import BayesStrategy
from kiln.strategies.registry import strategy_from_config

OBJECTIVE = Objective.maximize("y")
KINDS = sorted(ACQUISITIONS)
FOREST: dict[str, Any] = {"model": "forest", "trees": 30}
RNG = np.random.default_rng(0)
POOL = CandidatePool(["u", "v"], RNG.random((300, 2)).round(4).tolist())
OPTIMUM = np.array([0.7, 0.3])


def peak(X: np.ndarray) -> np.ndarray:
    return np.exp(-((X - OPTIMUM) ** 2).sum(-1) / 0.05)


def pool_history(keys: Sequence[int], pending: Sequence[int] = (), failed: Sequence[int] = ()) -> History:
    def experiment(i: int, key: int, status: ExperimentStatus) -> Experiment:
        done = status is ExperimentStatus.COMPLETED
        results = {"y": float(peak(POOL.encoded[key]))} if done else {}
        return Experiment(id=f"e{i}", seq=i + 1, params=POOL.row(key), status=status, results=results, candidate=key)

    statuses = [ExperimentStatus.COMPLETED] * len(keys) + [ExperimentStatus.PENDING] * len(pending)
    statuses += [ExperimentStatus.FAILED] * len(failed)
    every = [*keys, *pending, *failed]
    return History.from_experiments([experiment(i, k, s) for i, (k, s) in enumerate(zip(every, statuses, strict=True))])


def history(points: Sequence[Mapping[str, Any]], values: Sequence[float]) -> History:
    return History.from_experiments(
        [
            Experiment(id=f"e{i}", seq=i + 1, params=p, status=ExperimentStatus.COMPLETED, results={"y": float(v)})
            for i, (p, v) in enumerate(zip(points, values, strict=True))
        ]
    )


KEYS = list(range(0, 300, 12))  # 25 measured rows


# ---------------------------------------------------------------------------------------------------- pools
@pytest.mark.parametrize("kind", KINDS)
def test_pool_proposals_are_new_rows_near_the_peak(kind: str) -> None:
    strategy = BayesStrategy(acquisition=UCB(kappa=1.0) if kind == "ucb" else kind, **FOREST)
    batch = strategy.propose(POOL, OBJECTIVE, pool_history(KEYS), 3, seed=0)
    keys = [int(p.candidate) for p in batch if p.candidate is not None]
    assert len(set(keys)) == 3 and not set(keys) & set(KEYS)
    assert all(p.params == POOL.row(k) for p, k in zip(batch, keys, strict=True))
    nearest = np.linalg.norm(POOL.encoded[keys] - OPTIMUM, axis=1).min()  # EI may explore with one of them
    assert nearest < np.quantile(np.linalg.norm(POOL.encoded - OPTIMUM, axis=1), 0.1)


def test_pool_proposals_are_deterministic_per_seed() -> None:
    strategy = BayesStrategy(acquisition="ucb", **FOREST)
    a, b = (strategy.propose(POOL, OBJECTIVE, pool_history(KEYS), 3, seed=4) for _ in range(2))
    assert a == b
    ts = BayesStrategy(acquisition="ts", **FOREST)
    assert ts.propose(POOL, OBJECTIVE, pool_history(KEYS), 3, seed=4) == ts.propose(
        POOL, OBJECTIVE, pool_history(KEYS), 3, seed=4
    )


@pytest.mark.parametrize("kind", ["logei", "ts"])
def test_pool_never_reuses_candidates_and_runs_out(kind: str) -> None:
    small = CandidatePool(["u", "v"], POOL.encoded[:12].tolist())
    experiments = [
        Experiment(
            id=f"e{k}",
            seq=k + 1,
            params=small.row(k),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(peak(small.encoded[k]))},
            candidate=k,
        )
        for k in range(6)
    ]
    experiments.append(Experiment(id="r", seq=20, params=small.row(8), candidate=8))
    experiments.append(Experiment(id="f", seq=21, params=small.row(11), status=ExperimentStatus.FAILED, candidate=11))
    proposals = BayesStrategy(acquisition=kind, **FOREST).propose(
        small, OBJECTIVE, History.from_experiments(experiments), 10, seed=0
    )
    assert sorted(p.candidate for p in proposals) == [6, 7, 9, 10]  # type: ignore[type-var]


def test_pending_rows_are_believed_and_change_the_choice() -> None:
    strategy = BayesStrategy(acquisition="ucb", **FOREST)
    [first] = strategy.propose(POOL, OBJECTIVE, pool_history(KEYS), 1, seed=0)
    assert first.candidate is not None
    [second] = strategy.propose(POOL, OBJECTIVE, pool_history(KEYS, pending=[first.candidate]), 1, seed=0)
    assert second.candidate not in (first.candidate, *KEYS)


def test_believer_refit_changes_the_acquisition_at_pending_points() -> None:
    X = POOL.encoded[KEYS]
    fitted = fit_forest(X, peak(X), trees=30, seed=0)
    P = POOL.encoded[[5, 100, 200]]
    alone = score(build_acquisition("ucb", fitted), P)
    busy = score(build_acquisition("ucb", fitted, pending=P), P)
    assert (busy < alone).all()


# ------------------------------------------------------------------------------------------------ search spaces
MIXED = SearchSpace(
    [
        Continuous("x", 0, 1),
        Continuous("conc", 0.1, 10, log=True),
        Integer("n", 1, 10),
        Discrete("t", (0.7, 1.05, 1.4)),
        Categorical("s", ("a", "b", "c")),
    ]
)


def mixed_value(p: Mapping[str, Any]) -> float:
    return -((p["x"] - 0.3) ** 2) - (p["n"] - 7) ** 2 / 10 + p["t"] + (p["s"] == "b") - np.log(p["conc"]) ** 2 / 10


def mixed_history(n: int = 20) -> History:
    points = sample_points(MIXED, n, seed=2)
    return history(points, [mixed_value(p) for p in points])


@pytest.mark.parametrize("kind", KINDS)
def test_mixed_space_batch_is_valid_new_and_distinct(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import botorch.optim

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a forest is never optimised by gradients")

    monkeypatch.setattr(botorch.optim, "optimize_acqf", forbidden)
    h = mixed_history()
    batch = BayesStrategy(acquisition=kind, **FOREST).propose(MIXED, OBJECTIVE, h, 3, seed=0)
    assert len(batch) == 3
    seen = MIXED.encode([e.params for e in h.completed])
    X = MIXED.encode([p.params for p in batch])
    for proposal, x in zip(batch, X, strict=True):
        assert MIXED.validate(proposal.params) == proposal.params and proposal.candidate is None
        assert np.abs(seen - x).max(1).min() > 1e-7
    assert min(np.abs(X[i] - X[j]).max() for i in range(3) for j in range(i)) > 1e-7


def test_mixed_space_proposals_are_deterministic_and_good() -> None:
    strategy = BayesStrategy(**FOREST)
    a = strategy.propose(MIXED, OBJECTIVE, mixed_history(), 2, seed=7)
    assert a == strategy.propose(MIXED, OBJECTIVE, mixed_history(), 2, seed=7)
    random = [mixed_value(p) for p in sample_points(MIXED, 500, seed=9)]
    assert mixed_value(a[0].params) > np.quantile(random, 0.8)


def test_composition_and_linear_constraints_hold() -> None:
    space = SearchSpace(
        [Continuous("T", 20, 80)],
        compositions=[Composition("mix", ("A", "B", "C"), total=100.0, bounds={"A": (10.0, 60.0)})],
        constraints=[LinearConstraint({"A": 1.0, "B": 2.0}, 120.0, "<=")],
    )
    points = sample_points(space, 10, seed=1)
    values = [-((p["A"] - 40) ** 2) - (p["B"] - 30) ** 2 - (p["T"] - 50) ** 2 for p in points]
    proposals = BayesStrategy(acquisition="logei", **FOREST).propose(
        space, OBJECTIVE, history(points, values), 3, seed=3
    )
    assert len(proposals) == 3
    for proposal in proposals:
        p = space.validate(proposal.params)
        assert abs(p["A"] + p["B"] + p["C"] - 100.0) <= 1e-6 and p["A"] + 2 * p["B"] <= 120.0 + 1e-9


def test_a_finite_space_is_not_proposed_twice() -> None:
    space = SearchSpace([Integer("n", 1, 3), Categorical("s", ("a", "b"))])
    measured = [{"n": n, "s": s} for n in (1, 2) for s in ("a", "b")]
    proposals = BayesStrategy(**FOREST).propose(space, OBJECTIVE, history(measured, [1.0, 2.0, 3.0, 4.0]), 3, seed=0)
    assert sorted((p.params["n"], p.params["s"]) for p in proposals) == [(3, "a"), (3, "b")]


# ------------------------------------------------------------------------------------------ settings and config
def test_settings_round_trip_through_the_registry() -> None:
    strategy = strategy_from_config({"kind": "bayes", "model": "forest", "trees": 50, "acquisition": "ucb"})
    assert isinstance(strategy, BayesStrategy) and strategy.model == "forest" and strategy.trees == 50
    config = strategy.to_config()
    assert config["model"] == "forest" and config["trees"] == 50 and "ard" not in config
    assert strategy_from_config(config) == strategy
    iso = BayesStrategy(ard=False, kernel="rbf")
    assert iso.to_config()["ard"] is False and strategy_from_config(iso.to_config()) == iso


def test_configs_without_the_new_settings_get_the_defaults() -> None:
    old = {"kind": "bayes", "kernel": "matern52", "acquisition": "logei", "kappa": 2.0, "raw_samples": 256}
    strategy = strategy_from_config(old)
    assert isinstance(strategy, BayesStrategy)
    assert (strategy.model, strategy.ard, strategy.trees) == ("gp", True, 100)
    want = {k: v for k, v in old.items() if k != "kappa"}  # a strategy-level kappa was never read by logei
    assert strategy.to_config() == {**want, "acquisition": {"kind": "logei"}, "restarts": 4}


@pytest.mark.parametrize(
    "options, field, allowed",
    [
        ({"model": "svm"}, "model", "['forest', 'gp']"),
        ({"model": None}, "model", "['forest', 'gp']"),
        ({"ard": "yes"}, "ard", "true or false"),
        ({"ard": 1}, "ard", "true or false"),
        ({"trees": 1}, "trees", "an integer from 2 to 10000"),
        ({"trees": 10.0}, "trees", "an integer from 2 to 10000"),
        ({"trees": True}, "trees", "an integer from 2 to 10000"),
        ({"trees": 10_001}, "trees", "an integer from 2 to 10000"),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], field: str, allowed: str) -> None:
    with pytest.raises(ValidationError) as raised:
        BayesStrategy(**options)
    assert str(raised.value).startswith(f"strategy 'bayes': {field}: got") and allowed in str(raised.value)
