"""Unit tests of kiln.models.feasibility, and the strategy steering away from where experiments fail."""

from __future__ import annotations

import numpy as np

from kiln import CandidatePool, Objective
from kiln.core.records import Experiment, ExperimentStatus
from kiln.models.feasibility import MIN_FAILURES, fit_feasibility
from kiln.strategies.base import History
from kiln.strategies.bayes import BayesStrategy


def test_classifier_learns_a_failing_corner() -> None:
    rng = np.random.default_rng(0)
    X = rng.random((60, 2))
    fails = (X[:, 0] < 0.3) & (X[:, 1] < 0.5)
    model = fit_feasibility(X[~fails], X[fails], seed=0)
    assert model is not None
    inside = model.probability(np.array([[0.1, 0.2], [0.15, 0.3]]))
    outside = model.probability(np.array([[0.8, 0.8], [0.6, 0.2]]))
    assert (inside < 0.3).all() and (outside > 0.7).all()
    assert model.feasible(np.array([[0.1, 0.2], [0.8, 0.8]])).tolist() == [False, True]


def test_nothing_is_learned_from_too_few_failures() -> None:
    X = np.random.default_rng(1).random((10, 2))
    assert fit_feasibility(X, X[: MIN_FAILURES - 1]) is None
    assert fit_feasibility(np.zeros((0, 2)), X) is None


def _history(pool: CandidatePool, done: list[int], failed: list[int]) -> History:
    experiments = [
        Experiment(
            f"d{k}", i, pool.row(k), ExperimentStatus.COMPLETED, results={"y": 1.0 - pool.row(k)["x"]}, candidate=k
        )
        for i, k in enumerate(done, 1)
    ] + [
        Experiment(f"f{k}", 100 + i, pool.row(k), ExperimentStatus.FAILED, reason="no film", candidate=k)
        for i, k in enumerate(failed, 1)
    ]
    return History.from_experiments(experiments)


def test_proposals_avoid_the_region_where_experiments_failed() -> None:
    pool = CandidatePool(["x"], [[i / 99] for i in range(100)])  # y = 1 - x: the best lies at x = 0
    history = _history(pool, done=[40, 50, 60, 70, 80, 90], failed=[5, 12, 20, 27])  # x < 0.3 fails
    objective = Objective.maximize("y")
    aware = BayesStrategy(acquisition="ucb").propose(pool, objective, history, 5, seed=0)
    blind = BayesStrategy(acquisition="ucb", feasibility=False).propose(pool, objective, history, 5, seed=0)
    assert all(p.params["x"] >= 0.3 for p in aware)
    assert any(p.params["x"] < 0.3 for p in blind)  # without the classifier it goes for the failing region


def test_failed_dispatches_teach_nothing() -> None:
    pool = CandidatePool(["x"], [[i / 99] for i in range(100)])
    history = _history(pool, done=[40, 50, 60, 70, 80, 90], failed=[])
    lost = [
        Experiment(
            f"l{k}", 200 + k, pool.row(k), ExperimentStatus.FAILED, reason="dispatch to 'robot' failed: x", candidate=k
        )
        for k in (5, 12, 20, 27)
    ]
    history = History.from_experiments([*history.completed, *lost])
    proposals = BayesStrategy(acquisition="ucb").propose(pool, Objective.maximize("y"), history, 3, seed=0)
    assert any(p.params["x"] < 0.3 for p in proposals)


def test_wide_inputs_share_one_lengthscale() -> None:
    """Fingerprint bits make hundreds of columns: beyond ARD_COLUMNS the classifier fits one lengthscale."""
    from kiln.models.feasibility import ARD_COLUMNS

    rng = np.random.default_rng(2)
    narrow, wide = rng.random((30, 4)), (rng.random((30, ARD_COLUMNS + 8)) < 0.3).astype(float)
    for X, shared in ((narrow, False), (wide, True)):
        fails = X[:, 0] < 0.3
        model = fit_feasibility(X[~fails], X[fails], seed=0)
        assert model is not None
        scale = model.classifier.kernel_.k2.length_scale  # type: ignore[attr-defined]
        assert np.ndim(scale) == (0 if shared else 1)
