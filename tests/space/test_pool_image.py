"""Unit tests of kiln.space.pool_image: images attached to a CandidatePool, their patches and their config."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.space.config import space_from_config
from kiln.space.pool import CandidatePool
from kiln.space.pool_image import PoolImage, pixel_pool


def ramp(height: int = 6, width: int = 8) -> np.ndarray:
    """Pixel value = 10 * row + column: every window is easy to check by hand."""
    return (10.0 * np.arange(height)[:, None] + np.arange(width)[None, :]).astype(float)


# -------------------------------------------------------------------------------------------- overview
def test_overview_patch_is_the_window_centred_on_the_pixel() -> None:
    image = ramp()
    pool = pixel_pool(image, patch=3)
    assert len(pool) == 48 and pool.columns == ["x", "y"]
    key = 2 * 8 + 5  # row-major: y * W + x
    assert pool.row(key) == {"x": 5.0, "y": 2.0}
    raw = pool.image.patches([key], normalised=False)
    assert raw.shape == (1, 3, 3) and raw.dtype == np.float32
    np.testing.assert_array_equal(raw[0], image[1:4, 4:7])


def test_edges_are_reflected() -> None:
    image = ramp()
    pool = pixel_pool(image, patch=5)
    raw = pool.image.patches([0], normalised=False)[0]  # pixel (0, 0)
    np.testing.assert_array_equal(raw, np.pad(image, 2, mode="reflect")[0:5, 0:5])
    assert raw[2, 2] == image[0, 0] and raw[0, 0] == image[2, 2]  # reflection without repeating the edge


def test_normalisation_comes_from_the_image_only() -> None:
    image = ramp() * 3 + 7
    pool = pixel_pool(image, patch=3)
    offset, scale = pool.image.normalisation
    assert offset == pytest.approx(image.mean()) and scale == pytest.approx(image.std())
    every = pool.image.patches(range(len(pool)))
    centres = every[:, 1, 1]
    assert centres.mean() == pytest.approx(0.0, abs=1e-6) and centres.std() == pytest.approx(1.0, abs=1e-5)
    constant = pixel_pool(np.full((4, 4), 2.5), patch=3)
    assert constant.image.normalisation == (2.5, 1.0)
    assert np.all(constant.image.patches([3]) == 0)


def test_patches_by_rows_or_keys_agree_and_are_vectorised() -> None:
    pool = pixel_pool(ramp(), patch=3, stride=2)
    assert len(pool) == 3 * 4
    rows = [pool.row(k) for k in (0, 5, 11)]
    np.testing.assert_array_equal(pool.patches(rows), pool.patches([0, 5, 11]))
    with pytest.raises(ValidationError, match="a candidate of the pool"):
        pool.patches([{"x": 1, "y": 1}])  # odd pixels are not candidates at stride 2


def test_a_pool_with_other_columns_and_named_pixel_columns() -> None:
    image = ramp()
    rows = [[0.5, 3, 1], [0.7, 0, 5], [0.1, 7, 0]]
    pool = CandidatePool(["dose", "col", "row"], rows, image=PoolImage.overview(image, patch=3, columns=["col", "row"]))
    np.testing.assert_array_equal(pool.image.pixels, [[3, 1], [0, 5], [7, 0]])
    assert pool.image.patches([1], normalised=False)[0, 1, 1] == image[5, 0]
    assert pool.dim == 3  # the model coordinates do not change


def test_many_patches_are_fast_enough_to_score_an_image() -> None:
    pool = pixel_pool(np.random.default_rng(0).normal(size=(128, 128)), patch=9)
    patches = pool.image.patches(np.arange(len(pool)))
    assert patches.shape == (16384, 9, 9) and patches.flags.c_contiguous


# -------------------------------------------------------------------------------------------- stack
def test_stack_gives_each_row_its_image_and_checks_the_count() -> None:
    images = np.arange(3 * 4 * 5, dtype=float).reshape(3, 4, 5)
    pool = CandidatePool(["a"], [[1], [2], [3]], image=PoolImage.stack(images))
    assert pool.image.form == "stack" and pool.image.patch_shape == (4, 5)
    np.testing.assert_array_equal(pool.image.patches([2, 0], normalised=False), images[[2, 0]])
    with pytest.raises(ValidationError, match="one image per candidate row: 2") as error:
        CandidatePool(["a"], [[1], [2], [1]], image=PoolImage.stack(images))  # rows merge: 2 candidates
    assert error.value.field == "pool image: data"


def test_from_npy_reads_both_forms_without_pickle(tmp_path: Path) -> None:
    np.save(tmp_path / "overview.npy", ramp())
    np.save(tmp_path / "stack.npy", np.ones((2, 3, 3)))
    assert PoolImage.from_npy(tmp_path / "overview.npy", patch=5).patch == 5
    assert PoolImage.from_npy(tmp_path / "stack.npy").form == "stack"
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValidationError, match=r"a \.npy array of numbers"):
        PoolImage.from_npy(tmp_path / "objects.npy")
    with pytest.raises(ValidationError, match="does not exist"):
        PoolImage.from_npy(tmp_path / "missing.npy")


# -------------------------------------------------------------------------------------------- config
@pytest.mark.parametrize("form", ["overview", "stack"])
def test_config_round_trips_through_json(form: str) -> None:
    rng = np.random.default_rng(1)
    if form == "overview":
        pool = pixel_pool(rng.normal(size=(5, 7)), patch=3, units={"x": "px"})
    else:
        pool = CandidatePool(["a"], [[1], [2]], image=PoolImage.stack(rng.normal(size=(2, 3, 4))))
    document = json.loads(json.dumps(pool.to_config()))
    assert document["image"]["schema"] == 1 and document["image"]["form"] == form
    again = space_from_config(document)
    assert isinstance(again, CandidatePool) and again.image == pool.image
    np.testing.assert_array_equal(again.image.data, pool.image.data)
    np.testing.assert_array_equal(again.patches(range(len(pool))), pool.patches(range(len(pool))))
    assert again.to_config() == pool.to_config()


def test_a_pool_without_an_image_keeps_its_old_config() -> None:
    pool = CandidatePool(["x"], [[1], [2]])
    assert pool.image is None and "image" not in pool.to_config()
    with pytest.raises(ValidationError, match="this pool has no image"):
        pool.patches([0])


def test_a_spec_may_name_an_npy_file(tmp_path: Path) -> None:
    np.save(tmp_path / "overview.npy", ramp())
    config = {"kind": "pool", "columns": ["x", "y"], "rows": [[1, 1], [2, 3]]}
    pool = space_from_config({**config, "image": {"npy": str(tmp_path / "overview.npy"), "patch": 3}})
    assert isinstance(pool, CandidatePool) and pool.image is not None and pool.image.patch == 3
    assert pool.to_config()["image"]["form"] == "overview"  # stored inline: reopening needs no file


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"schema": 2}, "space.image: schema", "image schema 1"),
        ({"form": "movie"}, "space.image: form", "overview"),
        ({"shape": [5]}, "space.image: shape", "positive sizes"),
        ({"data": "!!"}, "space.image: data", "base64"),
        ({"shape": [5, 8]}, "space.image: data", "bytes for shape"),
        ({"extra": 1}, "space.image", "fields of a stored image"),
        ({"patch": 4}, "pool image: patch", "odd whole number"),
    ],
)
def test_malformed_stored_images_are_spec_errors(change: dict[str, object], field: str, text: str) -> None:
    config = pixel_pool(ramp(5, 7), patch=3).to_config()
    config["image"] = {**config["image"], **change}
    with pytest.raises(SpecError, match=text) as error:
        space_from_config(config)
    assert error.value.field == field


# -------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("image", "patch", "field", "text"),
    [
        (np.zeros(5), 3, "pool image: data", "2-D overview"),
        (np.zeros((2, 2, 2, 2)), 3, "pool image: data", "2-D overview"),
        (np.array([[1.0, np.nan, 2.0]] * 3), 3, "pool image: data", "finite"),
        ([["a", "b"]], 3, "pool image: data", "array of numbers"),
        (np.zeros((6, 6)), 4, "pool image: patch", "odd whole number >= 3"),
        (np.zeros((6, 6)), 1, "pool image: patch", "odd whole number >= 3"),
        (np.zeros((6, 6)), True, "pool image: patch", "odd whole number >= 3"),
        (np.zeros((6, 4)), 5, "pool image: patch", "smaller side"),
    ],
)
def test_bad_overviews_are_named(image: object, patch: object, field: str, text: str) -> None:
    with pytest.raises(ValidationError, match=text) as error:
        PoolImage.overview(image, patch=patch)  # type: ignore[arg-type]
    assert error.value.field == field


def test_bad_stacks_are_named() -> None:
    with pytest.raises(ValidationError, match="at least 3 x 3"):
        PoolImage.stack(np.zeros((4, 2, 5)))
    with pytest.raises(ValidationError, match="no patch size"):
        PoolImage(np.zeros((4, 3, 3)), patch=3)


@pytest.mark.parametrize(
    ("columns", "rows", "image_columns", "field", "text"),
    [
        (["x", "y"], [[1, 1]], ("u", "y"), "pool image: columns", "a pixel column of the pool"),
        (["x", "y"], [[1.5, 1]], ("x", "y"), "pool image: column 'x'", "whole numbers from 0 to 7"),
        (["x", "y"], [[8, 1]], ("x", "y"), "pool image: column 'x'", "whole numbers from 0 to 7"),
        (["x", "y"], [[1, -1]], ("x", "y"), "pool image: column 'y'", "whole numbers from 0 to 5"),
        (["x", "y"], [["a", 1]], ("x", "y"), "pool image: column 'x'", "whole numbers"),
        (["x", "y"], [[1, 1]], ("x", "x"), "pool image: columns", "two different column names"),
    ],
)
def test_pixel_columns_are_checked_against_the_pool(
    columns: list[str], rows: list[list[object]], image_columns: tuple[str, str], field: str, text: str
) -> None:
    with pytest.raises(ValidationError, match=text) as error:
        CandidatePool(columns, rows, image=PoolImage.overview(ramp(), patch=3, columns=image_columns))
    assert error.value.field == field


def test_other_misuse_is_named() -> None:
    with pytest.raises(ValidationError, match="a PoolImage"):
        CandidatePool(["x"], [[1]], image=np.zeros((3, 3)))  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not attached"):
        PoolImage.overview(ramp(), patch=3).patches([0])
    with pytest.raises(ValidationError, match="stride"):
        pixel_pool(ramp(), stride=0)
    pool = pixel_pool(ramp(), patch=3)
    with pytest.raises(ValidationError, match=r"row keys 0\.\.47"):
        pool.image.patches([48])
    with pytest.raises(ValidationError, match=r"x in 0\.\.7"):
        pool.image.patches_at([8], [0])
