"""Corrections in the SQL store: the values that an amendment, a retraction or a discard writes, and the
``revisions`` table that keeps every earlier version of an experiment's outcome."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select

from kiln.core.errors import ValidationError
from kiln.core.records import Change, Experiment, ExperimentStatus, Revision, utc_now
from kiln.store.schema import experiments as experiment_table
from kiln.store.schema import results_map, row_to_revision
from kiln.store.schema import revisions as revision_table
from kiln.store.sql_checks import bounded_text

REASON_MAX = 10_000
"""Characters in a failure reason or a correction's note."""


def amended_values(results: Mapping[str, float] | None, failure: str | None) -> dict[str, Any]:
    """The columns an amendment writes: new ``results`` (completed) or a ``failure`` reason (failed); exactly one
    of them is given."""
    if (results is None) == (failure is None):
        raise ValidationError(
            "results/failure", None, "exactly one of a new result and a failure reason", "give one of them"
        )
    if results is not None:
        return {"status": ExperimentStatus.COMPLETED.value, "results": results_map(results, "results"), "reason": ""}
    reason = bounded_text(failure, "failure", REASON_MAX)
    if not reason.strip():
        raise ValidationError("failure", failure, "a non-empty reason", "say why it counts as failed")
    return {"status": ExperimentStatus.FAILED.value, "results": {}, "reason": reason}


def discarded_values(note: str) -> dict[str, Any]:
    """The columns a discard writes: ``note`` (why) becomes the reason."""
    reason = bounded_text(note, "reason", REASON_MAX)
    return {"status": ExperimentStatus.DISCARDED.value, "reason": reason, "finished_at": utc_now()}


def latest_number(conn: Connection, experiment_id: str) -> int | None:
    """The number of the experiment's latest stored revision; None when it was never corrected."""
    number = conn.execute(
        select(func.max(revision_table.c.number)).where(revision_table.c.experiment_id == experiment_id)
    ).scalar_one_or_none()
    return None if number is None else int(number)


def add_revision(
    conn: Connection,
    campaign_id: int,
    row: Row[Any],
    number: int,
    change: Change,
    note: str,
    actor: str,
    at: datetime,
) -> None:
    """Store the outcome of experiment ``row`` as its revision ``number``."""
    conn.execute(
        insert(revision_table).values(
            campaign_id=campaign_id,
            experiment_id=row.id,
            number=number,
            change=change.value,
            status=row.status,
            results=dict(row.results),
            reason=row.reason,
            retracted=bool(row.retracted),
            note=note,
            actor=actor,
            at=at,
        )
    )


def stored_history(conn: Connection, experiment: Experiment) -> list[Revision]:
    """Every version of ``experiment``'s outcome, oldest first; an experiment never corrected has one, as
    recorded."""
    rows = conn.execute(
        select(revision_table).where(revision_table.c.experiment_id == experiment.id).order_by(revision_table.c.number)
    ).all()
    if rows:
        return [row_to_revision(r) for r in rows]
    return [
        Revision(
            experiment=experiment.id,
            number=0,
            change=Change.RECORDED,
            status=experiment.status,
            results=dict(experiment.results),
            reason=experiment.reason,
            retracted=experiment.retracted,
            note="",
            actor="",
            at=experiment.finished_at or experiment.created_at,
        )
    ]


def campaign_revisions(conn: Connection, campaign_id: int) -> list[Revision]:
    """The stored versions of every corrected experiment of a campaign, by experiment seq then number."""
    rows = conn.execute(
        select(revision_table)
        .join(experiment_table, experiment_table.c.id == revision_table.c.experiment_id)
        .where(revision_table.c.campaign_id == campaign_id)
        .order_by(experiment_table.c.seq, revision_table.c.number)
    ).all()
    return [row_to_revision(r) for r in rows]
