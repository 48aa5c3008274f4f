"""Every pool row's true value from a built-in dataset, for an emulator campaign's exact comparison with random
sampling (``campaign_findings(..., pool_values=...)``).

A campaign's strategy never reads this: the report uses it only when asked (``kiln report --truth DATASET``),
to say what random draws from the pool would have found. The dataset's identical input rows are merged as the
emulator merges them (the mean of distinct replicate values, ``kiln.lab.datasets.grouped``), and each is matched
to its pool row by value (``CandidatePool.key_of``). ``kiln run``'s report step takes the values from its
noise-free emulator's table in the same way (``pool_values_from_table``), so a run on an emulator reports the
exact comparison without being asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.core.errors import ValidationError
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool

if TYPE_CHECKING:
    import pandas as pd


def pool_values_from_dataset(domain: Domain, target: str, dataset: str) -> list[float]:
    """The value of ``target`` for each pool row (row-key order) from the built-in ``dataset``. ValidationError
    when the campaign has no pool, the dataset lacks the target or the pool's columns, or a pool row is not in
    the dataset."""
    from kiln.lab.datasets import dataset_info, grouped, load_dataset

    if not isinstance(domain, CandidatePool):
        raise ValidationError("truth", dataset, "a campaign over a candidate pool", "leave --truth out for a space")
    info = dataset_info(dataset)
    missing = [c for c in [*domain.columns, target] if c not in [*info.inputs, *info.columns]]
    if missing:
        raise ValidationError(
            "truth", dataset, f"a dataset with the pool's columns and the target; it lacks {missing}", "name another"
        )
    return pool_values_from_table(domain, target, grouped(load_dataset(dataset), list(domain.columns), target), dataset)


def pool_values_from_table(domain: CandidatePool, target: str, table: pd.DataFrame, source: str) -> list[float]:
    """The value of ``target`` for each pool row (row-key order) from ``table`` (one row per distinct input row,
    as ``kiln.lab.datasets.grouped`` gives: an emulator's ``table``); ValidationError naming ``source`` when a pool
    row is not in it or the table lacks a pool column or the target."""
    missing = [c for c in [*domain.columns, target] if c not in table.columns]
    if missing:
        raise ValidationError(
            "truth",
            source,
            f"a table with the pool's columns and the target; it lacks {missing}",
            "name the dataset the pool was built from",
        )
    values: dict[int, float] = {}
    for record in table.to_dict("records"):
        key = domain.key_of({c: record[c] for c in domain.columns})
        if key is not None:
            values[key] = float(record[target])
    absent = [k for k in range(len(domain)) if k not in values]
    if absent:
        raise ValidationError(
            "truth",
            source,
            f"a dataset holding every pool row; {len(absent)} rows are not in it (the first: {domain.row(absent[0])})",
            "name the dataset the pool was built from",
        )
    return [values[k] for k in range(len(domain))]
