"""Unit tests of kiln.strategies.mo_acquisition: which acquisition, the reference point, objectives through
scores, outcome constraints through slacks."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.models.model_list import fit_model_list
from kiln.strategies.mo_acquisition import (
    Outcomes,
    build_mo_acquisition,
    chosen_acquisition,
    reference_point,
    scaled,
    score_points,
)

X = np.linspace(0.0, 1.0, 12).reshape(-1, 1)
GRID = np.linspace(0.0, 1.0, 101).reshape(-1, 1)


def identity(y: object) -> object:
    return y


def negated(y: object) -> object:
    return -y  # type: ignore[operator]


@pytest.mark.parametrize(
    ("setting", "targets", "kind"),
    [
        ("auto", 1, "qlognei"),
        ("qlognehvi", 1, "qlognei"),
        ("auto", 2, "qlognehvi"),
        ("auto", 4, "qlognehvi"),
        ("auto", 5, "qlognparego"),
        ("qlognparego", 2, "qlognparego"),
        ("qlognehvi", 6, "qlognehvi"),
    ],
)
def test_the_acquisition_chosen_for_the_number_of_targets(setting: str, targets: int, kind: str) -> None:
    assert chosen_acquisition(setting, targets) == kind


@pytest.mark.parametrize(("setting", "targets"), [("auto", 1), ("auto", 2), ("qlognparego", 3), ("auto", 6)])
def test_unmet_constraints_choose_the_probability_of_feasibility_whatever_the_setting(
    setting: str, targets: int
) -> None:
    assert chosen_acquisition(setting, targets, unmet=True) == "qlogpof"


def test_the_probability_of_feasibility_rises_where_the_constraint_probably_holds() -> None:
    """The constrained quantity c = 1 - x must be >= 0.5 (slack 0.5 - c); every observed x > 0.5 breaks it. The
    target rises with x, and does not enter: the best point is on the low side, where the target is worst."""
    seen = X[X[:, 0] > 0.55]
    fitted = fit_model_list([(seen, seen[:, 0]), (seen, 1.0 - seen[:, 0])], ["y", "c"])
    outcomes = Outcomes(((0, identity),), ((1, lambda c: 0.5 - c),))
    acquisition = build_mo_acquisition("qlogpof", fitted, outcomes, baseline=seen, seed=0)
    values = score_points(acquisition, GRID)
    assert np.all(values <= 1e-9)  # a log probability
    assert float(GRID[int(np.argmax(values)), 0]) < 0.5
    assert values[0] > values[-1] + 1.0
    busy = build_mo_acquisition("qlogpof", fitted, outcomes, baseline=seen, pending=GRID[:1], seed=0)
    with_busy = score_points(busy, GRID)  # a point in flight that probably holds: then any batch with it does
    assert with_busy[-1] > values[-1] + 1.0 and np.all(with_busy >= values - 0.05)


def test_the_probability_of_feasibility_needs_constraints() -> None:
    fitted = fit_model_list([(X, X[:, 0])], ["y"])
    with pytest.raises(ValidationError, match="outcome constraints"):
        build_mo_acquisition("qlogpof", fitted, Outcomes(((0, identity),)), baseline=X)


def test_an_unknown_acquisition_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="qlognparego"):
        chosen_acquisition("ehvi", 2)


def test_reference_point_from_the_observed_front() -> None:
    front = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [0.5, 0.5]])  # the last is dominated
    assert reference_point(front) == pytest.approx([0.8, 0.8])  # nadir (1, 1) minus 0.1 x range (2, 2)
    assert reference_point(front, [None, -5.0]) == pytest.approx([0.8, -5.0])
    assert reference_point(np.array([[2.0, -4.0]])) == pytest.approx([1.8, -4.4])
    assert reference_point(np.zeros((0, 2)), [1.0, None]) == [1.0, 0.0]


def test_scaled_divides_each_target_by_its_spread() -> None:
    Y = np.hstack([X, 10 * X])
    fitted = fit_model_list([(X, Y[:, 0]), (X, Y[:, 1])], ["a", "b"])
    outcomes = Outcomes(((1, identity), (0, identity)))  # targets in another order than the outputs
    assert np.allclose(scaled(fitted, outcomes, np.array([[1.0, 2.0]])), [[1.0 / (10 * X.std()), 2.0 / X.std()]])


@pytest.mark.parametrize(("score", "best"), [(identity, 1.0), (negated, 0.0)])
def test_a_target_is_read_through_its_score(score: object, best: float) -> None:
    fitted = fit_model_list([(X, X[:, 0])], ["y"])
    acquisition = build_mo_acquisition("qlognei", fitted, Outcomes(((0, score),)), baseline=X)  # type: ignore[arg-type]
    values = score_points(acquisition, GRID)
    assert abs(float(GRID[int(np.argmax(values)), 0]) - best) <= 0.1


@pytest.mark.parametrize("kind", ["qlognei", "qlognehvi", "qlognparego"])
def test_an_outcome_constraint_lowers_the_value_where_it_is_probably_broken(kind: str) -> None:
    """Targets grow with x; the constrained quantity c = x must stay <= 0.5 (slack c - 0.5)."""
    targets = 1 if kind == "qlognei" else 2
    columns = [*[(X, X[:, 0]), (X, np.sqrt(X[:, 0]))][:targets], (X, X[:, 0])]
    fitted = fit_model_list(columns, [*["y", "z", "c"][:targets], "c"])
    free = Outcomes(tuple((i, identity) for i in range(targets)))
    bound = Outcomes(free.targets, ((targets, lambda c: c - 0.5),))
    reference = reference_point(scaled(fitted, free, np.hstack([X, np.sqrt(X)])[:4, :targets]))  # the baseline's
    points = np.array([[0.45], [0.95]])
    values = {}
    for name, outcomes in (("free", free), ("bound", bound)):
        acquisition = build_mo_acquisition(kind, fitted, outcomes, baseline=X[:4], reference=reference, seed=1)
        values[name] = score_points(acquisition, points)
    assert values["free"][1] > values["free"][0]  # without the constraint more is better
    assert values["bound"][0] > values["bound"][1] + 1.0  # with it the broken region is far worse
    assert values["bound"][1] < values["free"][1] - 1.0


def test_pending_points_lower_the_value_next_to_them() -> None:
    Y = np.hstack([np.sin(3 * X), np.cos(3 * X)])
    fitted = fit_model_list([(X, Y[:, 0]), (X, Y[:, 1])], ["a", "b"])
    outcomes = Outcomes(((0, identity), (1, identity)))
    reference = reference_point(scaled(fitted, outcomes, Y))
    alone = build_mo_acquisition("qlognehvi", fitted, outcomes, baseline=X, reference=reference, seed=0)
    best = GRID[[int(np.argmax(score_points(alone, GRID)))]]
    busy = build_mo_acquisition("qlognehvi", fitted, outcomes, baseline=X, pending=best, reference=reference, seed=0)
    assert score_points(busy, best)[0] < score_points(alone, best)[0] - 1.0


def test_hypervolume_needs_a_reference_point_per_target() -> None:
    fitted = fit_model_list([(X, X[:, 0]), (X, X[:, 0])], ["a", "b"])
    with pytest.raises(ValidationError, match="reference point"):
        build_mo_acquisition("qlognehvi", fitted, Outcomes(((0, identity), (1, identity))), baseline=X)


@pytest.mark.parametrize("kind", ["qlognei", "qlognparego"])
def test_scores_repeat_when_no_experiment_satisfies_the_constraints(kind: str) -> None:
    """BoTorch's noisy EI then estimates an objective bound from fresh random draws on each call."""
    targets = 1 if kind == "qlognei" else 2
    fitted = fit_model_list([*[(X, X[:, 0])] * targets, (X, X[:, 0])], [*["y", "z"][:targets], "c"])
    outcomes = Outcomes(tuple((i, identity) for i in range(targets)), ((targets, lambda c: 2.0 - c),))  # c >= 2
    reference = reference_point(scaled(fitted, outcomes, np.hstack([X] * targets)))
    acquisition = build_mo_acquisition(kind, fitted, outcomes, baseline=X, reference=reference, seed=0)
    first = score_points(acquisition, GRID)
    assert np.array_equal(score_points(acquisition, GRID), first)
