"""The built-in datasets with several measured columns: their files, columns, replicate grouping and attribution."""

from __future__ import annotations

from importlib import resources

import pandas as pd
import pytest

from kiln.lab.datasets import DATASETS, dataset_info, grouped, load_dataset


@pytest.mark.parametrize(
    ("name", "rows", "unique", "measured"),
    [
        ("suzuki-ii", 91, 75, (("yield", "max"), ("turnover", "max"))),
        ("suzuki-b1", 352, 352, (("objective_conversion", "max"), ("objective_selectivity", "max"))),
    ],
)
def test_two_objective_datasets(name: str, rows: int, unique: int, measured: tuple[tuple[str, str], ...]) -> None:
    info = dataset_info(name)
    assert info.measured == measured and info.target == measured[0][0]
    assert info.columns == tuple(c for c, _ in measured) and info.directions == ("max", "max")
    frame = load_dataset(name)
    assert list(frame.columns) == [*info.inputs, *info.columns] and len(frame) == rows
    assert not frame.isna().any().any()
    table = grouped(frame, list(info.inputs), list(info.columns))
    assert len(table) == unique and list(table.columns) == [*info.inputs, *info.columns]


def test_single_objective_datasets_measure_their_target_only() -> None:
    for name in ("p3ht", "crossed-barrel", "suzuki"):
        info = DATASETS[name]
        assert info.measured == ((info.target, info.direction),) and info.columns == (info.target,)


def test_a_text_value_none_is_a_category_not_a_blank() -> None:
    frame = load_dataset("suzuki-b1")
    assert (frame["base"] == "None").sum() == 44  # the reactions run without a base


def test_each_measured_column_is_the_mean_of_its_own_distinct_replicates() -> None:
    frame = pd.DataFrame({"x": [1, 1, 1, 2], "a": [1.0, 1.0, 4.0, 7.0], "b": [2.0, 6.0, 6.0, 1.0]})
    table = grouped(frame, ["x"], ["a", "b"])
    assert table.to_dict("list") == {"x": [1, 2], "a": [2.5, 7.0], "b": [4.0, 1.0]}
    assert grouped(frame, ["x"], "a").to_dict("list") == {"x": [1, 2], "a": [2.5, 7.0]}


def test_suzuki_ii_replicates_are_merged_per_column() -> None:
    info = dataset_info("suzuki-ii")
    frame = load_dataset("suzuki-ii")
    table = grouped(frame, list(info.inputs), list(info.columns))
    counts = frame.groupby(list(info.inputs), sort=False).size()
    point = counts[counts > 1].index[0]
    rows = frame[(frame[list(info.inputs)] == pd.Series(dict(zip(info.inputs, point, strict=True)))).all(axis=1)]
    merged = table[(table[list(info.inputs)] == pd.Series(dict(zip(info.inputs, point, strict=True)))).all(axis=1)]
    for column in info.columns:
        assert merged[column].item() == pytest.approx(rows[column].drop_duplicates().mean())


def test_every_shipped_file_is_attributed_with_its_licence() -> None:
    folder = resources.files("kiln.lab.datasets")
    attribution = folder.joinpath("ATTRIBUTION.md").read_text(encoding="utf-8")
    for info in DATASETS.values():
        assert f"`{info.file}`" in attribution
        assert folder.joinpath(info.file).is_file()
    for notice in ("Copyright (c) 2020 Aspuru-Guzik group repo", "Copyright (c) 2022 Jose A. Garrido Torres"):
        assert notice in attribution
    assert "Permission is hereby granted" in attribution
