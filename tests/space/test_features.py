"""Unit tests of kiln.space.features: FeatureTable and reduce_features."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.space.features import FeatureTable, reduce_features


def table(columns: dict[str, list[float]]) -> FeatureTable:
    return FeatureTable(tuple(columns), np.array(list(columns.values()), dtype=float).T)


# -------------------------------------------------------------------------------------------- FeatureTable
def test_feature_table_holds_a_read_only_float64_copy() -> None:
    rows = np.array([[1, 2], [3, 4], [5, 6]])
    features = FeatureTable(("a", "b"), rows)
    rows[0, 0] = 99
    assert features.rows.dtype == np.float64
    assert features.rows[0, 0] == 1.0
    assert features.shape == (3, 2) and len(features) == 3
    with pytest.raises(ValueError):
        features.rows[0, 0] = 5.0


@pytest.mark.parametrize(
    ("names", "rows", "message"),
    [
        (("a",), np.zeros((2, 2)), "1 names for 2 columns"),
        (("a", "a"), np.zeros((2, 2)), "repeated: a"),
        (("a",), np.zeros(3), "choices x features"),
        (("a",), np.zeros((0, 1)), "at least one choice"),
    ],
)
def test_feature_table_rejects_bad_shapes(names: tuple[str, ...], rows: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureTable(names, rows)


def test_feature_tables_compare_by_value_and_round_trip_through_json() -> None:
    features = FeatureTable(("a", "b"), [[0.1, 1 / 3], [2e-300, -7.25]])
    assert features == FeatureTable(("a", "b"), [[0.1, 1 / 3], [2e-300, -7.25]])
    assert features != FeatureTable(("a", "c"), [[0.1, 1 / 3], [2e-300, -7.25]])
    assert features != FeatureTable(("a", "b"), [[0.1, 1 / 3], [2e-300, -7.0]])
    again = FeatureTable.from_dict(json.loads(json.dumps(features.to_dict())))
    assert again == features
    assert np.array_equal(again.rows, features.rows)
    empty = FeatureTable((), np.zeros((3, 0)))
    assert FeatureTable.from_dict(json.loads(json.dumps(empty.to_dict()))) == empty


def test_a_table_with_nan_is_not_written_as_json() -> None:
    with pytest.raises(ValueError, match="reduce it first"):
        FeatureTable(("a",), [[1.0], [np.nan]]).to_dict()


# -------------------------------------------------------------------------------------------- reduce_features
def test_each_hygiene_step_drops_what_it_should_and_keeps_the_order() -> None:
    features = table(
        {
            "nan": [1.0, np.nan, 3.0, 4.0],
            "x": [1.0, 2.0, 4.0, 3.0],
            "const": [5.0, 5.0, 5.0, 5.0],
            "inf": [1.0, 2.0, np.inf, 0.0],
            "y": [0.0, 1.0, 0.0, 1.0],
            "x_copy": [1.0, 2.0, 4.0, 3.0],
            "x_scaled": [10.0, 20.0, 40.0, 30.0],
            "z": [3.0, -1.0, 0.5, 2.0],
            "y_neg": [-0.0, -1.0, -0.0, -1.0],
        }
    )
    reduced = reduce_features(features)
    assert reduced.raw == 9
    assert reduced.steps == {"non_finite": 2, "constant": 1, "duplicate": 1, "correlated": 2, "components": 0}
    assert reduced.table.names == ("x", "y", "z")
    assert reduced.kept == ("x", "y", "z")
    assert np.array_equal(reduced.table.rows, features.rows[:, [1, 4, 7]])


def test_negative_zero_and_zero_make_a_duplicate() -> None:
    features = table({"a": [0.0, 1.0, 2.0], "b": [-0.0, 1.0, 2.0]})
    reduced = reduce_features(features, correlation=1.0)
    assert reduced.steps["duplicate"] == 1
    assert reduced.table.names == ("a",)


def test_correlation_threshold_decides_which_near_copies_go() -> None:
    rng = np.random.default_rng(3)
    base = rng.normal(size=30)
    noisy = base + 0.3 * rng.normal(size=30)
    r = abs(np.corrcoef(base, noisy)[0, 1])
    features = FeatureTable(("base", "noisy"), np.column_stack([base, noisy]))
    assert reduce_features(features, correlation=r - 0.01).table.names == ("base",)
    assert reduce_features(features, correlation=r + 0.01).table.names == ("base", "noisy")
    anti = FeatureTable(("a", "minus_a"), np.column_stack([base, -2 * base + 1]))
    assert reduce_features(anti).table.names == ("a",)
    assert reduce_features(anti).steps["correlated"] == 1


def test_correlation_is_judged_against_kept_columns_only() -> None:
    # b is close to a (dropped), c is close to b but not to a: c stays because b is gone.
    # centred orthogonal directions; columns at 0, 12 and 24 degrees: r(a, b) = r(b, c) = cos 12 = 0.978,
    # r(a, c) = cos 24 = 0.914
    e1 = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    e2 = np.array([2.0, -1.0, -2.0, -1.0, 2.0]) * np.linalg.norm(e1) / np.linalg.norm([2.0, -1.0, -2.0, -1.0, 2.0])
    angle = np.deg2rad(12.0)
    a, b, c = (np.cos(k * angle) * e1 + np.sin(k * angle) * e2 for k in range(3))
    features = FeatureTable(("a", "b", "c"), np.column_stack([a, b, c]))
    rab, rac, rbc = np.corrcoef(np.column_stack([a, b, c]).T)[np.triu_indices(3, 1)]
    threshold = 0.95
    assert rab > threshold and rbc > threshold and rac < threshold
    assert reduce_features(features, correlation=threshold).table.names == ("a", "c")


def test_huge_values_are_handled_without_overflow() -> None:
    features = table({"ipc": [1e200, 3e200, 2e200, 5e200], "x": [1.0, 3.0, 2.0, 5.0], "y": [4.0, 1.0, 1.0, 2.0]})
    reduced = reduce_features(features)
    assert reduced.table.names == ("ipc", "y")
    assert reduced.steps["correlated"] == 1


def test_round_off_counts_as_constant_but_a_small_spread_does_not() -> None:
    features = table({"noise": [0.1 + 0.2, 0.3, 0.3], "small": [1e-9, 2e-9, 4e-9]})
    reduced = reduce_features(features)
    assert reduced.steps["constant"] == 1
    assert reduced.table.names == ("small",)


def test_pca_projects_the_standardised_table_on_the_requested_components() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(8, 5)) * np.array([1.0, 10.0, 100.0, 1000.0, 1e4])
    features = FeatureTable(tuple("abcde"), rows)
    reduced = reduce_features(features, correlation=1.0, components=3)
    assert reduced.steps["components"] == 3
    assert reduced.table.names == ("pc1", "pc2", "pc3")
    assert reduced.kept == tuple("abcde")
    scores = reduced.table.rows
    assert scores.shape == (8, 3)
    # the scores are those of the standardised table: same as an SVD of the z-scores, up to each sign
    z = (rows - rows.mean(axis=0)) / rows.std(axis=0)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    expected = u[:, :3] * s[:3]
    for k in range(3):
        assert np.allclose(np.abs(scores[:, k]), np.abs(expected[:, k]), atol=1e-9)
        assert np.allclose(scores[:, k] * np.sign(scores[0, k]), expected[:, k] * np.sign(expected[0, k]))
    assert np.allclose(scores.mean(axis=0), 0.0, atol=1e-12)
    # variances in decreasing order: the first components carry the most
    assert np.all(np.diff(scores.var(axis=0)) <= 1e-12)


def test_pca_never_keeps_more_than_choices_minus_one_nor_the_kept_columns() -> None:
    rng = np.random.default_rng(1)
    wide = FeatureTable(tuple(f"f{i}" for i in range(20)), rng.normal(size=(4, 20)))
    reduced = reduce_features(wide, correlation=1.0, components=10)
    assert reduced.steps["components"] == 3
    assert reduced.table.shape == (4, 3)
    narrow = FeatureTable(("a", "b"), rng.normal(size=(10, 2)))
    assert reduce_features(narrow, components=5).table.shape == (10, 2)


def test_pca_leaves_out_components_without_variance() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 10))
    features = FeatureTable(("a", "b", "a_plus_b"), np.column_stack([a, b, a + b]))
    assert np.abs(np.corrcoef(features.rows.T)[np.triu_indices(3, 1)]).max() < 0.95
    reduced = reduce_features(features, components=3)
    assert reduced.kept == ("a", "b", "a_plus_b")
    assert reduced.steps["components"] == 2
    assert reduced.table.names == ("pc1", "pc2")
    assert reduced.table.rows.std(axis=0).min() > 0.1


def test_reduction_is_deterministic() -> None:
    rng = np.random.default_rng(2)
    features = FeatureTable(tuple(f"f{i}" for i in range(30)), rng.normal(size=(12, 30)))
    first = reduce_features(features, components=4)
    second = reduce_features(FeatureTable(features.names, features.rows.copy()), components=4)
    assert first.table == second.table
    assert first.steps == second.steps


def test_a_table_of_one_choice_reduces_to_no_columns() -> None:
    features = FeatureTable(("a", "b", "c"), [[1.0, np.nan, 3.0]])
    reduced = reduce_features(features, components=2)
    assert reduced.table.shape == (1, 0)
    assert reduced.steps == {"non_finite": 1, "constant": 2, "duplicate": 0, "correlated": 0, "components": 0}


def test_two_choices_keep_one_column() -> None:
    features = table({"a": [1.0, 2.0], "b": [5.0, 3.0], "c": [0.0, 0.0]})
    reduced = reduce_features(features)
    assert reduced.table.names == ("a",)
    assert reduce_features(features, components=3).table.shape == (2, 1)


def test_a_table_with_no_columns_reduces_to_itself() -> None:
    features = FeatureTable((), np.zeros((3, 0)))
    reduced = reduce_features(features, components=2)
    assert reduced.raw == 0
    assert reduced.table == features


@pytest.mark.parametrize("correlation", [0, -0.5, 1.5, True, "high"])
def test_a_bad_correlation_threshold_is_refused(correlation: object) -> None:
    with pytest.raises(ValidationError, match="correlation"):
        reduce_features(FeatureTable(("a",), [[1.0], [2.0]]), correlation=correlation)  # type: ignore[arg-type]


@pytest.mark.parametrize("components", [0, -1, 2.5, True])
def test_a_bad_component_count_is_refused(components: object) -> None:
    with pytest.raises(ValidationError, match="components"):
        reduce_features(FeatureTable(("a",), [[1.0], [2.0]]), components=components)  # type: ignore[arg-type]
