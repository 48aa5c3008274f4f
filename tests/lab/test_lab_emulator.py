"""DatasetEmulator on the built-in datasets: sizes, top-5 % sets as published, grouped means, failures and noise."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kiln import NotFoundError, ValidationError
from kiln.lab import DatasetEmulator, ExperimentFailed, Instrument
from kiln.lab.datasets import DATASETS, load_dataset

P3HT_TARGET = "Conductivity (measured) (S/cm)"


@pytest.mark.parametrize(
    ("name", "rows", "top", "threshold"),
    [("p3ht", 178, 9, 696.39), ("crossed-barrel", 600, 30, 34.475), ("suzuki", 3696, 185, None)],
)
def test_builtin_sizes_and_top_five_percent(name: str, rows: int, top: int, threshold: float | None) -> None:
    emulator = DatasetEmulator.builtin(name)
    assert isinstance(emulator, Instrument)
    assert emulator.name == name
    assert len(emulator.values) == len(emulator.pool) == len(emulator.table) == rows
    assert len(set(emulator.pool.rows)) == rows
    keys = emulator.top_keys()
    assert len(keys) == top == math.ceil(0.05 * rows)
    top_values = emulator.values[sorted(keys)]
    others = np.delete(emulator.values, sorted(keys))
    assert top_values.min() >= others.max()
    if threshold is not None:  # the value of the worst top-5 % candidate, as in Liang et al. 2021
        assert top_values.min() == pytest.approx(threshold, abs=1e-3)
        assert (emulator.values >= threshold - 1e-3).sum() == top


def test_top_keys_of_other_fractions_and_minimisation() -> None:
    emulator = DatasetEmulator.builtin("p3ht")
    assert emulator.top_keys(1.0) == set(range(178))
    best = emulator.top_keys(1e-9)
    assert len(best) == 1 and emulator.values[best.pop()] == emulator.values.max()
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": [5.0, 1.0, 3.0, 2.0]})
    low = DatasetEmulator(frame, ["x"], "y", direction="min")
    assert low.top_keys(0.5) == {1, 3}


def test_measure_returns_the_mean_of_replicates() -> None:
    emulator = DatasetEmulator.builtin("p3ht")
    point = {
        "P3HT content (%)": 34.01,
        "D1 content (%)": 38.90,
        "D2 content (%)": 0.73,
        "D6 content (%)": 12.68,
        "D8 content (%)": 13.65,
    }
    assert emulator.measure(point) == {P3HT_TARGET: pytest.approx((248.62 + 268.25) / 2, rel=1e-12)}

    barrel = DatasetEmulator.builtin("crossed-barrel")
    raw = load_dataset("crossed-barrel")
    inputs = list(DATASETS["crossed-barrel"].inputs)
    first = raw.iloc[0][inputs].to_dict()
    replicates = raw[(raw[inputs] == pd.Series(first)).all(axis=1)]["toughness"]
    assert len(replicates) == 3
    assert barrel.measure(first)["toughness"] == pytest.approx(replicates.mean(), rel=1e-12)


def test_every_pool_row_measures_its_value() -> None:
    emulator = DatasetEmulator.builtin("crossed-barrel")
    for key in (0, 17, 599):
        assert emulator.measure(emulator.pool.row(key)) == {"toughness": emulator.values[key]}


def test_mean_of_distinct_replicates() -> None:
    frame = pd.DataFrame({"x": [1, 1, 1, 2], "y": [1.0, 1.0, 4.0, 7.0]})
    emulator = DatasetEmulator(frame, ["x"], "y")
    assert emulator.measure({"x": 1}) == {"y": 2.5}  # duplicate replicate values count once
    assert emulator.measure({"x": 2.0}) == {"y": 7.0}


@pytest.mark.parametrize(
    "point",
    [
        {
            "Electrophile_SMILES": "C",
            "Nucleophile_SMILES": "C",
            "Ligand_SMILES": "C",
            "Base_SMILES": "C",
            "Solvent_SMILES": "C",
        },
        {"x": 1},
        {},
    ],
)
def test_a_point_not_in_the_dataset_fails(point: dict[str, object]) -> None:
    emulator = DatasetEmulator.builtin("suzuki")
    with pytest.raises(ExperimentFailed, match="suzuki: no measurement"):
        emulator.measure(point)


def test_an_untested_composition_fails() -> None:
    emulator = DatasetEmulator.builtin("p3ht")
    point = dict.fromkeys(emulator.pool.columns, 20.0)
    with pytest.raises(ExperimentFailed):
        emulator.measure(point)


def test_noise_is_reproducible_per_seed() -> None:
    exact = DatasetEmulator.builtin("p3ht")
    point = exact.pool.row(5)
    true = exact.measure(point)[P3HT_TARGET]
    assert exact.measure(point)[P3HT_TARGET] == true  # no noise: always the same value

    def series(seed: int) -> list[float]:
        noisy = DatasetEmulator.builtin("p3ht", noise=5.0, seed=seed)
        return [noisy.measure(point)[P3HT_TARGET] for _ in range(50)]

    one, again, other = series(1), series(1), series(2)
    assert one == again
    assert one != other
    assert len(set(one)) == 50
    assert all(v != true for v in one)
    assert abs(np.mean(one) - true) < 3.0  # 50 draws of sd 5: mean within 4 standard errors
    assert 3.0 < np.std(one) < 7.0


@pytest.mark.parametrize("noise", [-1.0, float("nan"), float("inf")])
def test_bad_noise_is_rejected(noise: float) -> None:
    with pytest.raises(ValidationError, match=r"^instrument: noise"):
        DatasetEmulator.builtin("p3ht", noise=noise)


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(NotFoundError) as error:
        DatasetEmulator.builtin("nope")
    for name in ("p3ht", "crossed-barrel", "suzuki"):
        assert name in str(error.value)
