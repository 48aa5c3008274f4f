"""Fixtures for the server tests: an empty store on each backend (SQLite always, PostgreSQL when
``KILN_TEST_POSTGRES_URL`` is set)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiln.store import open_store
from kiln.store.base import Store
from server_helpers import BACKENDS, backend_url


@pytest.fixture(params=BACKENDS)
def backend_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store on the backend named by the parameter; closed afterwards."""
    store = open_store(backend_url(request.param, tmp_path))
    yield store
    store.close()
