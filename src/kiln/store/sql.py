"""SqlStore: the Store protocol on SQLAlchemy 2 Core (SQLite by default, PostgreSQL-ready).

SQLite runs in WAL mode with foreign keys on and a 30 s busy timeout; transactions that write begin with
``BEGIN IMMEDIATE`` so that concurrent processes queue for the write lock instead of failing, and ``seq``
assignment cannot race. On PostgreSQL a transaction-level advisory lock does the same, which also makes event
cursors commit in cursor order (so ``events(after=c)`` never skips a late commit).
"""

from __future__ import annotations

import difflib
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    delete,
    event,
    func,
    insert,
    literal,
    select,
    text,
    update,
)

from kiln.core.errors import (
    CampaignNotFoundError,
    ConflictError,
    NotFoundError,
    StaleHistoryError,
    StateError,
    ValidationError,
)
from kiln.core.records import (
    CampaignRecord,
    Change,
    Event,
    Experiment,
    ExperimentStatus,
    LeaseRecord,
    Revision,
    TokenRecord,
    utc_now,
)
from kiln.store import display_url
from kiln.store import sql_corrections as corrections
from kiln.store import sql_leases as run_leases
from kiln.store import sql_tokens as api_tokens
from kiln.store.base import Changes, Completion
from kiln.store.migrations import PG_WRITE_LOCK_KEY, upgrade_to_head
from kiln.store.schema import (
    CONFIG_SIZE_MAX,
    NAME_MAX,
    UtcDateTime,
    aware_utc,
    check_campaign_name,
    check_experiment,
    check_text,
    json_object,
    note_text,
    results_map,
    row_to_campaign,
    row_to_experiment,
)
from kiln.store.schema import campaigns as campaign_table
from kiln.store.schema import events as event_table
from kiln.store.schema import experiments as experiment_table
from kiln.store.sql_checks import (
    bounded_text,
    check_correction,
    checked_completion,
    lookup_text,
    not_dispatched,
    required_names,
    touched,
)
from kiln.store.sql_engine import BUSY_TIMEOUT_S, WRITE_OPTION, make_engine, refuse_nul

_KNOWN_NAMES_SHOWN = 10


ID_CHUNK = 500
"""Ids bound in one IN (...) clause: below every backend's limit on bound parameters."""


class SqlStore:
    """Campaigns, experiments and events in a SQL database; see ``kiln.store.base`` for the contract.

    Opening a store creates the tables, or migrates them to this Kiln's schema revision. ``url`` is the address
    as it may be shown: a password in it is masked (``***``); the real one stays inside the engine.
    """

    url: str

    def __init__(self, url: str) -> None:
        self.url = display_url(url)
        self._engine, memory = make_engine(url)
        event.listen(self._engine, "before_cursor_execute", refuse_nul)
        self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        self._postgres = self._engine.dialect.name == "postgresql"
        # One shared connection serves an in-memory database: threads take turns on it.
        self._lock: AbstractContextManager[Any] = threading.RLock() if memory else nullcontext()
        self._closed = False
        try:
            with self._lock:
                upgrade_to_head(self._engine, self._writer, self.url)
        except BaseException:
            self._engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"SqlStore({self.url!r})"

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read transaction (one consistent snapshot), rolled back at the end."""
        self._check_open()
        with self._lock, self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction holding the write lock from its start; commits on success, else rolls back."""
        self._check_open()
        with self._lock, self._writer.begin() as conn:
            if self._postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK_KEY})
            yield conn

    def _check_open(self) -> None:
        if self._closed:
            raise StateError(f"store {self.url} is closed; open it again with open_store({self.url!r})")

    # -- helpers --------------------------------------------------------------------------------------------

    def _campaign_id(self, conn: Connection, name: str) -> int:
        """The id of campaign ``name``; NotFoundError listing the known names."""
        lookup_text(name, "name")
        found = conn.execute(select(campaign_table.c.id).where(campaign_table.c.name == name)).scalar_one_or_none()
        if found is None:
            raise self._unknown_campaign(conn, name)
        return int(found)

    def _unknown_campaign(self, conn: Connection, name: str) -> CampaignNotFoundError:
        names = list(
            conn.execute(
                select(campaign_table.c.name).order_by(campaign_table.c.id).limit(_KNOWN_NAMES_SHOWN + 1)
            ).scalars()
        )
        if not names:
            return CampaignNotFoundError(
                f"campaign {name!r} not found in store {self.url}: it has no campaigns yet", name
            )
        shown = ", ".join(names[:_KNOWN_NAMES_SHOWN]) + (", ..." if len(names) > _KNOWN_NAMES_SHOWN else "")
        message = f"campaign {name!r} not found in store {self.url}; known campaigns: {shown}"
        close = difflib.get_close_matches(str(name), names, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        return CampaignNotFoundError(message, name)

    def _unknown_experiment(self, campaign: str, experiment_id: str) -> NotFoundError:
        return NotFoundError(
            f"experiment {experiment_id!r} not found in campaign {campaign!r}; "
            "check the id against the campaign's experiments"
        )

    def _log(self, conn: Connection, campaign_id: int, kind: str, payload: Mapping[str, Any]) -> None:
        """Append an event in the caller's transaction."""
        conn.execute(
            insert(event_table).values(campaign_id=campaign_id, kind=kind, payload=dict(payload), at=utc_now())
        )

    def _select_experiment(self, conn: Connection, campaign_id: int, experiment_id: str) -> Row[Any] | None:
        lookup_text(experiment_id, "experiment_id")
        query = select(experiment_table).where(
            experiment_table.c.id == experiment_id, experiment_table.c.campaign_id == campaign_id
        )
        return conn.execute(query).first()

    # -- campaigns ------------------------------------------------------------------------------------------

    def create_campaign(self, name: str, config: Mapping[str, Any]) -> CampaignRecord:
        """Create a campaign. Raises ConflictError if the name exists, ValidationError for a bad name."""
        check_campaign_name(name)
        stored_config = json_object(config, "config", CONFIG_SIZE_MAX)
        with self._write() as conn:  # writers are serialised, so check-then-insert cannot race
            by_name = select(campaign_table).where(campaign_table.c.name == name)
            if conn.execute(by_name).first() is not None:
                raise ConflictError(
                    f"campaign {name!r} exists already in store {self.url}; choose another name or delete it"
                )
            conn.execute(insert(campaign_table).values(name=name, config=stored_config, created_at=utc_now()))
            row = conn.execute(by_name).one()
            self._log(conn, row.id, "campaign_created", {"name": name})
        return row_to_campaign(row)

    def get_campaign(self, name: str) -> CampaignRecord:
        """The campaign called ``name``. Raises NotFoundError listing the known names if there is none."""
        lookup_text(name, "name")
        with self._read() as conn:
            row = conn.execute(select(campaign_table).where(campaign_table.c.name == name)).first()
            if row is None:
                raise self._unknown_campaign(conn, name)
        return row_to_campaign(row)

    def list_campaigns(self) -> list[CampaignRecord]:
        """All campaigns, oldest first."""
        with self._read() as conn:
            rows = conn.execute(select(campaign_table).order_by(campaign_table.c.id)).all()
        return [row_to_campaign(row) for row in rows]

    def delete_campaign(self, name: str) -> None:
        """Remove a campaign with its experiments and events (ON DELETE CASCADE)."""
        with self._write() as conn:
            campaign_id = self._campaign_id(conn, name)
            conn.execute(delete(campaign_table).where(campaign_table.c.id == campaign_id))

    # -- experiments ----------------------------------------------------------------------------------------

    def add_experiments(
        self, campaign: str, experiments: Sequence[Experiment], *, after_seq: int | None = None
    ) -> list[Experiment]:
        """Append experiments in one transaction, assigning seq; ConflictError if an id exists already.

        With ``after_seq``, StaleHistoryError unless the campaign's last seq is still ``after_seq``.
        """
        rows = self._checked_rows(experiments)
        with self._write() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            return self._insert(conn, campaign, campaign_id, rows, after_seq)

    def record_results(
        self,
        campaign: str,
        completions: Sequence[Completion | tuple[str, Mapping[str, float]]],
        experiments: Sequence[Experiment],
        *,
        required: Sequence[str] | None = None,
    ) -> list[Experiment]:
        """Complete pending experiments (or, with ``required``, add values to them) and append new ones, all in
        one transaction (an import)."""
        rows = self._checked_rows(experiments)
        checked = [checked_completion(Completion(*completion), index) for index, completion in enumerate(completions)]
        names = [] if required is None else required_names(required)
        at = utc_now()
        with self._write() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            told = []
            for experiment_id, values in checked:
                row = self._add_results_in(conn, campaign, campaign_id, experiment_id, values, names, at)
                told.append(row_to_experiment(row))
            return told + self._insert(conn, campaign, campaign_id, rows, None)

    @staticmethod
    def _checked_rows(experiments: Sequence[Experiment]) -> list[dict[str, Any]]:
        rows = [check_experiment(experiment, index) for index, experiment in enumerate(experiments)]
        twice = sorted(i for i, n in Counter(row["id"] for row in rows).items() if n > 1)
        if twice:
            raise ConflictError(f"experiment id {twice[0]} appears twice in the batch; give each experiment its own id")
        return rows

    def _insert(
        self, conn: Connection, campaign: str, campaign_id: int, rows: list[dict[str, Any]], after_seq: int | None
    ) -> list[Experiment]:
        """Insert checked rows after the campaign's last seq, inside the caller's transaction."""
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        self._check_new_ids(conn, ids)
        last = conn.execute(
            select(func.coalesce(func.max(experiment_table.c.seq), 0)).where(
                experiment_table.c.campaign_id == campaign_id
            )
        ).scalar_one()
        if after_seq is not None and int(last) != after_seq:
            raise StaleHistoryError(
                f"campaign {campaign!r} changed while this batch was prepared (last seq {last}, expected "
                f"{after_seq}); ask again"
            )
        for offset, row in enumerate(rows, start=1):
            row["campaign_id"] = campaign_id
            row["seq"] = int(last) + offset
        conn.execute(insert(experiment_table), rows)
        self._log(conn, campaign_id, "experiments_added", {"ids": ids})
        stored = conn.execute(
            select(experiment_table)
            .where(experiment_table.c.campaign_id == campaign_id, experiment_table.c.seq > last)
            .order_by(experiment_table.c.seq)
        ).all()
        return [row_to_experiment(row) for row in stored]

    def _check_new_ids(self, conn: Connection, ids: Sequence[str]) -> None:
        """ConflictError if any of ``ids`` is stored already (in any campaign)."""
        for start in range(0, len(ids), ID_CHUNK):
            taken = conn.execute(
                select(experiment_table.c.id).where(experiment_table.c.id.in_(ids[start : start + ID_CHUNK])).limit(1)
            ).scalar_one_or_none()
            if taken is not None:
                raise ConflictError(
                    f"experiment id {taken} exists already in store {self.url}; give new ids (kiln.core.ids.new_id())"
                )

    def add_results(
        self,
        campaign: str,
        experiment_id: str,
        results: Mapping[str, float],
        *,
        required: Sequence[str] = (),
        at: datetime | None = None,
        outputs: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> Experiment:
        """Add values to a pending experiment's results; it completes once they hold every ``required`` name."""
        values = {
            "results": results_map(results, "results"),
            "outputs": None if outputs is None else json_object(outputs, "outputs"),
            "note": note_text(note),
        }
        names = required_names(required)
        finished_at = utc_now() if at is None else aware_utc(at, "at")
        with self._write() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            row = self._add_results_in(conn, campaign, campaign_id, experiment_id, values, names, finished_at)
        return row_to_experiment(row)

    def _add_results_in(
        self,
        conn: Connection,
        campaign: str,
        campaign_id: int,
        experiment_id: str,
        values: Mapping[str, Any],
        required: Sequence[str],
        at: datetime,
    ) -> Any:
        """``add_results`` inside the caller's transaction (writers take turns, so what is read stays true until
        the conditional UPDATE); returns the updated row."""
        added = dict(values["results"])
        if not added:
            raise ValidationError("results", {}, "at least one value is required", "give a value for a quantity")
        row = self._select_experiment(conn, campaign_id, experiment_id)
        if row is None:
            raise self._unknown_experiment(campaign, experiment_id)
        stored = dict(row.results or {})
        twice = sorted(set(added) & set(stored))
        if twice and row.status == ExperimentStatus.PENDING.value:
            shown = ", ".join(f"{name}={stored[name]:g}" for name in twice)
            raise StateError(
                f"experiment {experiment_id} has a value for {twice} already ({shown}); each quantity is told once: "
                "use amend to correct it"
            )
        merged = {**stored, **added}
        update_values: dict[str, Any] = {"results": merged}
        if values.get("outputs"):
            update_values["outputs"] = {**dict(row.outputs or {}), **values["outputs"]}
        if values.get("note"):
            update_values["note"] = note_text(f"{row.note}\n{values['note']}" if row.note else values["note"])
        done = all(name in merged for name in required)
        if done:
            update_values.update(status=ExperimentStatus.COMPLETED.value, finished_at=at)
            kind, payload = "experiment_completed", {"id": experiment_id, "results": merged}
        else:
            kind, payload = "experiment_results_added", {"id": experiment_id, "results": added}
        new = self._finish_in(conn, campaign, campaign_id, experiment_id, update_values, kind, payload)
        number = corrections.latest_number(conn, experiment_id)
        if number is not None:  # corrected while partly measured: its history goes on with the values added
            corrections.add_revision(conn, campaign_id, new, number + 1, Change.RECORDED, "", "", at)
        return new

    def complete(
        self,
        campaign: str,
        experiment_id: str,
        results: Mapping[str, float],
        at: datetime | None = None,
        outputs: Mapping[str, Any] | None = None,
        note: str = "",
    ) -> Experiment:
        """Mark a pending experiment completed with its results (and outputs and note); StateError if it is not
        pending. Values it holds already (partial results) are kept, and telling one of them again is refused, as
        ``add_results`` does."""
        return self.add_results(campaign, experiment_id, results, at=at, outputs=outputs, note=note)

    def fail(self, campaign: str, experiment_id: str, reason: str, at: datetime | None = None) -> Experiment:
        """Mark a pending experiment failed with a reason; StateError if it is not pending."""
        if not isinstance(reason, str):
            raise ValidationError("reason", reason, "expected a string saying why the experiment failed")
        check_text(reason, "reason")
        finished_at = utc_now() if at is None else aware_utc(at, "at")
        return self._finish(
            campaign,
            experiment_id,
            {"status": ExperimentStatus.FAILED.value, "reason": reason, "finished_at": finished_at},
            "experiment_failed",
            {"id": experiment_id, "reason": reason},
        )

    def _finish(
        self,
        campaign: str,
        experiment_id: str,
        values: dict[str, Any],
        kind: str,
        payload: Mapping[str, Any],
        expect: tuple[str, str] | None = None,
    ) -> Experiment:
        """Change a pending experiment (to a final state, or its dispatch) with a conditional UPDATE; one caller
        wins. With ``expect``, only while its (instrument, handle) is that."""
        with self._write() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            row = self._finish_in(conn, campaign, campaign_id, experiment_id, values, kind, payload, expect)
        return row_to_experiment(row)

    def _finish_in(
        self,
        conn: Connection,
        campaign: str,
        campaign_id: int,
        experiment_id: str,
        values: dict[str, Any],
        kind: str,
        payload: Mapping[str, Any],
        expect: tuple[str, str] | None = None,
    ) -> Any:
        """``_finish`` inside the caller's transaction; logs ``kind`` and returns the updated row."""
        conditions = [
            experiment_table.c.id == experiment_id,
            experiment_table.c.campaign_id == campaign_id,
            experiment_table.c.status == ExperimentStatus.PENDING.value,
        ]
        if expect is not None:
            conditions += [experiment_table.c.instrument == expect[0], experiment_table.c.handle == expect[1]]
        result = conn.execute(update(experiment_table).where(*conditions).values(**values))
        if result.rowcount != 1:
            row = self._select_experiment(conn, campaign_id, experiment_id)
            if row is None:
                raise self._unknown_experiment(campaign, experiment_id)
            if row.status != ExperimentStatus.PENDING.value:
                raise StateError(
                    f"experiment {experiment_id} is already {row.status}; it cannot be told or failed again "
                    "(amend it to correct its result, or add a new experiment to repeat the measurement)"
                )
            raise StateError(
                f"experiment {experiment_id} was dispatched meanwhile (to {row.instrument!r}, handle "
                f"{row.handle!r}); another run is sending it"
            )
        self._log(conn, campaign_id, kind, payload)
        row = self._select_experiment(conn, campaign_id, experiment_id)
        assert row is not None
        return row

    def dispatch(
        self,
        campaign: str,
        experiment_id: str,
        instrument: str,
        handle: str = "",
        *,
        expect: tuple[str, str] | None = None,
    ) -> Experiment:
        """Record that a pending experiment is being sent to ``instrument`` (``handle`` empty: not yet
        acknowledged; ``dispatched_at`` is now) or was accepted under ``handle`` (``dispatched_at`` is kept);
        StateError if it is not pending, or if ``expect`` is given and its (instrument, handle) is no longer that
        (another run took it meanwhile)."""
        name = bounded_text(instrument, "instrument", NAME_MAX)
        if not name:
            raise ValidationError("instrument", instrument, "an instrument name is not empty", "name the instrument")
        sent_at: Any = literal(utc_now(), type_=UtcDateTime())
        if handle:  # the instrument's answer: the experiment was sent when its dispatch was first recorded
            sent_at = func.coalesce(experiment_table.c.dispatched_at, sent_at)
        values = {"instrument": name, "handle": bounded_text(handle, "handle", 10_000), "dispatched_at": sent_at}
        payload = {"id": experiment_id, "instrument": name, "handle": handle}
        return self._finish(campaign, experiment_id, values, "experiment_dispatched", payload, expect)

    def flag(self, campaign: str, experiment_id: str, note: str) -> Experiment:
        """Mark a pending experiment for an operator with ``note`` (empty clears it); StateError if it is not
        pending."""
        text = bounded_text(note, "note", 10_000)
        return self._finish(
            campaign, experiment_id, {"attention": text}, "experiment_flagged", {"id": experiment_id, "note": text}
        )

    # -- corrections ----------------------------------------------------------------------------------------

    def amend(
        self,
        campaign: str,
        experiment_id: str,
        *,
        results: Mapping[str, float] | None = None,
        failure: str | None = None,
        note: str,
        actor: str = "",
        expect: int | None = None,
    ) -> Experiment:
        """Give a completed or failed experiment new ``results`` (it becomes completed) or turn it into a failure
        with reason ``failure``; ``expect``: only if it has been amended that many times (compare-and-set)."""
        values = corrections.amended_values(results, failure)
        return self._correct(campaign, experiment_id, values, Change.AMENDED, note, actor, expect)

    def retract(
        self, campaign: str, experiment_id: str, *, note: str, actor: str = "", retracted: bool = True
    ) -> Experiment:
        """Retract a completed or failed experiment (``retracted=False``: take the retraction back)."""
        if not isinstance(retracted, bool):
            raise ValidationError("retracted", retracted, "True or False")
        change = Change.RETRACTED if retracted else Change.UNRETRACTED
        return self._correct(campaign, experiment_id, {"retracted": retracted}, change, note, actor, None)

    def discard(self, campaign: str, experiment_id: str, *, note: str = "", actor: str = "") -> Experiment:
        """Discard a pending suggestion: it will not be run; ``note`` (why) becomes its reason."""
        values = corrections.discarded_values(note)
        return self._correct(campaign, experiment_id, values, Change.DISCARDED, note, actor, None)

    def _correct(
        self,
        campaign: str,
        experiment_id: str,
        values: dict[str, Any],
        change: Change,
        note: str,
        actor: str,
        expect: int | None,
    ) -> Experiment:
        """Apply a correction with a conditional UPDATE, keeping the earlier version in ``revisions`` and logging
        an event, all in one transaction."""
        text_note = bounded_text(note, "reason", 10_000)
        who = bounded_text(actor, "actor", NAME_MAX)
        if expect is not None and (isinstance(expect, bool) or not isinstance(expect, int) or expect < 0):
            raise ValidationError("expect", expect, "the number of earlier amendments: a whole number >= 0")
        with self._write() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            row = self._select_experiment(conn, campaign_id, experiment_id)
            if row is None:
                raise self._unknown_experiment(campaign, experiment_id)
            check_correction(row, change, values, expect)
            if (
                change is Change.AMENDED and row.status == ExperimentStatus.PENDING.value
            ):  # partial results: stays pending
                values = {**values, "status": row.status}
            at = utc_now()
            number = corrections.latest_number(conn, experiment_id)
            if number is None:  # the first correction: keep the version as first recorded
                corrections.add_revision(
                    conn, campaign_id, row, 0, Change.RECORDED, "", "", row.finished_at or row.created_at
                )
                number = 0
            if change is Change.AMENDED:
                values = {**values, "amended": row.amended + 1}
            result = conn.execute(
                update(experiment_table)
                .where(
                    experiment_table.c.id == experiment_id,
                    experiment_table.c.campaign_id == campaign_id,
                    experiment_table.c.status == row.status,
                    experiment_table.c.amended == row.amended,
                    experiment_table.c.retracted == row.retracted,
                    *not_dispatched(change),
                )
                .values(**values)
            )
            if result.rowcount != 1:  # writers take turns, so only a store without that guarantee gets here
                raise StateError(f"experiment {experiment_id} changed meanwhile; look at it again and retry")
            new = self._select_experiment(conn, campaign_id, experiment_id)
            assert new is not None
            corrections.add_revision(conn, campaign_id, new, number + 1, change, text_note, who, at)
            self._log(
                conn,
                campaign_id,
                f"experiment_{change.value}",
                {
                    "id": experiment_id,
                    "status": new.status,
                    "results": dict(new.results),
                    "reason": new.reason,
                    "retracted": bool(new.retracted),
                    "note": text_note,
                    "actor": who,
                },
            )
        return row_to_experiment(new)

    def history(self, campaign: str, experiment_id: str) -> list[Revision]:
        """Every version of an experiment's outcome, oldest first; the last is its current one."""
        with self._read() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            row = self._select_experiment(conn, campaign_id, experiment_id)
            if row is None:
                raise self._unknown_experiment(campaign, experiment_id)
            return corrections.stored_history(conn, row_to_experiment(row))

    def revisions(self, campaign: str) -> list[Revision]:
        """The stored versions of every corrected experiment of a campaign, by experiment seq then number."""
        with self._read() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            return corrections.campaign_revisions(conn, campaign_id)

    def experiments(self, campaign: str) -> list[Experiment]:
        """All experiments of a campaign ordered by seq."""
        with self._read() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            rows = conn.execute(
                select(experiment_table)
                .where(experiment_table.c.campaign_id == campaign_id)
                .order_by(experiment_table.c.seq)
            ).all()
        return [row_to_experiment(row) for row in rows]

    def changes(self, campaign: str, after: int = 0) -> Changes:
        """The experiments added or changed since event cursor ``after`` by seq, and the next cursor (every
        experiment, ``complete``, when ``after`` is 0 or older than the campaign).

        Every write logs an event naming the experiments it touched, in the same transaction, and writers take
        turns, so cursors grow in commit order. The cursor is read before the experiments: a row may then be newer
        than its cursor (read again next time, harmlessly) but never older.
        """
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise ValidationError("after", after, "expected an event cursor: a whole number of at least 0")
        with self._read() as conn:
            campaign_id = self._campaign_id(conn, campaign)
            of_campaign = experiment_table.c.campaign_id == campaign_id
            logged_here = event_table.c.campaign_id == campaign_id
            cursors = conn.execute(
                select(func.min(event_table.c.cursor), func.max(event_table.c.cursor)).where(logged_here)
            ).one()
            first, last = int(cursors[0] or 0), int(cursors[1] or 0)
            if after == 0 or first > after:
                rows = conn.execute(select(experiment_table).where(of_campaign).order_by(experiment_table.c.seq))
                return Changes([row_to_experiment(row) for row in rows], last, True)
            if last <= after:
                return Changes([], after, False)
            logged = conn.execute(
                select(event_table.c.payload).where(
                    logged_here, event_table.c.cursor > after, event_table.c.cursor <= last
                )
            ).all()
            ids = sorted({i for row in logged for i in touched(row.payload)})
            found: list[Row[Any]] = []
            for start in range(0, len(ids), ID_CHUNK):
                chunk = ids[start : start + ID_CHUNK]
                found += conn.execute(select(experiment_table).where(of_campaign, experiment_table.c.id.in_(chunk)))
        return Changes(sorted((row_to_experiment(row) for row in found), key=lambda e: e.seq), last, False)

    def get_experiment(self, campaign: str, experiment_id: str) -> Experiment:
        """One experiment. Raises NotFoundError if absent."""
        with self._read() as conn:
            row = self._select_experiment(conn, self._campaign_id(conn, campaign), experiment_id)
        if row is None:
            raise self._unknown_experiment(campaign, experiment_id)
        return row_to_experiment(row)

    # -- events ---------------------------------------------------------------------------------------------

    def events(self, campaign: str | None = None, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with cursor > after, oldest first, for one campaign or all."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError("limit", limit, "expected a whole number of at least 1")
        query = (
            select(
                event_table.c.cursor,
                campaign_table.c.name,
                event_table.c.kind,
                event_table.c.payload,
                event_table.c.at,
            )
            .join(campaign_table, campaign_table.c.id == event_table.c.campaign_id)
            .where(event_table.c.cursor > int(after))
            .order_by(event_table.c.cursor)
            .limit(limit)
        )
        with self._read() as conn:
            if campaign is not None:
                query = query.where(event_table.c.campaign_id == self._campaign_id(conn, campaign))
            rows = conn.execute(query).all()
        return [
            Event(cursor=row.cursor, campaign=row.name, kind=row.kind, payload=dict(row.payload), at=row.at)
            for row in rows
        ]

    # -- tokens ---------------------------------------------------------------------------------------------

    def add_token(self, token: TokenRecord) -> TokenRecord:
        """Store a new token; ConflictError if its name is taken."""
        with self._write() as conn:
            name = api_tokens.add(conn, token, self.url)
        return self.get_token(name)

    def get_token(self, name: str) -> TokenRecord:
        """The token called ``name`` (revoked or not); NotFoundError if there is none."""
        with self._read() as conn:
            found = api_tokens.named(conn, name)
        if found is None:
            raise NotFoundError(f"no token called {name!r} in {self.url}; kiln token list shows them")
        return found

    def list_tokens(self) -> list[TokenRecord]:
        """All tokens, oldest first."""
        with self._read() as conn:
            return api_tokens.every(conn)

    def token_by_hash(self, secret_hash: str) -> TokenRecord | None:
        """The live (not revoked) token with this secret hash, or None."""
        with self._read() as conn:
            return api_tokens.live_by_hash(conn, secret_hash)

    def revoke_token(self, name: str) -> TokenRecord:
        """Revoke the token called ``name`` (it stops working at once); NotFoundError if there is none."""
        with self._write() as conn:
            api_tokens.revoke(conn, name)
        return self.get_token(name)  # NotFoundError if there is none; revoking twice changes nothing

    # -- run leases -----------------------------------------------------------------------------------------

    def acquire_lease(
        self, campaign: str, owner: str, *, host: str, pid: int, expiry: float, replace: str = ""
    ) -> LeaseRecord:
        """Take the run lease if it is free, expired, ``owner``'s or ``replace``'s; else LeaseHeldError."""
        wanted = run_leases.Wanted.checked(owner, host, pid, expiry)
        with self._write() as conn:  # writers are serialised, so check-then-write cannot race
            return run_leases.take(conn, campaign, self._campaign_id(conn, campaign), wanted, replace)

    def renew_lease(self, campaign: str, owner: str, *, expiry: float) -> LeaseRecord:
        """Extend ``owner``'s lease to ``expiry`` seconds from now; StateError if ``owner`` does not hold it."""
        owner, seconds = run_leases.lease_owner(owner), run_leases.lease_expiry(expiry)
        with self._write() as conn:
            return run_leases.renew(conn, campaign, self._campaign_id(conn, campaign), owner, seconds)

    def release_lease(self, campaign: str, owner: str) -> bool:
        """Give ``owner``'s lease up; False if ``owner`` does not hold it."""
        owner = run_leases.lease_owner(owner)
        with self._write() as conn:
            return run_leases.release(conn, self._campaign_id(conn, campaign), owner)

    def get_lease(self, campaign: str) -> LeaseRecord | None:
        """The campaign's lease (expired or not), or None."""
        with self._read() as conn:
            return run_leases.held(conn, campaign, self._campaign_id(conn, campaign))

    def close(self) -> None:
        """Release connections. The store must not be used afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()


__all__ = ["BUSY_TIMEOUT_S", "SqlStore"]
