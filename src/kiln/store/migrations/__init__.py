"""Versioned schema of the SQL store: Alembic environment, revisions, and the upgrade run on every open."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from kiln.core.errors import KilnError

MIGRATIONS_DIR = Path(__file__).resolve().parent

# Transaction-level advisory lock that serialises writers on PostgreSQL, as BEGIN IMMEDIATE does on SQLite.
PG_WRITE_LOCK_KEY = 0x6B696C6E


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this package's migrations, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    """The revisions shipped with this Kiln (parsed once per process)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> frozenset[str]:
    """The head revision(s) this Kiln writes."""
    return frozenset(_script().get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revision(s) a database is at; empty for a new database."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def _check_known(current: frozenset[str], url: str) -> None:
    """Raise KilnError if the database was written by a newer Kiln."""
    known = {script.revision for script in _script().walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        raise KilnError(
            f"store {url}: its schema revision {', '.join(unknown)} is unknown to this Kiln "
            f"(which knows up to {', '.join(sorted(head_revisions()))}); the store was written by a newer "
            "Kiln; upgrade Kiln (pip install -U kiln) to open it"
        )


def upgrade_to_head(read_engine: Engine, write_engine: Engine, url: str) -> None:
    """Bring the database to the head revision; cheap when it is there already.

    ``write_engine`` must begin transactions that take the write lock at once (BEGIN IMMEDIATE on SQLite), so
    that processes opening a new store together run the migration once.
    """
    heads = head_revisions()
    with read_engine.connect() as conn:
        current = current_revisions(conn)
    if current == heads:
        return
    _check_known(current, url)
    with write_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK_KEY})
        current = current_revisions(conn)  # another process may have upgraded meanwhile
        if current == heads:
            return
        _check_known(current, url)
        command.upgrade(alembic_config(conn), "head")


__all__ = [
    "MIGRATIONS_DIR",
    "PG_WRITE_LOCK_KEY",
    "alembic_config",
    "current_revisions",
    "head_revisions",
    "upgrade_to_head",
]
