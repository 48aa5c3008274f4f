"""Run the Store conformance suite on every backend at hand.

SQLite (a file and memory) always runs. PostgreSQL runs when ``KILN_TEST_POSTGRES_URL`` names a scratch
database (e.g. ``postgresql+psycopg://kiln@localhost/kiln_test``); its tables are dropped before each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kiln.store.schema import metadata
from kiln.store.sql import SqlStore

from .conformance import StoreConformance

POSTGRES_URL = os.environ.get("KILN_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite-file", "sqlite-memory"] + (["postgresql"] if POSTGRES_URL else [])


def _fresh_postgres(url: str) -> None:
    """Empty the scratch PostgreSQL database."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A new empty SqlStore on each backend."""
    if request.param == "sqlite-file":
        url = f"sqlite:///{tmp_path / 'kiln.db'}"
    elif request.param == "sqlite-memory":
        url = "sqlite:///:memory:"
    else:
        _fresh_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    opened = SqlStore(url)
    yield opened
    opened.close()


class TestSqlStore(StoreConformance):
    """The conformance suite on SqlStore."""
