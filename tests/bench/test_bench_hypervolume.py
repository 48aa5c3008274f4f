"""HV% (EDBO+): hypervolumes against hand-computed 2-D cases, the run curve, cycles to a level, quartile bands."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.bench.metrics import cycles_to_hv, hv_percent_curve, hypervolume, quartile_band

REF = np.array([0.0, 0.0])


def test_staircase_of_three_points() -> None:
    # (3, 1), (2, 2), (1, 3) above (0, 0): strips of width 1 and heights 1, 2, 3 -> 6
    assert hypervolume(np.array([[3.0, 1.0], [1.0, 3.0], [2.0, 2.0]]), REF) == pytest.approx(6.0)


def test_dominated_points_and_duplicates_add_nothing() -> None:
    front = np.array([[4.0, 1.0], [1.0, 2.0]])  # 4 x 1 + 1 x (2 - 1) = 5
    assert hypervolume(front, REF) == pytest.approx(5.0)
    more = np.vstack([front, [[2.0, 0.5], [1.0, 1.0], [4.0, 1.0]]])
    assert hypervolume(more, REF) == pytest.approx(5.0)


def test_the_reference_point_shifts_the_box_and_points_below_it_count_for_nothing() -> None:
    points = np.array([[3.0, 5.0], [6.0, 2.0], [0.5, 9.0]])
    reference = np.array([1.0, 1.0])  # (0.5, 9) is not better than the reference in x
    # (3, 5): 2 x 4 = 8; (6, 2): 5 x 1 = 5; overlap 2 x 1 = 2 -> 11
    assert hypervolume(points, reference) == pytest.approx(11.0)
    assert hypervolume(np.array([[1.0, 5.0]]), reference) == 0.0  # on the reference line
    assert hypervolume(np.zeros((0, 2)), reference) == 0.0


def test_minimised_objectives_are_negated_before() -> None:
    # minimise both: (1, 3), (2, 1) with worst values (4, 4) -> as maxima (-1, -3), (-2, -1) above (-4, -4)
    scores = -np.array([[1.0, 3.0], [2.0, 1.0]])
    # (-1, -3): 3 x 1 = 3; (-2, -1): 2 x 3 = 6; overlap 2 x 1 = 2 -> 7
    assert hypervolume(scores, np.array([-4.0, -4.0])) == pytest.approx(7.0)


def test_one_objective_is_the_distance_of_the_best_to_the_reference() -> None:
    assert hypervolume(np.array([[2.0], [5.0], [3.0]]), np.array([1.0])) == pytest.approx(4.0)


def test_curve_counts_feasible_points_in_arrival_order() -> None:
    scores = np.array([[1.0, 1.0], [3.0, 1.0], [0.5, 0.5], [1.0, 3.0], [2.0, 2.0], [1.0, 3.0]])
    feasible = np.array([True, True, True, False, True, True])
    curve = hv_percent_curve(scores, feasible, REF, 6.0)
    # 1; 3; 3 (dominated); 3 (infeasible); 3 + 4 - 2 = 5 ((2, 2) overlaps (3, 1) in 2 x 1); 6 ((1, 3) feasible)
    assert curve == pytest.approx(np.array([1.0, 3.0, 3.0, 3.0, 5.0, 6.0]) / 6.0)


def test_curve_agrees_with_the_volume_of_every_prefix() -> None:
    rng = np.random.default_rng(3)
    scores = rng.random((30, 2))
    feasible = rng.random(30) > 0.3
    total = hypervolume(scores, REF)
    curve = hv_percent_curve(scores, feasible, REF, total)
    expected = [hypervolume(scores[: i + 1][feasible[: i + 1]], REF) / total for i in range(30)]
    assert curve == pytest.approx(np.array(expected))
    assert np.all(np.diff(curve) >= 0)


def test_cycles_to_a_level_per_run() -> None:
    curves = np.array([[0.2, 0.9, 0.95, 1.0], [0.1, 0.5, 0.8, 0.89], [0.99, 1.0, 1.0, 1.0]])
    assert cycles_to_hv(curves, 0.9).tolist() == [2.0, math.inf, 1.0]
    assert cycles_to_hv(curves, 0.99).tolist() == [4.0, math.inf, 1.0]
    assert cycles_to_hv(np.array([0.9 - 1e-12]), 0.9).tolist() == [1.0]  # rounding of the ratio


def test_quartile_band() -> None:
    runs = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 5.0]])
    band = quartile_band(runs)
    assert band["median"].tolist() == [2.0, 3.0]
    assert band["p25"].tolist() == [1.0, 2.0] and band["p75"].tolist() == [3.0, 4.0]
