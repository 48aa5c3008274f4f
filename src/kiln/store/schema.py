"""Tables of the SQL store, and the checks a value passes before it goes into them.

The Alembic migrations in ``kiln.store.migrations.versions`` create exactly these tables (a test compares
them). Timestamps are timezone-aware UTC on every backend (see ``UtcDateTime``). JSON columns hold plain,
finite JSON values only, so that SQLite and PostgreSQL store the same thing.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

from kiln.core.errors import ValidationError
from kiln.core.records import CampaignRecord, Change, Experiment, ExperimentStatus, Origin, Revision

NAME_MAX = 200  # campaign names
ID_MAX = 64  # experiment ids and strategy kinds
KIND_MAX = 64  # event kinds
STATUS_MAX = 16  # experiment status and origin
NOTE_MAX = 10_000  # a note recorded with a result

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always hands back aware UTC datetimes.

    Values written must be timezone-aware (the store checks this first); they are stored in UTC. SQLite
    drops the zone, so a naive value read back is UTC and gets it re-attached.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC before storing."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if not isinstance(value, datetime):  # defensive: some drivers hand back strings
            value = datetime.fromisoformat(str(value))
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("config", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("name"),
    sqlite_autoincrement=True,
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", String(ID_MAX), primary_key=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("params", JSON, nullable=False),
    Column("status", String(STATUS_MAX), nullable=False),
    Column("origin", String(STATUS_MAX), nullable=False),
    Column("results", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("strategy", String(ID_MAX), nullable=False),
    Column("batch", Integer, nullable=False),
    Column("candidate", Integer, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("instrument", String(NAME_MAX), nullable=False, server_default=""),
    Column("handle", Text, nullable=False, server_default=""),
    Column("dispatched_at", UtcDateTime, nullable=True),
    Column("attention", Text, nullable=False, server_default=""),
    Column("outputs", JSON, nullable=True),
    Column("amended", Integer, nullable=False, server_default="0"),
    Column("retracted", Boolean, nullable=False, server_default=false()),
    Column("note", Text, nullable=False, server_default=""),
    UniqueConstraint("campaign_id", "seq"),
    Index("ix_experiments_campaign_id_status", "campaign_id", "status"),
)

events = Table(
    "events",
    metadata,
    Column("cursor", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(KIND_MAX), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_events_campaign_id_cursor", "campaign_id", "cursor"),
    sqlite_autoincrement=True,  # cursors are never reused, even after a campaign is deleted
)

revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    Column("experiment_id", String(ID_MAX), ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("change", String(KIND_MAX), nullable=False),
    Column("status", String(STATUS_MAX), nullable=False),
    Column("results", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    Column("retracted", Boolean, nullable=False),
    Column("note", Text, nullable=False),
    Column("actor", String(NAME_MAX), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("experiment_id", "number"),
    Index("ix_revisions_campaign_id", "campaign_id"),
)
"""Every version of a corrected experiment's outcome: version 0 (as first recorded) is written with the first
correction, then one row per correction; the experiments row always holds the newest."""

leases = Table(
    "leases",
    metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("owner", String(ID_MAX), nullable=False),
    Column("host", String(NAME_MAX), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
"""The run lease of a campaign (at most one row each): who drives it now, renewed by the holder's heartbeat."""


tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(NAME_MAX), nullable=False),
    Column("scope", String(STATUS_MAX), nullable=False),
    Column("campaigns", JSON, nullable=True),
    Column("secret_hash", String(ID_MAX), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    UniqueConstraint("name"),
    UniqueConstraint("secret_hash"),
)


# -- value checks (run before a transaction starts, so a bad value changes nothing) --------------------------

_NAME_PUNCTUATION = "-_."
_JSON_ALLOWED = "expected JSON values: str, int, finite float, bool, None, lists, and dicts with str keys"


def check_campaign_name(name: Any) -> str:
    """A valid campaign name: 1-200 letters (of any script: ``str.isalnum``), digits, '-', '_' and '.',
    starting with a letter or digit; no spaces, slashes or control characters, so that it is one word on a
    command line and one segment of a URL path (e.g. 'p3ht-conductivity', 'Überprüfung-α', '薄膜.2024')."""
    if (
        not isinstance(name, str)
        or not name
        or len(name) > NAME_MAX
        or not name[0].isalnum()
        or not all(c.isalnum() or c in _NAME_PUNCTUATION for c in name)
    ):
        decomposed = isinstance(name, str) and unicodedata.normalize("NFC", name) != name
        raise ValidationError(
            "name",
            name,
            f"a campaign name is 1-{NAME_MAX} characters of letters (of any script), digits, '-', '_' and '.', "
            "starting with a letter or digit (no spaces, slashes or other signs)",
            "write accented letters as single characters (Unicode NFC)"
            if decomposed
            else "choose a name such as 'p3ht-conductivity', 'run_2024.1' or 'Überprüfung-α'",
        )
    return name


JSON_DEPTH_MAX = 32
"""Deepest nesting of lists and dicts in a stored JSON value (deeper values break readers: refused)."""
JSON_SIZE_MAX = 1024 * 1024
"""Largest stored JSON value (params, outputs) in characters of its JSON text."""
CONFIG_SIZE_MAX = 64 * 1024 * 1024
"""Largest stored campaign configuration (a candidate pool is kept in it) in characters of its JSON text."""


def check_text(value: str, field: str) -> str:
    """``value`` if it can be stored on every backend: no NUL character (PostgreSQL refuses them)."""
    if "\x00" in value:
        raise ValidationError(
            field,
            value[:200],
            "text may not contain NUL characters (\\x00)",
            "remove the NUL characters (they are often left by binary data or a C string)",
        )
    return value


def json_value(value: Any, field: str, depth: int = 0) -> Any:
    """A deep plain-JSON copy of ``value`` (numpy scalars become Python numbers), else ValidationError: for
    other types, non-finite numbers, text with NUL characters, or nesting deeper than ``JSON_DEPTH_MAX``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return check_text(value, field)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(field, value, _JSON_ALLOWED, "use fail() for a measurement that gave no number")
        return float(value)
    if isinstance(value, Mapping | list | tuple) and depth >= JSON_DEPTH_MAX:
        raise ValidationError(
            field,
            f"a value nested deeper than {JSON_DEPTH_MAX} levels",
            f"at most {JSON_DEPTH_MAX} levels of lists and dicts",
            "flatten the value (e.g. keys such as 'a.b.c')",
        )
    if isinstance(value, Mapping):
        copy: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{field} key", key, _JSON_ALLOWED, "use str keys")
            copy[check_text(key, f"{field} key")] = json_value(item, f"{field}.{key}", depth + 1)
        return copy
    if isinstance(value, list | tuple):
        return [json_value(item, f"{field}[{i}]", depth + 1) for i, item in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and getattr(value, "shape", None) == ():
        return json_value(item(), field, depth)
    raise ValidationError(field, value, _JSON_ALLOWED, "convert it to a plain Python value first")


def json_object(value: Any, field: str, most: int = JSON_SIZE_MAX) -> dict[str, Any]:
    """A deep plain-JSON copy of a mapping (see ``json_value``) of at most ``most`` characters as JSON text."""
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, "expected a mapping (dict) of JSON values")
    result: dict[str, Any] = json_value(value, field)
    size = len(json.dumps(result, separators=(",", ":")))
    if size > most:
        raise ValidationError(
            field, f"{size} characters of JSON", f"at most {most} characters", "store large data elsewhere"
        )
    return result


def results_map(value: Any, field: str) -> dict[str, float]:
    """Results as target name -> finite float."""
    if not isinstance(value, Mapping):
        raise ValidationError(field, value, "expected a mapping of target name -> number")
    results: dict[str, float] = {}
    for key, number in value.items():
        if not isinstance(key, str):
            raise ValidationError(f"{field} key", key, "target names are strings")
        try:
            results[key] = float(number)
        except (TypeError, ValueError):
            raise ValidationError(f"{field}.{key}", number, "expected a number") from None
        if isinstance(number, bool) or not math.isfinite(results[key]):
            raise ValidationError(
                f"{field}.{key}",
                number,
                "expected a finite number",
                "use fail() when a measurement gave none",
            )
    return results


def aware_utc(value: Any, field: str) -> datetime:
    """A timezone-aware datetime converted to UTC; naive datetimes are refused, not guessed."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValidationError(
            field, value, "expected a timezone-aware datetime", "use datetime.now(UTC) or attach a tzinfo"
        )
    return value.astimezone(UTC)


def note_text(value: Any, field: str = "note") -> str:
    """A note to store with a result: text of at most NOTE_MAX characters, without NUL characters."""
    if not isinstance(value, str) or len(value) > NOTE_MAX or "\x00" in value:
        raise ValidationError(
            field,
            value if not isinstance(value, str) else value[:200],
            f"a note is text of at most {NOTE_MAX} characters without NUL characters",
            "shorten the note or remove the control characters",
        )
    return value


def _bounded_str(value: Any, field: str, most: int) -> str:
    if not isinstance(value, str) or len(value) > most:
        raise ValidationError(field, value, f"expected a string of at most {most} characters")
    return check_text(value, field)


def _optional_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        item = getattr(value, "item", None)  # numpy integer
        if not callable(item) or not isinstance(item(), int) or isinstance(item(), bool):
            raise ValidationError(field, value, "expected a whole number")
        value = item()
    return int(value)


def check_experiment(experiment: Any, index: int) -> dict[str, Any]:
    """The row to insert for ``experiment`` (without campaign_id and seq); ValidationError if malformed."""
    where = f"experiments[{index}]"
    if not isinstance(experiment, Experiment):
        raise ValidationError(where, experiment, "expected a kiln.core.records.Experiment")
    exp_id = _bounded_str(experiment.id, f"{where}.id", ID_MAX)
    if not exp_id:
        raise ValidationError(f"{where}.id", exp_id, "an experiment id is not empty", "use kiln.core.ids.new_id()")
    try:
        status = ExperimentStatus(experiment.status)
        origin = Origin(experiment.origin)
    except ValueError as exc:
        raise ValidationError(f"{where}.status/origin", str(exc), "expected ExperimentStatus and Origin") from exc
    results = results_map(experiment.results, f"{where}.results")
    reason = experiment.reason
    if not isinstance(reason, str):
        raise ValidationError(f"{where}.reason", reason, "expected a string")
    check_text(reason, f"{where}.reason")
    created_at = aware_utc(experiment.created_at, f"{where}.created_at")
    finished_at = None if experiment.finished_at is None else aware_utc(experiment.finished_at, f"{where}.finished_at")
    if status is ExperimentStatus.PENDING and (reason or finished_at is not None):
        raise ValidationError(
            where,
            exp_id,
            "a pending experiment has no reason or finished_at (it may hold the results measured so far)",
            "leave them empty",
        )
    if status is not ExperimentStatus.PENDING and finished_at is None:
        finished_at = created_at  # imported data: when it finished is unknown, it was not later than now
    batch = _optional_int(experiment.batch, f"{where}.batch")
    outputs = json_object(experiment.outputs, f"{where}.outputs") if experiment.outputs else None
    return {
        "id": exp_id,
        "params": json_object(experiment.params, f"{where}.params"),
        "status": status.value,
        "origin": origin.value,
        "results": results,
        "reason": reason,
        "strategy": _bounded_str(experiment.strategy, f"{where}.strategy", ID_MAX),
        "batch": 0 if batch is None else batch,
        "candidate": _optional_int(experiment.candidate, f"{where}.candidate"),
        "created_at": created_at,
        "finished_at": finished_at,
        "instrument": "",
        "handle": "",
        "dispatched_at": None,
        "attention": "",
        "outputs": outputs,
        "note": note_text(experiment.note, f"{where}.note"),
        "amended": 0,
        "retracted": bool(experiment.retracted) and status is not ExperimentStatus.PENDING,
    }


def row_to_experiment(row: Row[Any]) -> Experiment:
    """An Experiment record from a row of ``experiments`` (fresh dicts: a snapshot)."""
    m = row._mapping
    return Experiment(
        id=m["id"],
        seq=m["seq"],
        params=dict(m["params"]),
        status=ExperimentStatus(m["status"]),
        origin=Origin(m["origin"]),
        results={str(k): float(v) for k, v in m["results"].items()},
        reason=m["reason"],
        strategy=m["strategy"],
        batch=m["batch"],
        candidate=m["candidate"],
        created_at=m["created_at"],
        finished_at=m["finished_at"],
        instrument=m["instrument"],
        handle=m["handle"],
        dispatched_at=m["dispatched_at"],
        attention=m["attention"],
        outputs=dict(m["outputs"] or {}),
        note=m["note"],
        amended=int(m["amended"]),
        retracted=bool(m["retracted"]),
    )


def row_to_revision(row: Row[Any]) -> Revision:
    """A Revision record from a row of ``revisions``."""
    m = row._mapping
    return Revision(
        experiment=m["experiment_id"],
        number=m["number"],
        change=Change(m["change"]),
        status=ExperimentStatus(m["status"]),
        results={str(k): float(v) for k, v in m["results"].items()},
        reason=m["reason"],
        retracted=bool(m["retracted"]),
        note=m["note"],
        actor=m["actor"],
        at=m["at"],
    )


def row_to_campaign(row: Row[Any]) -> CampaignRecord:
    """A CampaignRecord from a row of ``campaigns``."""
    m = row._mapping
    return CampaignRecord(id=m["id"], name=m["name"], config=dict(m["config"]), created_at=m["created_at"])


__all__ = [
    "ID_MAX",
    "NAME_MAX",
    "NOTE_MAX",
    "UtcDateTime",
    "aware_utc",
    "campaigns",
    "check_campaign_name",
    "check_experiment",
    "check_text",
    "events",
    "experiments",
    "json_object",
    "json_value",
    "metadata",
    "note_text",
    "results_map",
    "revisions",
    "row_to_campaign",
    "row_to_experiment",
    "row_to_revision",
    "tokens",
]
