"""Built-in real datasets (see ATTRIBUTION.md beside this file): loading and replicate grouping."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from kiln.core.errors import NotFoundError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class DatasetInfo:
    """A built-in dataset: its file, input columns, target column and direction."""

    name: str
    file: str
    inputs: tuple[str, ...]
    target: str
    direction: str
    description: str


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
        return pd.read_csv(handle)


def load_dataset(name: str) -> pd.DataFrame:
    """The dataset's rows as published (replicates included): its input columns and its target."""
    info = dataset_info(name)
    return _load_raw(name)[[*info.inputs, info.target]].copy()


def grouped(frame: pd.DataFrame, inputs: list[str], target: str) -> pd.DataFrame:
    """Identical input rows merged; the target is the mean of the distinct replicate values (Liang et al. 2021)."""
    merged = frame.groupby(inputs, sort=False, dropna=False)[target].agg(lambda v: v.drop_duplicates().mean())
    return merged.reset_index()
