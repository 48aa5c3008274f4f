"""Unit tests of kiln.space.pool.CandidatePool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kiln.core.errors import ValidationError
from kiln.space.config import space_from_config
from kiln.space.pool import CandidatePool


def small_pool(**kwargs: bool) -> CandidatePool:
    return CandidatePool(
        ["x", "solvent", "k"],
        [[1.0, "water", 2], [3.0, "dmso", 4], [1, "water", 2.0], [2.0, "ethanol", 4], [3.0, "dmso", 4]],
        **kwargs,
    )


# -------------------------------------------------------------------------------------------- building
def test_identical_rows_are_merged_keeping_first_order() -> None:
    pool = small_pool()
    assert len(pool) == 3
    assert pool.rows == [(1.0, "water", 2.0), (3.0, "dmso", 4.0), (2.0, "ethanol", 4.0)]
    assert pool.row(2) == {"x": 2.0, "solvent": "ethanol", "k": 4.0}
    assert pool.names == ["x", "solvent", "k"]


def test_numeric_and_text_columns_are_detected() -> None:
    pool = CandidatePool(
        ["a", "b", "c", "d", "e"],
        [[1, "1", True, np.int64(3), 1.5], [2, 2, False, np.float32(4.5), "x"]],
    )
    assert pool.numeric == [True, False, False, True, False]
    assert pool.rows[1] == (2.0, "2", "False", 4.5, "x")
    assert all(type(v) is float for v in (pool.rows[0][0], pool.rows[0][3]))


def test_rows_differing_only_in_text_are_kept() -> None:
    pool = CandidatePool(["x", "s"], [[1, "a"], [1, "A"], [1, "a "]])
    assert len(pool) == 3


@pytest.mark.parametrize(
    ("columns", "rows", "field", "shown"),
    [
        ([], [[1]], "pool: columns", "[]"),
        (["x", "x"], [[1, 2]], "pool: columns", "['x', 'x']"),
        (["x"], [], "pool: rows", "[]"),
        (["x", "y"], [[1, 2], [3]], "pool: row 1", "[3]"),
        (["x", "y"], [[1, 2], [3, 4, 5]], "pool: row 1", "[3, 4, 5]"),
        (["x", "y"], [[1, 2], [float("nan"), 4]], "pool: row 1, column 'x'", "nan"),
        (["x", "y"], [[1, float("inf")]], "pool: row 0, column 'y'", "inf"),
    ],
)
def test_building_errors(columns: list[str], rows: list[list[object]], field: str, shown: str) -> None:
    with pytest.raises(ValidationError) as error:
        CandidatePool(columns, rows)
    assert str(error.value).startswith(f"{field}: got {shown}")


# -------------------------------------------------------------------------------------------- encoding
def test_encoding_scales_numbers_over_the_pool_and_one_hots_text() -> None:
    pool = small_pool()
    # numeric columns first (x, k), then the sorted categories of 'solvent': dmso, ethanol, water
    assert pool.dim == 5
    np.testing.assert_allclose(
        pool.encoded,
        [
            [0.0, 0.0, 0.0, 0.0, 1.0],
            [1.0, 1.0, 1.0, 0.0, 0.0],
            [0.5, 1.0, 0.0, 1.0, 0.0],
        ],
    )
    np.testing.assert_allclose(pool.encode([{"x": 2.5, "solvent": "dmso", "k": 3}]), [[0.75, 0.5, 1, 0, 0]])


def test_constant_numeric_column_encodes_to_zero() -> None:
    pool = CandidatePool(["x", "y"], [[5, 1], [5, 2]])
    np.testing.assert_allclose(pool.encoded, [[0.0, 0.0], [0.0, 1.0]])


def test_text_only_pool() -> None:
    pool = CandidatePool(["s"], [["b"], ["a"], ["b"]])
    assert len(pool) == 2 and pool.dim == 2
    np.testing.assert_allclose(pool.encoded, [[0, 1], [1, 0]])


def test_encoded_is_read_only() -> None:
    pool = small_pool()
    with pytest.raises(ValueError):
        pool.encoded[0, 0] = 7.0
    assert pool.encoded[0, 0] == 0.0


def test_encode_no_rows() -> None:
    assert small_pool().encode([]).shape == (0, 5)


# --------------------------------------------------------------------------------------------- key_of
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"x": 1.0, "solvent": "water", "k": 2}, 0),
        ({"x": 3, "solvent": "dmso", "k": 4.0}, 1),
        ({"x": "2", "solvent": "ethanol", "k": "4"}, 2),
        ({"x": 2.0 * (1 + 1e-12), "solvent": "ethanol", "k": 4.0}, 2),  # within relative 1e-9
        ({"x": 2.0 * (1 - 5e-10), "solvent": "ethanol", "k": 4.0}, 2),
        ({"x": 2.0 * (1 + 1e-6), "solvent": "ethanol", "k": 4.0}, None),  # outside the tolerance
        ({"x": 2.0, "solvent": "water", "k": 4.0}, None),  # every value exists, not the combination
        ({"x": 2.0, "solvent": "acetone", "k": 4.0}, None),  # unknown category
        ({"x": 2.0, "solvent": "ethanol"}, None),  # missing column
        ({"x": 2.0, "solvent": "ethanol", "k": 4.0, "z": 1}, None),  # unknown column
        ({"x": float("nan"), "solvent": "ethanol", "k": 4.0}, None),
    ],
)
def test_key_of(params: dict[str, object], expected: int | None) -> None:
    assert small_pool().key_of(params) == expected


def test_key_of_zero_uses_absolute_tolerance() -> None:
    pool = CandidatePool(["x"], [[0.0], [1.0]])
    assert pool.key_of({"x": 1e-13}) == 0
    assert pool.key_of({"x": 1e-6}) is None


# ------------------------------------------------------------------------------------------- validate
def test_validate_cleans_values() -> None:
    assert small_pool().validate({"x": "1.5", "solvent": "dmso", "k": 9}) == {"x": 1.5, "solvent": "dmso", "k": 9.0}


@pytest.mark.parametrize(
    ("params", "start", "words"),
    [
        ([1, 2, 3], "parameters: got [1, 2, 3]", "a map of pool column"),
        ({"x": 1, "solvent": "dmso"}, "parameters: got ['solvent', 'x']", "missing ['k']"),
        ({"x": 1, "solvent": "dmso", "k": 2, "q": 0}, "parameters: got ['k', 'q', 'solvent', 'x']", "unknown ['q']"),
        (
            {"x": 1, "solvent": "acetone", "k": 2},
            "parameter 'solvent': got 'acetone'",
            "values of this column: dmso, ethanol, water",
        ),
        ({"x": float("inf"), "solvent": "dmso", "k": 2}, "parameter 'x': got inf", "NaN"),
        ({"x": "abc", "solvent": "dmso", "k": 2}, "parameter 'x': got 'abc'", "a number is required"),
    ],
)
def test_validate_errors(params: object, start: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        small_pool().validate(params)  # type: ignore[arg-type]
    assert str(error.value).startswith(start)
    assert words in str(error.value)


# -------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("allow_repeats", [False, True])
def test_to_config_round_trip(allow_repeats: bool) -> None:
    pool = small_pool(allow_repeats=allow_repeats)
    config = pool.to_config()
    assert config == {
        "kind": "pool",
        "columns": ["x", "solvent", "k"],
        "rows": [[1.0, "water", 2.0], [3.0, "dmso", 4.0], [2.0, "ethanol", 4.0]],
        "allow_repeats": allow_repeats,
        "encoding": "auto",
        "encodings": {"solvent": {"kind": "onehot", "requested": "auto"}},
    }
    rebuilt = space_from_config(config)
    assert isinstance(rebuilt, CandidatePool)
    assert rebuilt.to_config() == config
    np.testing.assert_array_equal(rebuilt.encoded, pool.encoded)


def test_from_dataframe_converts_numpy_scalars() -> None:
    frame = pd.DataFrame({"x": [1.5, 2.5, 1.5], "n": [1, 2, 1], "s": ["a", "b", "a"], "y": [0.1, 0.2, 0.3]})
    pool = CandidatePool.from_dataframe(frame, ["x", "n", "s"], allow_repeats=True)
    assert pool.columns == ["x", "n", "s"]
    assert len(pool) == 2  # y is not an input, so rows 0 and 2 are the same candidate
    assert pool.numeric == [True, True, False]
    assert pool.allow_repeats is True
    assert all(type(v) in (float, str) for row in pool.rows for v in row)
    assert CandidatePool.from_dataframe(frame).columns == ["x", "n", "s", "y"]


def test_from_dataframe_missing_input() -> None:
    frame = pd.DataFrame({"x": [1.0], "y": [2.0]})
    with pytest.raises(ValidationError) as error:
        CandidatePool.from_dataframe(frame, ["x", "z"])
    assert str(error.value).startswith("pool: inputs: got ['z']")
    assert "['x', 'y']" in str(error.value)


def test_repr() -> None:
    assert repr(small_pool()) == "CandidatePool(3 rows, columns=['x', 'solvent', 'k'])"


def test_pool_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "plate.csv"
    path.write_text("x,solvent,note\n1.0,water,a\n2.0,ethanol,b\n1.0,water,a\n")
    pool = CandidatePool.from_csv(path, ["x", "solvent"])
    assert len(pool) == 2 and pool.columns == ["x", "solvent"]
    assert pool.row(1) == {"x": 2.0, "solvent": "ethanol"}
    with pytest.raises(ValidationError, match="does not exist"):
        CandidatePool.from_csv(tmp_path / "absent.csv")
