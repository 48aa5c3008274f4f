"""Built-in real datasets (see ATTRIBUTION.md beside this file): loading and replicate grouping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from kiln.core.errors import NotFoundError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DatasetInfo:
    """A built-in dataset: its file, input columns, target column and direction.

    ``measured`` lists every measured column with its direction, the target first; a single-objective dataset
    measures its target only (``measured`` left empty).
    """

    name: str
    file: str
    inputs: tuple[str, ...]
    target: str
    direction: str
    description: str
    measured: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.measured:
            object.__setattr__(self, "measured", ((self.target, self.direction),))

    @property
    def columns(self) -> tuple[str, ...]:
        """The measured column names, the target first."""
        return tuple(name for name, _ in self.measured)

    @property
    def directions(self) -> tuple[str, ...]:
        """'max' or 'min' for each of ``columns``."""
        return tuple(direction for _, direction in self.measured)


DATASETS: dict[str, DatasetInfo] = {
    "p3ht": DatasetInfo(
        "p3ht",
        "p3ht.csv",
        ("P3HT content (%)", "D1 content (%)", "D2 content (%)", "D6 content (%)", "D8 content (%)"),
        "Conductivity (measured) (S/cm)",
        "max",
        "P3HT/CNT composite films: conductivity against a 5-part composition (Bash et al. 2021)",
    ),
    "crossed-barrel": DatasetInfo(
        "crossed-barrel",
        "crossed_barrel.csv",
        ("n", "theta", "r", "t"),
        "toughness",
        "max",
        "Crossed-barrel 3D-printed structures: toughness against geometry (Gongora et al. 2020)",
    ),
    "suzuki": DatasetInfo(
        "suzuki",
        "suzuki.csv",
        ("Electrophile_SMILES", "Nucleophile_SMILES", "Ligand_SMILES", "Base_SMILES", "Solvent_SMILES"),
        "yield",
        "max",
        "Suzuki-Miyaura couplings: yield against reagents, ligand, base and solvent (Perera et al. 2018)",
    ),
    "suzuki-ii": DatasetInfo(
        "suzuki-ii",
        "suzuki_ii.csv",
        ("ligand", "res_time", "temperature", "catalyst_loading"),
        "yield",
        "max",
        "Suzuki-Miyaura couplings in flow: yield and turnover against ligand, residence time, temperature and "
        "catalyst loading (Reizman et al. 2016, Olympus)",
        (("yield", "max"), ("turnover", "max")),
    ),
    "suzuki-b1": DatasetInfo(
        "suzuki-b1",
        "suzuki_b1.csv",
        ("ligand", "base", "solvent", "ligand_equivalent"),
        "objective_conversion",
        "max",
        "Suzuki-Miyaura couplings: conversion and selectivity against ligand, base, solvent and ligand "
        "equivalents (Garrido Torres et al. 2022, EDBO+ dataset B1)",
        (("objective_conversion", "max"), ("objective_selectivity", "max")),
    ),
}


def dataset_info(name: str) -> DatasetInfo:
    """The built-in dataset called ``name``; NotFoundError lists the known names."""
    if name not in DATASETS:
        raise NotFoundError(f"dataset {name!r} is not built in; known datasets are {sorted(DATASETS)}")
    return DATASETS[name]


@cache
def _load_raw(name: str) -> pd.DataFrame:
    import pandas as pd

    info = dataset_info(name)
    with resources.files(__name__).joinpath(info.file).open("r", encoding="utf-8") as handle:
        # only an empty cell is missing: a text value such as "None" (a base in suzuki-b1) is a category
        return pd.read_csv(handle, keep_default_na=False, na_values=[""])


def load_dataset(name: str) -> pd.DataFrame:
    """The dataset's rows as published (replicates included): its input columns and its measured columns."""
    info = dataset_info(name)
    return _load_raw(name)[[*info.inputs, *info.columns]].copy()


def grouped(frame: pd.DataFrame, inputs: list[str], target: str | Sequence[str]) -> pd.DataFrame:
    """Identical input rows merged; each measured column (``target``: one name or several) becomes the mean of
    its distinct replicate values (Liang et al. 2021), column by column."""
    columns = [target] if isinstance(target, str) else list(target)
    merged = frame.groupby(inputs, sort=False, dropna=False)[columns].agg(_distinct_mean)
    return merged.reset_index()


def _distinct_mean(values: pd.Series) -> float:
    return float(values.drop_duplicates().mean())
