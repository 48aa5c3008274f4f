"""Shared fixtures: a SQLite store URL in a temporary folder, a mixed search space and a small candidate pool."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln import CandidatePool, Categorical, Composition, Continuous, Integer, Objective, SearchSpace

TARGET = "y"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/k.db"


@pytest.fixture
def space() -> SearchSpace:
    """Every parameter kind a campaign meets: continuous, integer, categorical and a 3-part composition."""
    return SearchSpace(
        [
            Continuous("temperature", 20.0, 200.0),
            Integer("cycles", 1, 5),
            Categorical("solvent", ("water", "ethanol", "toluene")),
        ],
        compositions=[Composition("mix", ("A", "B", "C"), total=100.0)],
    )


@pytest.fixture
def pool() -> CandidatePool:
    """Six candidates with a numeric and a text column; row keys 0..5 in this order."""
    rows = [[x, s] for x in (1.0, 2.0, 3.0) for s in ("water", "ethanol")]
    return CandidatePool(["x", "solvent"], rows)


@pytest.fixture
def objective() -> Objective:
    return Objective.maximize(TARGET)
