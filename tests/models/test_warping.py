"""Unit tests of kiln.models.warping: the power transform of utilities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import skew

from kiln.core.errors import SpecError
from kiln.models.warping import MIN_POINTS, check_transform, warp


def test_power_transform_keeps_the_order_and_removes_skew() -> None:
    y = np.exp(2.0 * np.random.default_rng(0).normal(size=60))  # log-normal: strongly right-skewed
    warped = warp(y, "power")
    assert np.array_equal(np.argsort(warped), np.argsort(y))
    assert np.argmax(warped) == np.argmax(y)
    assert abs(skew(warped)) < 0.3 * abs(skew(y))
    assert warped.mean() == pytest.approx(0.0, abs=1e-9) and warped.std() == pytest.approx(1.0)


def test_none_and_tiny_or_flat_inputs_are_returned_unchanged() -> None:
    y = np.array([3.0, 1.0, 2.0, 8.0])
    np.testing.assert_array_equal(warp(y, "none"), y)
    np.testing.assert_array_equal(warp(y[: MIN_POINTS - 1], "power"), y[: MIN_POINTS - 1])
    np.testing.assert_array_equal(warp(np.ones(5), "power"), np.ones(5))


def test_negative_utilities_are_fine() -> None:
    y = -np.exp(np.random.default_rng(1).normal(size=30))  # a minimised, skewed objective as utility
    warped = warp(y, "power")
    assert np.isfinite(warped).all() and np.array_equal(np.argsort(warped), np.argsort(y))


def test_unknown_transform_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="power"):
        check_transform("log", "strategy: transform")
    with pytest.raises(SpecError):
        warp(np.arange(5.0), "log")
