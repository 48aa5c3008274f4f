"""SqlStore on SQLite: pragmas, locking, reopening, several processes, and the Alembic schema versioning."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from kiln.core.errors import KilnError, StateError, ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.store import open_store
from kiln.store.migrations import (
    alembic_config,
    current_revisions,
    head_revisions,
    shipped_heads,
    stored_revisions,
)
from kiln.store.schema import metadata
from kiln.store.sql import SqlStore

WORKERS = 2
PER_WORKER = 50


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "kiln.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SqlStore]:
    opened = SqlStore(f"sqlite:///{db_path}")
    yield opened
    opened.close()


def _pragma(store: SqlStore, name: str) -> Any:
    with store._engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_pragmas(store: SqlStore, db_path: Path) -> None:
    assert _pragma(store, "journal_mode") == "wal"
    assert _pragma(store, "foreign_keys") == 1
    assert _pragma(store, "busy_timeout") == 30_000
    raw = sqlite3.connect(db_path)
    try:  # WAL is a property of the file: every other reader sees it too
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_open_store_gives_sql_store(db_path: Path) -> None:
    opened = open_store(f"sqlite:///{db_path}")
    try:
        assert isinstance(opened, SqlStore)
        assert opened.url == f"sqlite:///{db_path}"
    finally:
        opened.close()


def test_reopening_gives_same_state(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    with SqlStore(url) as first:
        first.create_campaign("c", {"schema_version": 1})
        first.add_experiments("c", [Experiment(id="e1", seq=0, params={"t": 1.0})])
        first.complete("c", "e1", {"y": 2.0})
        before = (first.list_campaigns(), first.experiments("c"), first.events())
    with SqlStore(url) as second:
        assert (second.list_campaigns(), second.experiments("c"), second.events()) == before
        assert second.add_experiments("c", [Experiment(id="e2", seq=0, params={})])[0].seq == 2


def test_missing_folder_is_a_validation_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'kiln.db'}"
    with pytest.raises(ValidationError, match="create the folder") as info:
        SqlStore(url)
    assert info.value.value == url
    assert "nowhere" in str(info.value)
    assert not (tmp_path / "nowhere").exists()


def test_malformed_url_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="SQLAlchemy URL"):
        SqlStore("not a url")


def test_closed_store_refuses_use(db_path: Path) -> None:
    opened = SqlStore(f"sqlite:///{db_path}")
    opened.close()
    opened.close()  # closing twice is harmless
    with pytest.raises(StateError, match="closed"):
        opened.list_campaigns()


def test_writer_waits_for_the_write_lock(store: SqlStore, db_path: Path) -> None:
    """A write that meets another writer's lock waits for it (busy_timeout), it does not fail."""
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    releasing = threading.Event()

    def release() -> None:
        releasing.set()  # just before the lock goes: a write that did not wait for it would come back before this
        blocker.commit()

    started = time.monotonic()
    threading.Timer(0.3, release).start()
    try:
        store.create_campaign("late", {})
        assert releasing.is_set()  # it waited for the lock
    finally:
        blocker.close()
    assert time.monotonic() - started >= 0.25  # read before the timer started: a lower bound only
    assert [c.name for c in store.list_campaigns()] == ["late"]


def _work(url: str, worker: int, barrier: Any, errors: Any) -> None:
    """Add experiments one at a time and complete each (runs in a spawned process)."""
    try:
        with SqlStore(url) as store:
            barrier.wait(timeout=60)
            for i in range(PER_WORKER):
                exp_id = f"w{worker}-{i}"
                store.add_experiments("race", [Experiment(id=exp_id, seq=0, params={"i": i})])
                store.complete("race", exp_id, {"y": float(i)})
    except BaseException as exc:
        errors.put(f"worker {worker}: {exc!r}")
        raise


def test_processes_add_and_complete_concurrently(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    with SqlStore(url) as store:
        store.create_campaign("race", {})
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    errors = ctx.Queue()
    processes = [ctx.Process(target=_work, args=(url, w, barrier, errors)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    assert [p.exitcode for p in processes] == [0] * WORKERS
    with SqlStore(url) as store:
        done = store.experiments("race")
        assert [e.seq for e in done] == list(range(1, WORKERS * PER_WORKER + 1))
        assert len({e.id for e in done}) == WORKERS * PER_WORKER
        assert all(e.status is ExperimentStatus.COMPLETED for e in done)
        log = store.events("race")
        assert [e.kind for e in log].count("experiment_completed") == WORKERS * PER_WORKER
        assert [e.cursor for e in log] == sorted({e.cursor for e in log})


# -- Alembic ---------------------------------------------------------------------------------------------


def test_fresh_database_is_at_head(store: SqlStore) -> None:
    assert head_revisions() == {"0007"}
    with store._engine.connect() as conn:
        assert current_revisions(conn) == head_revisions()


def test_heads_read_without_alembic_are_alembics_heads(store: SqlStore) -> None:
    """Opening a store at head compares the revision table with ids read from versions/ (no Alembic import)."""
    assert shipped_heads() == head_revisions()
    with store._engine.connect() as conn:
        assert stored_revisions(conn) == current_revisions(conn) == shipped_heads()


def test_stored_revisions_of_a_database_without_kiln_tables_is_none(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with engine.connect() as conn:
        assert stored_revisions(conn) is None
    engine.dispose()


def test_migrations_create_exactly_the_schema(store: SqlStore) -> None:
    with store._engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_reopening_at_head_runs_no_migration(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    SqlStore(f"sqlite:///{db_path}").close()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("upgrade ran on a database at head")

    monkeypatch.setattr(command, "upgrade", refuse)
    SqlStore(f"sqlite:///{db_path}").close()


def test_downgraded_database_is_upgraded_on_open(store: SqlStore, db_path: Path) -> None:
    store.create_campaign("c", {})
    with store._writer.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    with store._engine.connect() as conn:
        assert current_revisions(conn) == frozenset()
        assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name='campaigns'").scalar() == 0
    store.close()
    with SqlStore(f"sqlite:///{db_path}") as reopened:
        assert reopened.list_campaigns() == []
        assert reopened.create_campaign("c", {}).name == "c"


def test_database_at_the_first_revision_keeps_its_experiments_on_upgrade(store: SqlStore, db_path: Path) -> None:
    store.create_campaign("c", {})
    with store._writer.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO experiments (id, campaign_id, seq, params, status, origin, results, reason, strategy, batch,"
            " created_at) VALUES ('old', 1, 1, '{\"x\": 1}', 'pending', 'suggested', '{}', '', 'random', 1,"
            " '2026-01-01 00:00:00')"
        )
    store.close()
    with SqlStore(f"sqlite:///{db_path}") as reopened:
        (old,) = reopened.experiments("c")
        assert (old.id, old.params, old.instrument, old.handle, old.dispatched_at, old.attention) == (
            "old",
            {"x": 1},
            "",
            "",
            None,
            "",
        )
        assert (old.amended, old.retracted) == (0, False)
        assert reopened.dispatch("c", "old", "robot", "job-1").handle == "job-1"


def test_unknown_revision_means_newer_kiln(store: SqlStore, db_path: Path) -> None:
    with store._writer.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    store.close()
    with pytest.raises(KilnError, match="newer Kiln") as info:
        SqlStore(f"sqlite:///{db_path}")
    assert "0099_from_the_future" in str(info.value)
    assert "upgrade Kiln" in str(info.value)
