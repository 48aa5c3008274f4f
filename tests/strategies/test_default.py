"""Unit tests of kiln.strategies.default.DefaultStrategy.

The space-filling phase and the hand-over are checked with a stand-in BayesStrategy (no torch needed); the real
BO phase is checked once, skipped when kiln.strategies.bayes cannot be imported.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, OutcomeConstraint, Target
from kiln.space.parameters import Categorical, Continuous, Integer
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.acquisition import UCB
from kiln.strategies.base import History, Proposal
from kiln.strategies.default import DefaultStrategy
from kiln.strategies.simple import SpaceFillingStrategy

OBJECTIVE = Objective.maximize("y")
COMPLETED, PENDING, FAILED = ExperimentStatus.COMPLETED, ExperimentStatus.PENDING, ExperimentStatus.FAILED
SPACE = SearchSpace([Continuous("x", 0, 1), Continuous("z", -2, 2)])


@dataclass(frozen=True)
class FakeBayes:
    """Records its settings and calls; proposes a fixed marker point."""

    kernel: str = "matern52"
    acquisition: Any = None
    transform: str = "power"
    calls: ClassVar[list[tuple[Any, ...]]] = []
    made: ClassVar[list[dict[str, Any]]] = []

    def __post_init__(self) -> None:
        if self.kernel not in ("matern52", "rbf"):
            raise ValidationError("strategy 'bayes': kernel", self.kernel, "known kernels are matern52, rbf")
        FakeBayes.made.append({"kernel": self.kernel, "acquisition": self.acquisition, "transform": self.transform})

    def propose(self, domain: Any, objective: Any, history: Any, n: int, *, seed: int) -> list[Proposal]:
        FakeBayes.calls.append((domain, objective, history, n, seed))
        return [Proposal({"x": 0.123, "z": 0.0})] * n


def stand_in(monkeypatch: pytest.MonkeyPatch, module: str, name: str, fake: type) -> None:
    """Make ``from <module> import <name>`` give ``fake`` for the test."""
    stub = types.ModuleType(module)
    setattr(stub, name, fake)
    monkeypatch.setitem(sys.modules, module, stub)


@pytest.fixture
def fake_bayes(monkeypatch: pytest.MonkeyPatch) -> type[FakeBayes]:
    stand_in(monkeypatch, "kiln.strategies.bayes", "BayesStrategy", FakeBayes)
    FakeBayes.calls.clear()
    FakeBayes.made.clear()
    return FakeBayes


def history(completed: int = 0, pending: int = 0, failed: int = 0) -> History:
    experiments = []
    statuses = [COMPLETED] * completed + [PENDING] * pending + [FAILED] * failed
    for seq, status in enumerate(statuses, start=1):
        params = {"x": (seq * 0.37) % 1.0, "z": ((seq * 0.61) % 1.0) * 4 - 2}
        results = {"y": float(seq % 3) + 0.1 * seq} if status is COMPLETED else {}
        experiments.append(Experiment(id=f"exp-{seq}", seq=seq, params=params, status=status, results=results))
    return History.from_experiments(experiments)


# ------------------------------------------------------------------------------------------- settings
@pytest.mark.parametrize("initial", [-1, True, 2.5, "5", None])
def test_bad_initial(initial: Any, fake_bayes: type[FakeBayes]) -> None:
    with pytest.raises(ValidationError) as error:
        DefaultStrategy(initial=initial)
    assert str(error.value).startswith(f"strategy: initial: got {initial!r}")
    assert ">= 0" in str(error.value)


@pytest.mark.parametrize("initial", [-1, True, 2.5])
def test_bad_initial_multi(initial: Any, fake_bayes: type[FakeBayes]) -> None:
    with pytest.raises(ValidationError, match=r"strategy: initial_multi: got .*>= 0"):
        DefaultStrategy(initial_multi=initial)


def test_bo_settings_are_checked_when_built(fake_bayes: type[FakeBayes]) -> None:
    with pytest.raises(ValidationError, match="kernel"):
        DefaultStrategy(kernel="cubic")
    DefaultStrategy(initial=0, kernel="rbf", acquisition=UCB(kappa=1.5))
    assert fake_bayes.made[-1] == {"kernel": "rbf", "acquisition": UCB(kappa=1.5), "transform": "power"}


def test_to_config(fake_bayes: type[FakeBayes]) -> None:
    assert DefaultStrategy().to_config() == {
        "kind": "default",
        "initial": 5,
        "initial_multi": 2,
        "kernel": "matern52",
        "acquisition": {"kind": "ucb", "kappa": 2.0},
        "transform": "power",
    }
    assert DefaultStrategy(initial=0, acquisition="ucb").to_config()["initial"] == 0
    assert DefaultStrategy(acquisition="logei").to_config()["acquisition"] == {"kind": "logei"}


# --------------------------------------------------------------------------------------- space-filling
@pytest.mark.parametrize(
    ("initial", "counts"),
    [
        (5, {}),
        (5, {"completed": 4}),
        (5, {"completed": 2, "pending": 2}),
        (5, {"completed": 4, "failed": 6}),  # failed experiments do not count towards initial
        (0, {}),
        (0, {"completed": 1, "pending": 4}),  # fewer than two results: no model yet
        (3, {"pending": 9}),
    ],
)
def test_space_filling_phase(initial: int, counts: dict[str, int], fake_bayes: type[FakeBayes]) -> None:
    past = history(**counts)
    proposals = DefaultStrategy(initial=initial).propose(SPACE, OBJECTIVE, past, 3, seed=7)
    assert proposals == SpaceFillingStrategy().propose(SPACE, OBJECTIVE, past, 3, seed=7)
    assert len(proposals) == 3
    for proposal in proposals:
        SPACE.validate(proposal.params)
        assert proposal.params["x"] != 0.123
    assert fake_bayes.calls == []


def test_space_filling_phase_is_deterministic_per_seed(fake_bayes: type[FakeBayes]) -> None:
    strategy = DefaultStrategy()
    first = strategy.propose(SPACE, OBJECTIVE, History(), 4, seed=1)
    assert strategy.propose(SPACE, OBJECTIVE, History(), 4, seed=1) == first
    assert strategy.propose(SPACE, OBJECTIVE, History(), 4, seed=2) != first


def test_space_filling_phase_in_a_pool(fake_bayes: type[FakeBayes]) -> None:
    pool = CandidatePool(["x", "s"], [[float(i), "ab"[i % 2]] for i in range(6)])
    used = Experiment(id="e1", seq=1, params=pool.row(2), status=COMPLETED, results={"y": 1.0}, candidate=2)
    proposals = DefaultStrategy().propose(pool, OBJECTIVE, History.from_experiments([used]), 10, seed=0)
    assert sorted(p.candidate for p in proposals) == [0, 1, 3, 4, 5]  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("initial", "counts"),
    [
        (5, {"completed": 5}),
        (5, {"completed": 2, "pending": 3}),
        (5, {"completed": 6, "failed": 1}),
        (0, {"completed": 2}),
    ],
)
def test_bo_phase_hands_over_to_bayes(initial: int, counts: dict[str, int], fake_bayes: type[FakeBayes]) -> None:
    past = history(**counts)
    proposals = DefaultStrategy(initial=initial, acquisition=UCB(kappa=3.0)).propose(SPACE, OBJECTIVE, past, 2, seed=9)
    assert proposals == [Proposal({"x": 0.123, "z": 0.0})] * 2
    assert fake_bayes.calls == [(SPACE, OBJECTIVE, past, 2, 9)]
    assert fake_bayes.made[-1]["acquisition"] == UCB(kappa=3.0)


# ---------------------------------------------------------------------------------------------- real BO
def test_real_bo_phase_returns_valid_distinct_proposals() -> None:
    pytest.importorskip("kiln.strategies.bayes")
    space = SearchSpace([Continuous("x", 0, 1), Integer("k", 0, 4), Categorical("c", ("a", "b"))])
    experiments = []
    for seq, (x, k, c) in enumerate(
        [(0.1, 0, "a"), (0.9, 4, "b"), (0.5, 2, "a"), (0.3, 1, "b"), (0.7, 3, "a"), (0.2, 4, "b")], start=1
    ):
        y = -((x - 0.6) ** 2) - 0.1 * abs(k - 2) + (0.2 if c == "a" else 0.0)
        experiments.append(
            Experiment(id=f"exp-{seq}", seq=seq, params={"x": x, "k": k, "c": c}, status=COMPLETED, results={"y": y})
        )
    past = History.from_experiments(experiments)
    proposals = DefaultStrategy(initial=5).propose(space, OBJECTIVE, past, 2, seed=0)
    assert len(proposals) == 2
    seen = {(e.params["x"], e.params["k"], e.params["c"]) for e in experiments}
    keys = set()
    for proposal in proposals:
        clean = space.validate(proposal.params)
        assert proposal.candidate is None
        keys.add((clean["x"], clean["k"], clean["c"]))
    assert len(keys) == 2
    assert keys.isdisjoint(seen)


# ------------------------------------------------------------------------------- several targets
TWO_TARGETS = Objective((Target("y"), Target("w")))
ONE_CONSTRAINED = Objective((Target("y"),), constraints=(OutcomeConstraint("w", ">=", 0.5),))


class FakeMulti:
    """Stands in for MultiObjectiveStrategy: records the kernel it was made with and proposes a marker point."""

    made: ClassVar[list[str]] = []

    def __init__(self, kernel: str = "matern52") -> None:
        FakeMulti.made.append(kernel)

    def propose(self, domain: Any, objective: Any, history: Any, n: int, *, seed: int) -> list[Proposal]:
        return [Proposal({"x": 0.456, "z": 0.0})] * n


@pytest.fixture
def fake_multi(monkeypatch: pytest.MonkeyPatch) -> type[FakeMulti]:
    stand_in(monkeypatch, "kiln.strategies.multi_objective", "MultiObjectiveStrategy", FakeMulti)
    FakeMulti.made.clear()
    return FakeMulti


def measured(count: int) -> History:
    """``count`` completed experiments with values of y and w."""
    experiments = [
        Experiment(
            id=f"exp-{seq}",
            seq=seq,
            params={"x": seq / (count + 1), "z": 0.0},
            status=COMPLETED,
            results={"y": float(seq), "w": 1.0 / seq},
        )
        for seq in range(1, count + 1)
    ]
    return History.from_experiments(experiments)


@pytest.mark.parametrize("objective", [TWO_TARGETS, ONE_CONSTRAINED], ids=["two targets", "a constraint"])
def test_several_targets_or_constraints_hand_over_after_initial_multi(
    objective: Objective, fake_bayes: type[FakeBayes], fake_multi: type[FakeMulti]
) -> None:
    strategy = DefaultStrategy(kernel="rbf")
    assert strategy.propose(SPACE, objective, measured(1), 1, seed=0)[0].params["x"] != 0.456  # space-filling
    assert strategy.propose(SPACE, objective, measured(2), 1, seed=0)[0].params["x"] == 0.456
    assert fake_multi.made == ["rbf"] and not fake_bayes.calls
    assert DefaultStrategy(initial_multi=4).propose(SPACE, objective, measured(3), 1, seed=0)[0].params["x"] != 0.456
    assert DefaultStrategy(initial_multi=4).propose(SPACE, objective, measured(4), 1, seed=0)[0].params["x"] == 0.456


def test_one_target_keeps_its_own_initial_design(fake_bayes: type[FakeBayes], fake_multi: type[FakeMulti]) -> None:
    one = Objective.maximize("y")
    assert DefaultStrategy().propose(SPACE, one, measured(2), 1, seed=0)[0].params["x"] not in (0.123, 0.456)
    assert DefaultStrategy().propose(SPACE, one, measured(5), 1, seed=0)[0].params["x"] == 0.123
    assert not fake_multi.made
