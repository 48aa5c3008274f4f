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
    format_interval,
    found_matrix,
    median_cycles,
    median_interval,
    paired,
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


def test_median_interval_is_the_bootstrap_distribution_of_the_median() -> None:
    # three runs 1, 2, 3: a resample's median is 1 (or 3) when two or three of its draws are 1 (or 3),
    # P = 3 * (1/3)^2 * (2/3) + (1/3)^3 = 7/27 = 0.26 each, and 2 otherwise (13/27)
    assert median_interval([1, 2, 3]) == [1.0, 3.0]  # 5 % and 95 % quantiles
    assert median_interval([1, 2, 3], level=0.4) == [2.0, 2.0]  # 30 % and 70 %: inside the 2's 0.26-0.74
    assert median_interval([1, 2, 3], level=0.6) == [1.0, 3.0]  # 20 % and 80 %: in the 1's and the 3's
    assert median_interval([7, 7, 7, 7]) == [7.0, 7.0]
    spread = list(range(1, 21))
    assert median_interval(spread) == median_interval(spread)  # fixed seed
    low, high = median_interval(spread)
    assert low is not None and high is not None and low < float(np.median(spread)) < high
    narrow = median_interval(spread * 5)  # the same spread of values, five times the runs
    assert narrow[0] is not None and narrow[1] is not None and low < narrow[0] and narrow[1] < high


def test_median_interval_with_runs_that_never_got_there() -> None:
    most_never = [3, *[math.inf] * 8]  # a resample's median is 3 only if 5 of its 9 draws are 3: P < 0.001
    assert median_interval(most_never) == [None, None]  # the median and both bounds beyond the budget
    assert median_interval([3, 4, math.inf, math.inf, math.inf]) == [3.0, None]  # 3 of 5 draws finite: P = 0.32
    some_never = [3, 4, 5, 6, math.inf]
    low, high = median_interval(some_never)
    assert low == 3.0 and high is None
    assert format_interval([low, high], 40) == "[3, >40]" and format_interval([10.0, 17.5], 40) == "[10, 17.5]"
    assert format_interval([None, None], 40) == "[>40, >40]"
    assert median_interval([]) == [None, None]


def test_summary_reports_intervals_of_its_medians() -> None:
    summary = summarize(FOUND, top_size=2, size=10)
    for fraction, median in summary.cycles_to_top.items():
        low, high = summary.cycles_to_top_interval[fraction]
        assert median is None or (low is not None and low <= median and (high is None or median <= high))


def test_paired_counts_runs_seed_by_seed_with_a_sign_test() -> None:
    mine = {1: 3, 2: 5, 3: None, 4: 7, 5: 2, 6: 2, 7: 2, 8: 2}
    theirs = {1: 4, 2: 5, 3: None, 4: 9, 5: 3, 6: None, 7: 30, 8: 4, 99: 1}  # seed 99: mine lacks it
    result = paired(mine, theirs)
    assert (result.better, result.worse, result.same) == (6, 0, 2)  # never == never is the same
    assert result.p_value == pytest.approx(2 * 0.5**6)  # all six untied pairs one way
    assert result.describe() == "6 / 0 / 2 (p 0.031)"
    assert paired(theirs, mine).p_value == result.p_value and paired(theirs, mine).worse == 6
    assert paired({1: 4}, {1: 4}).p_value == 1.0 and paired({}, {1: 2}).same == 0


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
