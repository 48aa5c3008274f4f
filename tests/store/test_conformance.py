"""Run the Store conformance suite on every backend at hand.

SQLite (a file and memory) always runs. PostgreSQL runs when ``KILN_TEST_POSTGRES_URL`` names a scratch
database (e.g. ``postgresql+psycopg://kiln@localhost/kiln_test``); its tables are dropped before each test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backends import POSTGRES_URL, fresh_postgres
from kiln.store.sql import SqlStore

from .conformance import StoreConformance

BACKENDS = ["sqlite-file", "sqlite-memory"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A new empty SqlStore on each backend."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'kiln.db'}"
    elif request.param == "sqlite-memory":
        url = "sqlite:///:memory:"
    else:
        url = fresh_postgres()
    opened = SqlStore(url)
    yield opened
    opened.close()


class TestSqlStore(StoreConformance):
    """The conformance suite on SqlStore."""
