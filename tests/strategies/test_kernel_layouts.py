"""Strategies model a domain through its kernel layout: fingerprint columns get a Tanimoto kernel, element
compositions their elemental kernel, end to end through ``propose`` (pools and search spaces)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import kiln.models.gp as gp_module
import kiln.models.model_list as model_list_module
from kiln.core.errors import SpecError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.models.gp import FittedGP, fit_gp
from kiln.models.kernels import ElementsKernel, TanimotoKernel
from kiln.objective import Objective, Target
from kiln.space.kernel_layout import FeatureBlock, KernelLayout
from kiln.space.parameters import Continuous
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.acquisition import TS, build_acquisition
from kiln.strategies.base import History
from kiln.strategies.bayes import BayesStrategy
from kiln.strategies.multi_objective import MultiObjectiveStrategy

FAST: dict[str, Any] = {"raw_samples": 32, "restarts": 2}
BITS = [f"bit{i}" for i in range(6)]


class FingerprintPool(CandidatePool):
    """A pool whose bit columns are a molecule's fingerprint (model columns 1-6; column 0 is the temperature)."""

    @property
    def kernel_layout(self) -> KernelLayout:
        return KernelLayout(self.dim, (FeatureBlock("tanimoto", tuple(range(1, 7)), name="ligand"),))


class AlloySpace(SearchSpace):
    """A space of Ni and Fe amounts (model columns 0-1, seen also through their elemental properties) and four
    fingerprint-like coordinates (columns 2-5)."""

    @property
    def kernel_layout(self) -> KernelLayout:
        blocks = (
            FeatureBlock("elements", (0, 1), ((0.3, 1.0), (0.8, 0.2)), name="metals"),
            FeatureBlock("tanimoto", (2, 3, 4, 5), name="additive"),
        )
        return KernelLayout(self.dim, blocks)


def _pool() -> FingerprintPool:
    rng = np.random.default_rng(0)
    rows = [[float(t), *(int(b) for b in rng.random(6) < 0.5)] for t in rng.choice(np.arange(20, 81, 5), size=60)]
    return FingerprintPool(["T", *BITS], rows)


def _value(params: dict[str, Any], name: str) -> float:
    bits = np.array([float(params[b]) for b in BITS] if BITS[0] in params else [params[f"c{i}"] for i in range(4)])
    first = float(params["T"]) / 80 if "T" in params else float(params["Ni"])
    return float(bits[:3].sum() - bits[3:].sum() + first) if name == "y" else float(np.cos(3 * first) + bits[0])


def _history(params: list[dict[str, Any]], keys: list[int | None]) -> History:
    done = [
        Experiment(
            id=f"exp-{i}",
            seq=i + 1,
            params=p,
            status=ExperimentStatus.COMPLETED,
            results={"y": _value(p, "y"), "z": _value(p, "z")},
            candidate=k,
        )
        for i, (p, k) in enumerate(zip(params, keys, strict=True))
    ]
    return History.from_experiments(done)


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[FittedGP]:
    """Record every GP that ``module.fit_gp`` fits."""
    fitted: list[FittedGP] = []
    original = gp_module.fit_gp

    def recording(*args: Any, **kwargs: Any) -> FittedGP:
        result = original(*args, **kwargs)
        fitted.append(result)
        return result

    monkeypatch.setattr(module, "fit_gp", recording)
    return fitted


def _has(fitted: FittedGP, kind: type) -> bool:
    return any(isinstance(k, kind) for k in fitted.model.covar_module.modules())


def test_bayes_on_a_fingerprint_pool_fits_a_tanimoto_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool()
    keys = list(range(0, 40, 4))
    fitted = _spy(monkeypatch, gp_module)
    proposals = BayesStrategy().propose(
        pool, Objective.maximize("y"), _history([pool.row(k) for k in keys], keys), 3, seed=1
    )
    assert len(proposals) == 3 and len({p.candidate for p in proposals}) == 3
    assert not {p.candidate for p in proposals} & set(keys)
    assert fitted and all(_has(f, TanimotoKernel) and f.layout == pool.kernel_layout for f in fitted)


def test_multi_objective_on_a_fingerprint_pool_fits_tanimoto_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool()
    keys = list(range(1, 40, 4))
    fitted = _spy(monkeypatch, model_list_module)
    objective = Objective([Target("y"), Target("z")])
    proposals = MultiObjectiveStrategy().propose(
        pool, objective, _history([pool.row(k) for k in keys], keys), 2, seed=2
    )
    assert len(proposals) == 2 and not {p.candidate for p in proposals} & set(keys)
    assert len(fitted) == 2 and all(_has(f, TanimotoKernel) for f in fitted)


def _space() -> AlloySpace:
    return AlloySpace([Continuous("Ni", 0, 1), Continuous("Fe", 0, 1), *(Continuous(f"c{i}", 0, 1) for i in range(4))])


def _space_history(space: AlloySpace) -> History:
    from kiln.space.sampling import sample_points

    points = sample_points(space, 10, seed=3)
    return _history(points, [None] * len(points))


def test_bayes_optimises_the_acquisition_on_a_layout_space(monkeypatch: pytest.MonkeyPatch) -> None:
    space = _space()
    fitted = _spy(monkeypatch, gp_module)
    proposals = BayesStrategy(**FAST).propose(space, Objective.maximize("y"), _space_history(space), 2, seed=4)
    assert len(proposals) == 2
    for proposal in proposals:
        space.validate(proposal.params)
    assert fitted and all(_has(f, TanimotoKernel) and _has(f, ElementsKernel) for f in fitted)


def test_multi_objective_optimises_on_a_layout_space(monkeypatch: pytest.MonkeyPatch) -> None:
    space = _space()
    fitted = _spy(monkeypatch, model_list_module)
    objective = Objective([Target("y"), Target("z")])
    proposals = MultiObjectiveStrategy(**FAST).propose(space, objective, _space_history(space), 1, seed=5)
    assert len(proposals) == 1
    space.validate(proposals[0].params)
    assert len(fitted) == 2 and all(_has(f, ElementsKernel) for f in fitted)


def test_the_forest_ignores_the_layout() -> None:
    pool = _pool()
    keys = list(range(2, 40, 4))
    strategy = BayesStrategy(model="forest", trees=20)
    proposals = strategy.propose(pool, Objective.maximize("y"), _history([pool.row(k) for k in keys], keys), 2, seed=6)
    assert len(proposals) == 2


def test_thompson_sampling_refuses_a_layout_with_blocks_and_says_what_to_use() -> None:
    pool = _pool()
    keys = list(range(3, 40, 4))
    strategy = BayesStrategy(acquisition="ts")
    with pytest.raises(SpecError, match=r"ligand \(tanimoto\).*use acquisition logei, ucb or pi"):
        strategy.propose(pool, Objective.maximize("y"), _history([pool.row(k) for k in keys], keys), 1, seed=7)
    strategy.check_domain(CandidatePool(pool.columns, pool.rows))  # a plain layout: Thompson sampling as before
    BayesStrategy(acquisition="ucb").check_domain(pool)
    BayesStrategy(acquisition="ts", model="forest").check_domain(pool)  # one tree per draw: no kernel
    X = pool.encoded[keys]
    fitted = fit_gp(X, np.array([_value(pool.row(k), "y") for k in keys]), layout=pool.kernel_layout)
    with pytest.raises(SpecError, match="Thompson sampling needs a Matern or RBF kernel"):
        build_acquisition(TS(), fitted, seed=0)


def test_profiles_fit_the_layout_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.strategies.profile import model_profile

    pool = _pool()
    keys = list(range(0, 40, 4))
    history = _history([pool.row(k) for k in keys], keys)
    fitted = _spy(monkeypatch, gp_module)
    objective = Objective.maximize("y")
    profile = model_profile(BayesStrategy(), pool, objective, history, "T", points=5)
    assert len(profile.mean) == 5 and np.isfinite(profile.std).all()
    both = Objective([Target("y"), Target("z")])
    of_z = model_profile(MultiObjectiveStrategy(), pool, both, history, "T", points=5, quantity="z")
    assert len(of_z.mean) == 5
    assert len(fitted) == 2 and all(_has(f, TanimotoKernel) for f in fitted)
