"""Strategy ``dkl`` (kiln.strategies.dkl): its contract on pools with images, its config, and a campaign that
stores its pool image in SQLite and reopens with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from dkl_images import blob_image
from kiln import Campaign, Objective
from kiln.core.errors import SpecError, ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective.targets import Target
from kiln.space.parameters import Continuous
from kiln.space.pool import CandidatePool
from kiln.space.pool_image import PoolImage, pixel_pool
from kiln.space.search_space import SearchSpace
from kiln.strategies.acquisition import UCB, LogEI
from kiln.strategies.base import History, Strategy
from kiln.strategies.dkl import DKLStrategy, Explore
from kiln.strategies.registry import strategy_from_config

OBJECTIVE = Objective.maximize("r")
QUICK: dict[str, Any] = {"iterations": 30, "initial": 4}


@pytest.fixture(scope="module")
def scene() -> tuple[CandidatePool, np.ndarray]:
    image, reward = blob_image(size=24, count=8, seed=2)
    return pixel_pool(image, patch=5), reward.reshape(-1)


def history(pool: CandidatePool, truth: np.ndarray, done: list[int], running: list[int] = ()) -> History:  # type: ignore[assignment]
    experiments = [
        Experiment(
            id=f"e{i}",
            seq=i,
            params=pool.row(k),
            status=ExperimentStatus.COMPLETED,
            results={"r": float(truth[k])},
            candidate=k,
        )
        for i, k in enumerate(done)
    ]
    experiments += [
        Experiment(id=f"p{i}", seq=len(done) + i, params=pool.row(k), status=ExperimentStatus.PENDING, candidate=k)
        for i, k in enumerate(running)
    ]
    return History.from_experiments(experiments)


MEASURED = [int(k) for k in np.random.default_rng(7).choice(576, 14, replace=False)]
RUNNING = [int(k) for k in np.random.default_rng(8).choice(sorted(set(range(576)) - set(MEASURED)), 2, replace=False)]


# -------------------------------------------------------------------------------------------- contract
@pytest.mark.parametrize("acquisition", ["ucb", "ei", "explore"])
def test_batches_are_distinct_new_and_deterministic(scene: tuple[CandidatePool, np.ndarray], acquisition: str) -> None:
    pool, truth = scene
    strategy = DKLStrategy(acquisition=acquisition, **QUICK)
    assert isinstance(strategy, Strategy)
    seen = history(pool, truth, MEASURED, RUNNING)
    proposals = strategy.propose(pool, OBJECTIVE, seen, 4, seed=3)
    keys = [p.candidate for p in proposals]
    assert len(keys) == 4 and len(set(keys)) == 4
    assert not set(keys) & (set(MEASURED) | set(RUNNING))
    assert all(pool.row(k) == p.params for k, p in zip(keys, proposals, strict=True))  # type: ignore[arg-type]
    again = strategy.propose(pool, OBJECTIVE, seen, 4, seed=3)
    assert [p.candidate for p in again] == keys


@pytest.mark.parametrize("acquisition", ["ucb", "explore"])
def test_a_batch_member_is_what_the_strategy_picks_with_the_earlier_ones_running(
    scene: tuple[CandidatePool, np.ndarray], acquisition: str
) -> None:
    """Pending experiments and earlier members of a batch are conditioned on alike (the kriging believer)."""
    pool, truth = scene
    strategy = DKLStrategy(acquisition=acquisition, **QUICK)
    batch = [p.candidate for p in strategy.propose(pool, OBJECTIVE, history(pool, truth, MEASURED), 3, seed=0)]
    assert batch[0] is not None
    one_running = strategy.propose(pool, OBJECTIVE, history(pool, truth, MEASURED, [batch[0]]), 1, seed=0)
    assert one_running[0].candidate == batch[1]
    alone = strategy.propose(pool, OBJECTIVE, history(pool, truth, MEASURED), 1, seed=0)
    assert alone[0].candidate == batch[0]


def test_every_available_pixel_is_scored_exactly(scene: tuple[CandidatePool, np.ndarray]) -> None:
    """The UCB proposal is the best of mean + kappa * std over all free pixels (no subsampling)."""
    pool, truth = scene
    strategy = DKLStrategy(acquisition={"kind": "ucb", "kappa": 1.5}, **QUICK)
    seen = history(pool, truth, MEASURED)
    proposal = strategy.propose(pool, OBJECTIVE, seen, 1, seed=5)[0]
    fitted = strategy.fit(pool, MEASURED, truth[MEASURED], seed=5)
    free = np.setdiff1d(np.arange(len(pool)), MEASURED)
    mean, var = fitted.moments(torch.as_tensor(strategy.embed(pool, fitted, free)))
    ucb = (mean + 1.5 * var.sqrt()).numpy()
    assert proposal.candidate == int(free[int(np.argmax(np.round(ucb, 12)))])


def test_the_model_map_covers_the_pool_and_matches_what_an_ask_scores(
    scene: tuple[CandidatePool, np.ndarray],
) -> None:
    pool, truth = scene
    strategy = DKLStrategy(acquisition="explore", **QUICK)
    assert strategy.predict(pool, OBJECTIVE, History()) is None
    seen = history(pool, truth, MEASURED)
    found = strategy.predict(pool, OBJECTIVE, seen, seed=2)
    assert found is not None
    mean, std = found
    assert mean.shape == std.shape == (len(pool),)
    free = np.setdiff1d(np.arange(len(pool)), MEASURED)
    assert strategy.propose(pool, OBJECTIVE, seen, 1, seed=2)[0].candidate == int(free[np.argmax(std[free])])
    assert np.abs(mean[MEASURED] - truth[MEASURED]).max() < np.abs(mean[free] - truth[free]).max()


def test_initial_design_comes_first(scene: tuple[CandidatePool, np.ndarray]) -> None:
    pool, truth = scene
    first = DKLStrategy().propose(pool, OBJECTIVE, History(), 4, seed=0)
    assert len({p.candidate for p in first}) == 4
    points = np.array([[p.params["x"], p.params["y"]] for p in first])
    gaps = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    assert gaps[np.triu_indices(4, 1)].min() >= 10  # space-filling over the 24 x 24 pixels
    random = DKLStrategy(initial_design="random").propose(pool, OBJECTIVE, History(), 4, seed=0)
    assert [p.candidate for p in random] != [p.candidate for p in first]
    flat = history(pool, np.zeros_like(truth), MEASURED)  # no spread in the results: nothing to learn yet
    assert len(DKLStrategy(initial=0).propose(pool, OBJECTIVE, flat, 2, seed=0)) == 2


def test_a_pool_with_one_image_per_candidate() -> None:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(30, 6, 6))
    images[:15, 2:4, 2:4] += 3.0  # a bright centre: the candidates worth having
    pool = CandidatePool(["sample"], [[i] for i in range(30)], image=PoolImage.stack(images))
    truth = np.where(np.arange(30) < 15, 1.0, 0.0) + 0.01 * rng.normal(size=30)
    done = [0, 1, 2, 20, 21, 22, 23]
    proposals = DKLStrategy(acquisition="ei", **QUICK).propose(pool, OBJECTIVE, history(pool, truth, done), 3, seed=0)
    keys = [p.candidate for p in proposals]
    assert len(set(keys)) == 3 and not set(keys) & set(done)
    assert all(k is not None and k < 15 for k in keys), keys  # EI goes for the bright centres


def test_the_pool_runs_out_and_nothing_asked_gives_nothing(scene: tuple[CandidatePool, np.ndarray]) -> None:
    image = blob_image(size=6, count=1, seed=0)[0]
    small = pixel_pool(image, patch=3)
    truth = np.arange(36.0)
    strategy = DKLStrategy(**QUICK)
    assert strategy.propose(small, OBJECTIVE, history(small, truth, list(range(33))), 5, seed=0) != []
    assert len(strategy.propose(small, OBJECTIVE, history(small, truth, list(range(33))), 5, seed=0)) == 3
    assert strategy.propose(small, OBJECTIVE, history(small, truth, list(range(36))), 2, seed=0) == []
    assert strategy.propose(scene[0], OBJECTIVE, History(), 0, seed=0) == []


# -------------------------------------------------------------------------------------------- domain and config
def test_a_pool_without_an_image_is_refused_by_name(tmp_path: Path) -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    for domain in (CandidatePool(["x"], [[1], [2]]), space):
        with pytest.raises(SpecError, match="strategy 'dkl' needs a pool with an image"):
            DKLStrategy().check_domain(domain)
    with pytest.raises(SpecError, match="needs a pool with an image"):
        Campaign.create(
            "c", space=CandidatePool(["x"], [[1], [2]]), objective=OBJECTIVE, strategy="dkl", store=tmp_path / "k.db"
        )


def test_several_targets_are_refused(scene: tuple[CandidatePool, np.ndarray]) -> None:
    with pytest.raises(SpecError, match="models one utility"):
        DKLStrategy().propose(scene[0], Objective((Target("a"), Target("b"))), History(), 1, seed=0)


def test_config_round_trips_and_names_the_acquisitions() -> None:
    strategy = strategy_from_config({"kind": "dkl", "acquisition": {"kind": "ucb", "kappa": 3.0}, "features": 3})
    assert isinstance(strategy, DKLStrategy) and strategy.acquisition == UCB(kappa=3.0)
    config = strategy.to_config()
    assert config["acquisition"] == {"kind": "ucb", "kappa": 3.0} and config["coordinates"] is True
    assert strategy_from_config(config) == strategy
    assert strategy_from_config({"kind": "dkl", "acquisition": "ei"}).acquisition == LogEI()  # type: ignore[attr-defined]
    explore = strategy_from_config({"kind": "dkl", "acquisition": {"kind": "explore"}})
    assert explore.acquisition == Explore() and explore.to_config()["acquisition"] == {"kind": "explore"}  # type: ignore[attr-defined]
    assert strategy_from_config(explore.to_config()) == explore
    with pytest.raises(SpecError, match=r"takes the acquisitions \['ei', 'explore', 'logei', 'ucb'\]"):
        DKLStrategy(acquisition="pi")
    with pytest.raises(SpecError, match="kappa"):
        strategy_from_config({"kind": "dkl", "acquisition": {"kind": "ei", "kappa": 2}})
    with pytest.raises(SpecError, match="explore takes no settings"):
        DKLStrategy(acquisition={"kind": "explore", "kappa": 1})  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="unknown or missing options"):
        strategy_from_config({"kind": "dkl", "patch": 9})
    for options, field in (
        ({"initial": -1}, "strategy 'dkl': initial"),
        ({"initial_design": "grid"}, "strategy 'dkl': initial_design"),
        ({"coordinates": "yes"}, "strategy 'dkl': coordinates"),
        ({"features": 0}, "strategy 'dkl': features"),
        ({"kernel": "linear"}, "strategy 'dkl': kernel"),
    ):
        with pytest.raises(ValidationError) as error:
            DKLStrategy(**options)
        assert error.value.field == field


# -------------------------------------------------------------------------------------------- campaign and store
def test_a_campaign_stores_its_pool_image_and_reopens_with_it(tmp_path: Path) -> None:
    image, reward = blob_image(size=20, count=6, seed=4)
    pool = pixel_pool(image, patch=5)
    truth = reward.reshape(-1)
    store = f"sqlite:///{tmp_path / 'kiln.db'}"
    strategy = {"kind": "dkl", "initial": 4, "iterations": 20, "acquisition": "explore"}
    campaign = Campaign.create("scope", space=pool, objective=OBJECTIVE, strategy=strategy, store=store, seed=1)
    asked: list[int] = []
    for _ in range(3):
        for suggestion in campaign.ask(2):
            key = pool.key_of(suggestion.params)
            assert key is not None and key not in asked
            asked.append(key)
            campaign.tell(suggestion.id, {"r": float(truth[key])})
    reopened = Campaign.open("scope", store=store)
    domain = reopened.config.domain
    assert isinstance(domain, CandidatePool) and domain.image == pool.image
    np.testing.assert_array_equal(domain.patches(asked), pool.patches(asked))
    assert reopened.config.strategy == campaign.config.strategy
    assert reopened.config.to_json() == campaign.config.to_json()
    following = reopened.ask(2)
    assert not {pool.key_of(s.params) for s in following} & set(asked)
