"""The SQLAlchemy engine of the SQL store: SQLite's pragmas and write transactions, URL checks, the NUL guard.

SQLite runs in WAL mode with foreign keys on and a 30 s busy timeout; transactions that write begin with
``BEGIN IMMEDIATE`` (the ``WRITE_OPTION`` execution option) so that concurrent processes queue for the write lock
instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from kiln.core.errors import ValidationError
from kiln.store import display_url
from kiln.store.schema import check_text

BUSY_TIMEOUT_S = 30.0
WRITE_OPTION = "kiln_write"
"""Execution option that makes SQLite begin a transaction with BEGIN IMMEDIATE."""


def _sqlite_on_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    """Hand transaction control to SQLAlchemy and set the pragmas every connection needs."""
    dbapi_connection.isolation_level = None  # sqlite3 must not emit BEGIN itself; ``_sqlite_on_begin`` does
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")  # persistent; a no-op answer 'memory' for :memory:
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    """Begin a transaction: IMMEDIATE (write lock now) for writers, deferred for readers."""
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_engine(parsed: URL, url: str) -> tuple[Engine, bool]:
    """An engine for a SQLite URL, and whether the database lives in memory."""
    database = parsed.database or ""
    memory = database in ("", ":memory:") or parsed.query.get("mode") == "memory"
    if memory:
        engine = create_engine(parsed, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):  # sqlite3 URI filenames are left to sqlite3
            folder = Path(database).parent
            if not folder.is_dir():
                raise ValidationError(
                    "store",
                    url,
                    f"the folder {str(folder)!r} of the database file does not exist",
                    f"create the folder first (mkdir -p {folder}) or choose another store path",
                )
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine, memory


def make_engine(url: str) -> tuple[Engine, bool]:
    """Create the engine for ``url``; ValidationError (showing the URL without its password) for a malformed URL
    or a missing driver."""
    shown = display_url(url)
    example = "a SQLAlchemy URL such as sqlite:///kiln.db or postgresql+psycopg://user@host/kiln"
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValidationError("store", shown, f"expected {example}", "check the spelling of the store URL") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, shown)
        return create_engine(parsed, pool_pre_ping=True), False
    except (NoSuchModuleError, ImportError) as exc:
        raise ValidationError(
            "store",
            shown,
            f"its database driver is not available ({exc})",
            "install the driver, e.g. pip install psycopg",
        ) from exc


def refuse_nul(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    """Last guard before the database: no text parameter may hold a NUL character (PostgreSQL answers such a
    statement with an error; SQLite would store text that PostgreSQL could not hold). Named checks run earlier."""
    rows = parameters if executemany else [parameters]
    for row in rows:
        values = row.values() if isinstance(row, Mapping) else row
        for value in values:
            if isinstance(value, str) and "\x00" in value:
                check_text(value, "text")
