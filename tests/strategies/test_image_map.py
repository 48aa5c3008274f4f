"""The model's map over an overview image (kiln.strategies.image_map): the GP on pixel coordinates for ordinary
strategies, the deep-kernel GP for ``dkl``; grids in the target's units; the measured and running pixels."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.core.errors import StateError, ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, Target
from kiln.space.pool import CandidatePool
from kiln.space.pool_image import pixel_pool
from kiln.strategies.base import History
from kiln.strategies.default import DefaultStrategy
from kiln.strategies.image_map import image_map
from kiln.strategies.registry import strategy_from_config

SIDE = 24


def overview() -> np.ndarray:
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    return np.exp(-((x - 6) ** 2 + (y - 16) ** 2) / 18.0) + 0.02 * x


def truth(x: int, y: int) -> float:
    """The reward: 10 times the overview's brightness, plus 50 (units well away from 0 and 1)."""
    return 50.0 + 10.0 * float(overview()[int(y), int(x)])


def history(pool: CandidatePool, keys: list[int], running: list[int] = ()) -> History:  # type: ignore[assignment]
    done = [
        Experiment(
            id=f"e{k}",
            seq=i + 1,
            params=pool.row(k),
            status=ExperimentStatus.COMPLETED,
            candidate=k,
            results={"loop_area": truth(**pool.row(k))},
        )
        for i, k in enumerate(keys)
    ]
    pending = [
        Experiment(id=f"p{k}", seq=100 + k, params=pool.row(k), status=ExperimentStatus.PENDING, candidate=k)
        for k in running
    ]
    return History(completed=tuple(done), pending=tuple(pending))


OBJECTIVE = Objective((Target("loop_area"),))


def test_the_map_follows_the_measurements_in_their_units() -> None:
    pool = pixel_pool(overview(), stride=2, patch=5)
    keys = list(range(0, len(pool), 5))
    found = image_map(DefaultStrategy(), pool, OBJECTIVE, history(pool, keys, running=[3]))
    assert found.xs == list(range(0, SIDE, 2)) and found.ys == list(range(0, SIDE, 2))
    mean = np.array(found.mean, dtype=float)
    std = np.array(found.std, dtype=float)
    assert mean.shape == (SIDE // 2, SIDE // 2) and std.shape == mean.shape and (std >= 0).all()
    expected = np.array([[truth(x, y) for x in found.xs] for y in found.ys])
    assert np.corrcoef(mean.ravel(), expected.ravel())[0, 1] > 0.9
    assert mean.min() > 48 and mean.max() < 62  # in the target's units, not standardised
    assert len(found.measured) == len(keys) and found.pending == [pool.row(3)]
    assert found.best_predicted is not None and abs(found.best_predicted["x"] - 6) <= 2
    assert found.least_sure is not None and found.least_sure["std"] == pytest.approx(std.max(), rel=1e-5)
    assert "GP" in found.model and np.array(found.image).shape == (SIDE, SIDE)


def test_before_any_measurement_only_the_overview_is_given() -> None:
    pool = pixel_pool(overview(), patch=5)
    found = image_map(DefaultStrategy(), pool, OBJECTIVE, History())
    assert found.mean is None and found.std is None and found.measured == [] and found.least_sure is None


def test_a_large_overview_is_thinned_for_sending() -> None:
    pool = pixel_pool(np.random.default_rng(0).uniform(size=(300, 200)), stride=25, patch=5)
    found = image_map(DefaultStrategy(), pool, OBJECTIVE, History())
    assert found.step == 3 and np.array(found.image).shape == (100, 67)


def test_the_dkl_strategy_maps_with_its_own_model() -> None:
    pool = pixel_pool(overview(), stride=2, patch=5)
    strategy = strategy_from_config({"kind": "dkl", "iterations": 30})
    found = image_map(strategy, pool, OBJECTIVE, history(pool, list(range(0, len(pool), 6))))
    assert "deep-kernel" in found.model
    mean = np.array(found.mean, dtype=float)
    assert np.isfinite(mean).all() and mean.shape == (SIDE // 2, SIDE // 2)


def test_a_pool_without_an_image_or_an_unknown_quantity_is_refused() -> None:
    plain = CandidatePool(["x", "y"], [[0, 1], [1, 0]])
    with pytest.raises(StateError, match="no overview image"):
        image_map(DefaultStrategy(), plain, OBJECTIVE, History())
    with pytest.raises(ValidationError, match="quantity"):
        image_map(DefaultStrategy(), pixel_pool(overview(), patch=5), OBJECTIVE, History(), target="cost")
