"""The hypervolume curve of kiln.report: exact with two targets, a close estimate with three or more, and cheap
on a large campaign (record setters only)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from kiln.bench.metrics import hypervolume
from kiln.report.hypervolume import area, hypervolume_curve


def prefix_volumes(points: np.ndarray, reference: np.ndarray) -> list[float]:
    """The reference answer: BoTorch's exact hypervolume of every prefix, recomputed from scratch."""
    return [hypervolume(points[: i + 1][~np.isnan(points[: i + 1]).any(axis=1)], reference) for i in range(len(points))]


def test_the_area_of_a_hand_computed_front() -> None:
    front = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    assert area(front, np.array([0.0, 0.0])) == pytest.approx(3 + 2 + 1)


def test_two_targets_are_exact_after_every_point() -> None:
    rng = np.random.default_rng(1)
    points = rng.random((30, 2))
    points[7] = np.nan  # an experiment that does not count (infeasible, or not every quantity measured)
    reference = np.array([-0.1, -0.1])
    curve, exact = hypervolume_curve(points, reference)
    assert exact and curve == pytest.approx(prefix_volumes(points, reference))


@pytest.mark.parametrize("targets", [3, 4])
def test_more_targets_are_a_close_estimate(targets: int) -> None:
    rng = np.random.default_rng(targets)
    points = rng.random((40, targets))
    reference = np.full(targets, -0.1)
    curve, exact = hypervolume_curve(points, reference)
    assert not exact
    assert all(b >= a for a, b in itertools.pairwise(curve))
    assert curve[-1] == pytest.approx(hypervolume(points, reference), rel=0.03)
    assert curve[9] == pytest.approx(hypervolume(points[:10], reference), rel=0.05)


def test_points_below_the_reference_add_nothing() -> None:
    curve, _ = hypervolume_curve(np.array([[-1.0, 5.0], [1.0, 1.0]]), np.array([0.0, 0.0]))
    assert curve == [0.0, 1.0]


def test_a_large_campaign_with_many_points_on_its_front_is_cheap() -> None:
    """3,000 points near a sphere (hundreds on the front): one pass over record setters, not a front per point.
    The exact recomputation this replaced took about 10 s with two targets at 2,000 points and did not end in
    10 minutes with three at 1,000."""
    rng = np.random.default_rng(0)
    for targets in (2, 3, 4):
        points = rng.random((3000, targets))
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        points *= rng.uniform(0.95, 1.0, (3000, 1))
        curve, _ = hypervolume_curve(points, np.zeros(targets))
        assert len(curve) == 3000 and curve[-1] > 0
