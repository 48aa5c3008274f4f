"""Every pool row's value from a built-in dataset (``kiln report --truth DATASET``), for an exact comparison."""

from __future__ import annotations

import pytest

from kiln import CandidatePool, SearchSpace, ValidationError
from kiln.lab.datasets import dataset_info, grouped, load_dataset
from kiln.report.truth import pool_values_from_dataset
from kiln.space.parameters import Continuous


def test_the_values_follow_the_pool_rows() -> None:
    info = dataset_info("p3ht")
    frame = grouped(load_dataset("p3ht"), list(info.inputs), list(info.columns))
    pool = CandidatePool.from_dataframe(frame, list(info.inputs))
    target = info.columns[0]
    values = pool_values_from_dataset(pool, target, "p3ht")
    assert len(values) == len(pool) == len(frame)
    assert values == pytest.approx(frame[target].tolist())


def test_a_space_or_another_dataset_is_refused() -> None:
    info = dataset_info("p3ht")
    with pytest.raises(ValidationError, match="candidate pool"):
        pool_values_from_dataset(SearchSpace([Continuous("x", 0.0, 1.0)]), info.columns[0], "p3ht")
    frame = grouped(load_dataset("p3ht"), list(info.inputs), list(info.columns))
    pool = CandidatePool.from_dataframe(frame, list(info.inputs))
    with pytest.raises(ValidationError, match="lacks"):
        pool_values_from_dataset(pool, info.columns[0], "suzuki")
    small = CandidatePool(list(info.inputs), [[1.0, 2.0, 3.0, 4.0, 5.0]])
    with pytest.raises(ValidationError, match="not in it"):
        pool_values_from_dataset(small, info.columns[0], "p3ht")
