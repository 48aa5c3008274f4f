"""Versioned schema of the SQL store: Alembic environment, revisions, and the upgrade run on every open.

Alembic takes about 0.2 s to import, so opening a store that is at the head revision already (every open but the
first) reads the revision table and the revision ids of ``versions/`` without it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from kiln.core.errors import KilnError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent

# Transaction-level advisory lock that serialises writers on PostgreSQL, as BEGIN IMMEDIATE does on SQLite.
PG_WRITE_LOCK_KEY = 0x6B696C6E


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this package's migrations, without an ini file."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    """The revisions shipped with this Kiln (parsed once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> frozenset[str]:
    """The head revision(s) this Kiln writes."""
    return frozenset(_script().get_heads())


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revision(s) a database is at; empty for a new database."""
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


@cache
def shipped_heads() -> frozenset[str]:
    """The head revision(s) of ``versions/``, read from the files' ``revision`` and ``down_revision`` assignments
    without importing Alembic (equal to ``head_revisions()``; a test checks)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value_node = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value_node = node.targets[0], node.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            if target.id == "revision":
                revisions.add(ast.literal_eval(value_node))
            elif target.id == "down_revision":
                value = ast.literal_eval(value_node)
                parents.update([] if value is None else [value] if isinstance(value, str) else value)
    return frozenset(revisions - parents)


def stored_revisions(connection: Connection) -> frozenset[str] | None:
    """The revision(s) in the database's ``alembic_version`` table; None when there is no such table."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return frozenset(row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version")))


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
    with read_engine.connect() as conn:
        if stored_revisions(conn) == shipped_heads():
            return
    from alembic import command

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
    "shipped_heads",
    "stored_revisions",
    "upgrade_to_head",
]
