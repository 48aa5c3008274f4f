"""Unit tests of kiln.strategies.bayes.BayesStrategy and kiln.strategies.acquisition."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, OutcomeConstraint, Target
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.acquisition import ACQUISITIONS, UCB, build_acquisition, score
from kiln.strategies.base import History, training_data
from kiln.strategies.bayes import BayesStrategy
from kiln.strategies.registry import strategy_from_config
from kiln.strategies.simple import SpaceFillingStrategy

OBJECTIVE = Objective.maximize("y")
KINDS = sorted(ACQUISITIONS)
FAST: dict[str, Any] = {"raw_samples": 64, "restarts": 2}
CUBE = SearchSpace([Continuous("a", 0, 10), Continuous("b", -1, 1), Continuous("c", 100, 200)])
OPTIMUM = np.array([0.3, 0.7, 0.5])  # in model coordinates of CUBE


def history(
    points: Sequence[Mapping[str, Any]],
    values: list[float],
    *,
    pending: Sequence[Mapping[str, Any]] = (),
    keys: list[int] | None = None,
) -> History:
    done = [
        Experiment(
            id=f"exp-{i}",
            seq=i + 1,
            params=p,
            status=ExperimentStatus.COMPLETED,
            results={"y": float(v)},
            candidate=None if keys is None else keys[i],
        )
        for i, (p, v) in enumerate(zip(points, values, strict=True))
    ]
    running = [Experiment(id=f"run-{i}", seq=100 + i, params=p) for i, p in enumerate(pending)]
    return History.from_experiments([*done, *running])


def bowl(space: SearchSpace, points: list[dict[str, Any]]) -> list[float]:
    """A quadratic with its maximum at OPTIMUM (model coordinates)."""
    return list(-((space.encode(points) - OPTIMUM) ** 2).sum(1))


def cube_history(n: int = 15, seed: int = 0) -> History:
    points = sample_points(CUBE, n, seed=seed)
    return history(points, bowl(CUBE, points))


# ------------------------------------------------------------------------------------------------ search spaces
@pytest.mark.parametrize("kind", KINDS)
def test_continuous_proposal_is_valid_and_nearer_the_optimum_than_random(kind: str) -> None:
    [proposal] = BayesStrategy(acquisition=kind).propose(CUBE, OBJECTIVE, cube_history(), 1, seed=0)
    CUBE.validate(proposal.params)
    assert proposal.candidate is None
    distance = np.linalg.norm(CUBE.encode([proposal.params])[0] - OPTIMUM)
    random = np.linalg.norm(CUBE.encode(sample_points(CUBE, 1000, seed=9)) - OPTIMUM, axis=1)
    assert distance < random.mean()
    assert distance < np.quantile(random, 0.1)


COMPOSITION = SearchSpace(
    [Continuous("T", 20, 80)],
    compositions=[Composition("mix", ("A", "B", "C"), total=100.0, bounds={"A": (10.0, 60.0), "C": (0.0, 50.0)})],
    constraints=[LinearConstraint({"A": 1.0, "B": 2.0}, 120.0, "<=")],
)


@pytest.mark.parametrize("kind", KINDS)
def test_composition_and_linear_constraint_hold(kind: str) -> None:
    points = sample_points(COMPOSITION, 10, seed=1)
    values = [-((p["A"] - 40) ** 2) - (p["B"] - 30) ** 2 - (p["T"] - 50) ** 2 for p in points]
    proposals = BayesStrategy(acquisition=kind, **FAST).propose(
        COMPOSITION, OBJECTIVE, history(points, values), 2, seed=3
    )
    assert len(proposals) == 2
    for proposal in proposals:
        p = proposal.params
        COMPOSITION.validate(p)
        assert abs(p["A"] + p["B"] + p["C"] - 100.0) <= 1e-6 * 100.0
        assert 10.0 <= p["A"] <= 60.0 and 0.0 <= p["B"] <= 100.0 and 0.0 <= p["C"] <= 50.0
        assert p["A"] + 2 * p["B"] <= 120.0 + 1e-9


MIXED = SearchSpace(
    [
        Continuous("x", 0, 1),
        Continuous("conc", 0.1, 10, log=True),
        Integer("n", 1, 10),
        Discrete("t", (0.7, 1.05, 1.4)),
        Categorical("s", ("a", "b", "c")),
    ]
)


def mixed_value(p: dict[str, Any]) -> float:
    return -((p["x"] - 0.3) ** 2) - (p["n"] - 7) ** 2 / 10 + p["t"] + (p["s"] == "b") - np.log(p["conc"]) ** 2 / 10


@pytest.mark.parametrize("kind", KINDS)
def test_mixed_space_proposals_validate(kind: str) -> None:
    points = sample_points(MIXED, 12, seed=2)
    proposals = BayesStrategy(acquisition=kind, **FAST).propose(
        MIXED, OBJECTIVE, history(points, [mixed_value(p) for p in points]), 2, seed=0
    )
    assert len(proposals) == 2
    for proposal in proposals:
        assert MIXED.validate(proposal.params) == proposal.params
        assert isinstance(proposal.params["n"], int) and proposal.params["s"] in ("a", "b", "c")
        assert proposal.params["t"] in (0.7, 1.05, 1.4)


def two_peaks(x: float) -> float:
    """Maxima at x = 0.25 and (slightly higher) x = 0.75."""
    return float(np.cos(4 * np.pi * (x - 0.25)) + 0.1 * x)


LINE_SPACE = SearchSpace([Continuous("x", 0, 1)])
PEAK_DATA = [{"x": i / 10} for i in range(11)]


@pytest.mark.parametrize("kind", ["logei", "ucb", "pi"])
def test_batch_spreads_over_both_peaks(kind: str) -> None:
    """Pending-aware: the second point goes to the other peak, not next to the first (as it would without)."""
    h = history(PEAK_DATA, [two_peaks(p["x"]) for p in PEAK_DATA])
    batch = BayesStrategy(acquisition=kind, **FAST).propose(LINE_SPACE, OBJECTIVE, h, 2, seed=0)
    assert abs(batch[0].params["x"] - 0.75) < 0.03 and abs(batch[1].params["x"] - 0.25) < 0.03
    busy = history(PEAK_DATA, [two_peaks(p["x"]) for p in PEAK_DATA], pending=[batch[0].params])
    [next_one] = BayesStrategy(acquisition=kind, **FAST).propose(LINE_SPACE, OBJECTIVE, busy, 1, seed=0)
    assert abs(next_one.params["x"] - 0.25) < 0.03


@pytest.mark.parametrize("kind", KINDS)
def test_batch_of_three_has_distinct_points(kind: str) -> None:
    batch = BayesStrategy(acquisition=kind, **FAST).propose(CUBE, OBJECTIVE, cube_history(), 3, seed=0)
    X = CUBE.encode([p.params for p in batch])
    assert len(batch) == 3
    assert min(np.linalg.norm(X[i] - X[j]) for i, j in combinations(range(3), 2)) > 1e-3


def test_same_seed_same_proposals() -> None:
    strategy = BayesStrategy(**FAST)
    a = strategy.propose(MIXED, OBJECTIVE, history(*_mixed_data()), 2, seed=5)
    b = strategy.propose(MIXED, OBJECTIVE, history(*_mixed_data()), 2, seed=5)
    assert [p.params for p in a] == [p.params for p in b]


def _mixed_data() -> tuple[list[dict[str, Any]], list[float]]:
    points = sample_points(MIXED, 10, seed=4)
    return points, [mixed_value(p) for p in points]


def test_a_finite_space_is_not_proposed_twice() -> None:
    space = SearchSpace([Integer("n", 1, 3), Categorical("s", ("a", "b"))])
    every = [{"n": n, "s": s} for n in (1, 2, 3) for s in ("a", "b")]
    measured = every[:4]
    proposals = BayesStrategy(**FAST).propose(space, OBJECTIVE, history(measured, [1.0, 2.0, 3.0, 4.0]), 3, seed=0)
    assert sorted((p.params["n"], p.params["s"]) for p in proposals) == [(3, "a"), (3, "b")]


@pytest.mark.parametrize("values", [[1.0], [2.0, 2.0, 2.0]])
def test_too_little_information_falls_back_to_space_filling(values: list[float]) -> None:
    points = sample_points(CUBE, len(values), seed=0)
    h = history(points, values)
    got = BayesStrategy().propose(CUBE, OBJECTIVE, h, 3, seed=1)
    assert got == SpaceFillingStrategy().propose(CUBE, OBJECTIVE, h, 3, seed=1)


# ---------------------------------------------------------------------------------------------------- pools
LINE = CandidatePool(["x"], [[i / 100] for i in range(101)])


def line_history(keys: list[int], f: Any, pending: list[int] = ()) -> History:  # type: ignore[assignment]
    experiments = [
        Experiment(
            id=f"exp-{k}",
            seq=i + 1,
            params=LINE.row(k),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(f(k / 100))},
            candidate=k,
        )
        for i, k in enumerate(keys)
    ]
    experiments += [
        Experiment(id=f"run-{k}", seq=500 + i, params=LINE.row(k), candidate=k) for i, k in enumerate(pending)
    ]
    return History.from_experiments(experiments)


def test_pool_ucb_with_a_huge_kappa_explores_the_far_end() -> None:
    h = line_history([0, 5, 10, 15, 20, 25, 30], np.sin)
    [proposal] = BayesStrategy(acquisition=UCB(kappa=1e3)).propose(LINE, OBJECTIVE, h, 1, seed=0)
    assert proposal.candidate == 100 and proposal.params == {"x": 1.0}


@pytest.mark.parametrize("kind", KINDS)
def test_pool_exploits_strong_data_near_the_known_maximum(kind: str) -> None:
    def peak(x: float) -> float:
        return float(np.exp(-(((x - 0.62) / 0.1) ** 2)))

    h = line_history(list(range(0, 101, 4)), peak)
    [proposal] = BayesStrategy(acquisition=UCB(kappa=0.5) if kind == "ucb" else kind).propose(
        LINE, OBJECTIVE, h, 1, seed=0
    )
    assert proposal.candidate is not None and abs(proposal.candidate - 62) <= 4


@pytest.mark.parametrize("kind", ["logei", "ucb", "pi"])
def test_pool_takes_the_argmax_of_the_botorch_acquisition(kind: str) -> None:
    import torch

    from kiln.models.gp import fit_gp

    rng = np.random.default_rng(0)
    pool = CandidatePool(["u", "v"], rng.random((500, 2)).tolist())
    keys = list(range(0, 500, 25))
    experiments = [
        Experiment(
            id=f"e{k}",
            seq=i + 1,
            params=pool.row(k),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(np.sin(5 * pool.encoded[k]).sum())},
            candidate=k,
        )
        for i, k in enumerate(keys)
    ]
    h = History.from_experiments(experiments)
    [proposal] = BayesStrategy(acquisition=kind).propose(pool, OBJECTIVE, h, 1, seed=3)
    data = training_data(pool, OBJECTIVE, h)
    fitted = fit_gp(data.X, data.y, seed=3)
    free = np.array([k for k in range(500) if k not in keys])
    with torch.no_grad():
        reference = build_acquisition(kind, fitted).function(torch.as_tensor(pool.encoded[free]).unsqueeze(-2)).numpy()
    assert proposal.candidate == free[int(np.argmax(reference))]
    np.testing.assert_allclose(score(build_acquisition(kind, fitted), pool.encoded[free]), reference, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_pool_never_reuses_candidates_and_runs_out(kind: str) -> None:
    small = CandidatePool(["x"], [[i / 9] for i in range(10)])
    experiments = [
        Experiment(
            id=f"e{k}",
            seq=k + 1,
            params=small.row(k),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(np.cos(3 * k / 9))},
            candidate=k,
        )
        for k in range(5)
    ]
    experiments.append(Experiment(id="r", seq=20, params=small.row(7), candidate=7))
    experiments.append(Experiment(id="f", seq=21, params=small.row(9), status=ExperimentStatus.FAILED, candidate=9))
    h = History.from_experiments(experiments)
    proposals = BayesStrategy(acquisition=kind).propose(small, OBJECTIVE, h, 5, seed=0)
    assert sorted(p.candidate for p in proposals) == [5, 6, 8]  # type: ignore[type-var]
    assert all(p.params == small.row(p.candidate) for p in proposals if p.candidate is not None)


@pytest.mark.parametrize("kind", ["logei", "ucb", "pi"])
def test_pool_batch_accounts_for_pending_rows(kind: str) -> None:
    grid = list(range(0, 101, 10))
    batch = BayesStrategy(acquisition=kind).propose(LINE, OBJECTIVE, line_history(grid, two_peaks), 2, seed=0)
    assert batch[0].candidate == 75 and abs(batch[1].candidate - 25) <= 3  # type: ignore[operator]
    busy = line_history(grid, two_peaks, pending=[75])
    [proposal] = BayesStrategy(acquisition=kind).propose(LINE, OBJECTIVE, busy, 1, seed=0)
    assert abs(proposal.candidate - 25) <= 3  # type: ignore[operator]


def test_pool_thompson_batch_draws_distinct_rows() -> None:
    batch = BayesStrategy(acquisition="ts").propose(LINE, OBJECTIVE, line_history([0, 50, 100], np.sin), 4, seed=0)
    assert len({p.candidate for p in batch}) == 4


def test_exhausted_pool_gives_nothing() -> None:
    small = CandidatePool(["x"], [[0.0], [1.0]])
    h = History.from_experiments(
        [
            Experiment(
                id=f"e{k}",
                seq=k + 1,
                params=small.row(k),
                status=ExperimentStatus.COMPLETED,
                results={"y": float(k)},
                candidate=k,
            )
            for k in range(2)
        ]
    )
    assert BayesStrategy().propose(small, OBJECTIVE, h, 3, seed=0) == []


def test_a_failing_optimiser_still_gives_a_valid_point(monkeypatch: pytest.MonkeyPatch) -> None:
    import botorch.optim

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("optimiser exploded")

    monkeypatch.setattr(botorch.optim, "optimize_acqf", broken)
    points = sample_points(COMPOSITION, 8, seed=0)
    h = history(points, [p["A"] for p in points])
    proposals = BayesStrategy(**FAST).propose(COMPOSITION, OBJECTIVE, h, 2, seed=0)
    assert len(proposals) == 2
    for proposal in proposals:
        COMPOSITION.validate(proposal.params)


def test_propose_leaves_torch_threads_as_it_found_them() -> None:
    import torch

    before = torch.get_num_threads()
    BayesStrategy(**FAST).propose(CUBE, OBJECTIVE, cube_history(8), 1, seed=0)
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------------------------------------- isotropic GP
@pytest.mark.parametrize("kernel", ["matern52", "rbf"])
def test_isotropic_gp_has_one_lengthscale_and_finds_the_bowl(kernel: str) -> None:
    from gpytorch.kernels import ScaleKernel

    strategy = BayesStrategy(kernel=kernel, ard=False, **FAST)
    h = cube_history()
    data = training_data(CUBE, OBJECTIVE, h)
    fitted = strategy.fit(data.X, data.y, seed=0)
    covar = fitted.model.covar_module
    base = covar.base_kernel if isinstance(covar, ScaleKernel) else covar
    assert base.lengthscale.numel() == 1
    [proposal] = strategy.propose(CUBE, OBJECTIVE, h, 1, seed=0)
    distance = np.linalg.norm(CUBE.encode([proposal.params])[0] - OPTIMUM)
    random = np.linalg.norm(CUBE.encode(sample_points(CUBE, 1000, seed=9)) - OPTIMUM, axis=1)
    assert distance < np.quantile(random, 0.1)


def test_isotropic_gp_in_a_pool_exploits_the_peak() -> None:
    def peak(x: float) -> float:
        return float(np.exp(-(((x - 0.62) / 0.1) ** 2)))

    h = line_history(list(range(0, 101, 4)), peak)
    [proposal] = BayesStrategy(ard=False).propose(LINE, OBJECTIVE, h, 1, seed=0)
    assert proposal.candidate is not None and abs(proposal.candidate - 62) <= 4


# ------------------------------------------------------------------------------------------ settings and config
def test_settings_round_trip_through_the_registry() -> None:
    strategy = strategy_from_config({"kind": "bayes", "acquisition": "ucb", "kappa": 3, "kernel": "rbf"})
    assert isinstance(strategy, BayesStrategy)
    config = strategy.to_config()
    assert config == {
        "kind": "bayes",
        "kernel": "rbf",
        "acquisition": {"kind": "ucb", "kappa": 3.0},
        "raw_samples": 256,
        "restarts": 4,
    }
    assert strategy_from_config(config) == strategy


@pytest.mark.parametrize(
    "options, field, error",
    [
        ({"kernel": "periodic"}, "kernel", SpecError),
        ({"acquisition": "ei"}, "acquisition", SpecError),
        ({"acquisition": {"kind": "ucb", "kappa": 0}}, "acquisition: kappa", ValidationError),
        ({"acquisition": {"kind": "ucb", "kappa": float("nan")}}, "acquisition: kappa", ValidationError),
        ({"acquisition": ["ucb"]}, "acquisition", SpecError),
        ({"raw_samples": 1}, "raw_samples", ValidationError),
        ({"restarts": 0}, "restarts", ValidationError),
        ({"restarts": 10, "raw_samples": 5}, "restarts", ValidationError),
    ],
)
def test_bad_settings_name_the_field(options: dict[str, Any], field: str, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        BayesStrategy(**options)
    assert field in str(raised.value)


def test_unknown_kinds_list_the_known_ones() -> None:
    with pytest.raises(SpecError, match=r"known acquisitions are \['logei', 'pi', 'ts', 'ucb'\]"):
        BayesStrategy(acquisition="ei")
    with pytest.raises(SpecError, match=r"known kernels are \['matern52', 'rbf'\]"):
        BayesStrategy(kernel="periodic")


def test_importing_the_strategy_does_not_import_torch() -> None:
    code = "import sys, kiln.strategies.bayes, kiln.models; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("objective", "what"),
    [
        (Objective((Target("y"),), constraints=(OutcomeConstraint("w", ">=", 0.5),)), "outcome constraints"),
        (Objective((Target("y"), Target("w"))), "several targets"),
    ],
)
def test_an_objective_it_cannot_model_is_refused_before_a_campaign_exists(
    objective: Objective, what: str, tmp_path: Any
) -> None:
    from kiln import Campaign

    strategy = BayesStrategy()
    with pytest.raises(SpecError, match=what) as error:
        strategy.propose(SearchSpace([Continuous("x", 0, 1)]), objective, History.from_experiments([]), 1, seed=0)
    assert "kind 'default' or 'multi'" in str(error.value)
    store = f"sqlite:///{tmp_path}/k.db"
    with pytest.raises(SpecError, match=what):
        Campaign.create(
            "c", space=SearchSpace([Continuous("x", 0, 1)]), objective=objective, strategy=strategy, store=store
        )
    from kiln.store import open_store

    assert open_store(store).list_campaigns() == []
    scalarised = Objective((Target("y"), Target("w")), scalarisation="desirability")
    strategy.check_objective(scalarised)  # one utility: accepted
