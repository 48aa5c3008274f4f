"""Store backends for tests: SQLite always, PostgreSQL when ``KILN_TEST_POSTGRES_URL`` names a scratch database
(``.ci/run`` starts one on loopback and sets it)."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from kiln.store.schema import metadata

POSTGRES_URL = os.environ.get("KILN_TEST_POSTGRES_URL", "")


def fresh_postgres(url: str = POSTGRES_URL) -> str:
    """Empty the scratch PostgreSQL database; returns its URL."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        engine.dispose()
    return url
