"""Metrics of pool backtests on hand-made trajectories: exact numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from kiln.bench.backtest import cycles_to_fraction
from kiln.bench.metrics import (
    acceleration_factor,
    band,
    curve_cycles_to_top,
    cycles_to_top,
    enhancement_factor,
    found_matrix,
    median_cycles,
    random_cycles_to_top,
    random_top_percent,
    summarize,
    top_percent,
)

# N = 10 candidates, top set of T = 2, three runs of B = 5 experiments.
FOUND = [[0, 1, 1, 2, 2], [1, 1, 1, 1, 2], [0, 0, 0, 0, 0]]
AUTHOR_RESULTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "liang2021" / "author_results"


def test_top_percent_and_random_baseline() -> None:
    found = found_matrix(FOUND)
    assert found.shape == (3, 5)
    np.testing.assert_allclose(top_percent(found, 2)[0], [0.0, 0.5, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(random_top_percent(5, 10), [0.1, 0.2, 0.3, 0.4, 0.5])


def test_enhancement_factor_is_top_percent_over_i_over_n() -> None:
    ef = enhancement_factor(top_percent(found_matrix(FOUND), 2), 10)
    np.testing.assert_allclose(ef[0], [0.0, 2.5, 5 / 3, 2.5, 2.0])
    np.testing.assert_allclose(ef[1], [5.0, 2.5, 5 / 3, 1.25, 2.0])
    np.testing.assert_allclose(ef[2], 0.0)


def test_cycles_to_top_counts_non_reaching_runs_as_infinity() -> None:
    found = found_matrix(FOUND)
    np.testing.assert_array_equal(cycles_to_top(found, 2, 0.5), [2, 1, np.inf])
    np.testing.assert_array_equal(cycles_to_top(found, 2, 0.8), [4, 5, np.inf])  # ceil(1.6) = 2 needed
    np.testing.assert_array_equal(cycles_to_top(found, 2, 1.0), [4, 5, np.inf])
    assert median_cycles(np.array([2.0, 1.0, np.inf])) == 2.0
    assert median_cycles(np.array([4.0, 5.0, np.inf, 7.0])) == 6.0
    assert median_cycles(np.array([4.0, np.inf, np.inf, 7.0])) is None  # the median run did not get there
    assert cycles_to_fraction(FOUND[0], 2, 0.5) == 2 and cycles_to_fraction(FOUND[2], 2, 0.5) is None


def test_levels_are_not_spoiled_by_rounding() -> None:
    """0.8 * 30 is 24.000000000000004 in floating point: 24 of 30 must count as Top% 0.8."""
    found = np.array([[0] * 9 + [24]])
    assert cycles_to_top(found, 30, 0.8)[0] == 10
    assert cycles_to_top(np.array([[7, 8]]), 9, 0.8)[0] == 2  # ceil(7.2) = 8


def test_acceleration_factor() -> None:
    assert random_cycles_to_top(0.8, 600) == pytest.approx(480.0)
    assert acceleration_factor(34.0, 0.8, 600) == pytest.approx(480 / 34)
    assert acceleration_factor(np.inf, 0.8, 600) == 0.0


def test_band_and_summary() -> None:
    curves = band(np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]))
    np.testing.assert_allclose(curves["median"], [1.0, 2.0])
    np.testing.assert_allclose(curves["p5"], [0.1, 1.1])
    np.testing.assert_allclose(curves["p95"], [1.9, 2.9])

    summary = summarize(FOUND, 2, 10)
    assert summary.cycles_to_top == {0.5: 2.0, 0.8: 5.0, 1.0: 5.0}
    assert summary.reached == {0.5: 2, 0.8: 2, 1.0: 2}
    assert summary.af_at_08 == pytest.approx(0.8 * 10 / 5)
    # median EF curve: [0, 2.5, 5/3, 1.25, 2]
    np.testing.assert_allclose(summary.enhancement["median"], [0.0, 2.5, 5 / 3, 1.25, 2.0])
    assert summary.ef_max == pytest.approx(2.5)
    np.testing.assert_allclose(summary.top_percent["median"], [0.0, 0.5, 0.5, 0.5, 1.0])
    # mean Top% curve: [1/6, 1/3, 1/3, 1/2, 2/3]
    assert summary.mean_curve_cycles_to_top == {0.5: 4.0, 0.8: None, 1.0: None}
    assert curve_cycles_to_top(np.array([0.1, 0.8]), 0.8) == 2.0
    assert summarize([[0, 0]], 1, 4).af_at_08 is None


def test_runs_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        found_matrix([[0, 1], [0]])


@pytest.mark.skipif(not AUTHOR_RESULTS.is_dir(), reason="the shared author results are not checked out")
def test_the_literature_figures_are_reproduced() -> None:
    """The Liang et al. authors' own Crossed-barrel runs: 34 / 169 / 39 cycles to Top% 0.8 on the mean curve."""
    import pandas as pd

    expected = {"GP_ARD_Matern52_LCB1": 34.0, "GP_Matern52_LCB2": 169.0, "RF_LCB1": 39.0}
    for name, cycles in expected.items():
        frame = pd.read_csv(AUTHOR_RESULTS / f"crossed_barrel_TopCount_{name}.csv").drop(columns="run")
        summary = summarize(frame.fillna(30).to_numpy(dtype=int), 30, 600)
        assert summary.mean_curve_cycles_to_top[0.8] == cycles
        assert summary.reached[0.8] == 50
        assert math.isclose(random_cycles_to_top(0.8, 600), 480.0)
