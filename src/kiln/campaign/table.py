"""Experiments as tables: export to a DataFrame, and the rows of an import (DataFrame, CSV or records)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, Revision

if TYPE_CHECKING:
    import pandas as pd

EXPORT_COLUMNS_BEFORE = ["id", "seq", "status", "origin"]
EXPORT_COLUMNS_AFTER = [
    "reason",
    "strategy",
    "batch",
    "candidate",
    "created_at",
    "finished_at",
    "amended",
    "retracted",
]
HISTORY_COLUMNS = ["version", "current", "change", "note", "actor", "changed_at"]
"""Columns an export with its history adds: which version a row is, and how, why, by whom and when it came."""


def experiments_to_frame(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    revisions: Sequence[Revision] | None = None,
) -> pd.DataFrame:
    """One row per experiment; columns: id, seq, status, origin, parameters, targets, then bookkeeping.

    With ``revisions`` (``Store.revisions``), every earlier version of a corrected experiment comes as a row of
    its own before the current one, and ``HISTORY_COLUMNS`` say which version each row is.
    """
    import pandas as pd

    by_experiment: dict[str, list[Revision]] = {}
    for revision in revisions or ():
        by_experiment.setdefault(revision.experiment, []).append(revision)
    records = []
    for e in experiments:
        versions = by_experiment.get(e.id, [])
        if revisions is not None:
            for old in versions[:-1]:
                row = _record(e, params, targets)
                row.update({"status": old.status.value, "reason": old.reason, "retracted": old.retracted})
                row.update({t: old.results.get(t, math.nan) for t in targets})
                row.update(_version(old, current=False))
                records.append(row)
        record = _record(e, params, targets)
        if revisions is not None:
            record.update(_version(versions[-1], current=True) if versions else _original(e))
        records.append(record)
    columns = [*EXPORT_COLUMNS_BEFORE, *params, *targets, *EXPORT_COLUMNS_AFTER]
    if revisions is not None:
        columns += HISTORY_COLUMNS
    return pd.DataFrame.from_records(records, columns=columns)


def _version(revision: Revision, *, current: bool) -> dict[str, Any]:
    return {
        "version": revision.number,
        "current": current,
        "change": revision.change.value,
        "note": revision.note,
        "actor": revision.actor,
        "changed_at": revision.at.isoformat(),
    }


def _original(e: Experiment) -> dict[str, Any]:
    at = e.finished_at or e.created_at
    return {"version": 0, "current": True, "change": "recorded", "note": "", "actor": "", "changed_at": at.isoformat()}


def _record(e: Experiment, params: Sequence[str], targets: Sequence[str]) -> dict[str, Any]:
    """The export row of an experiment's current version."""
    record: dict[str, Any] = {"id": e.id, "seq": e.seq, "status": e.status.value, "origin": e.origin.value}
    record.update({p: e.params.get(p) for p in params})
    record.update({t: e.results.get(t, math.nan) for t in targets})
    record.update(
        {
            "reason": e.reason,
            "strategy": e.strategy,
            "batch": e.batch,
            "candidate": e.candidate,
            "created_at": e.created_at.isoformat(),
            "finished_at": e.finished_at.isoformat() if e.finished_at else None,
            "amended": e.amended,
            "retracted": e.retracted,
        }
    )
    return record


def rows_to_import(
    data: pd.DataFrame | str | os.PathLike[str] | IO[Any] | Sequence[Mapping[str, Any]],
    params: Sequence[str],
    targets: Sequence[str],
    *,
    text: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Rows of an import as ``{"id": str | None, "params": {...}, "results": {...}}``; ``data`` is a table, a CSV
    path, an open CSV file (text or bytes) or row dicts.

    Exported tables are accepted: bookkeeping columns are ignored, rows of pending, failed or discarded
    experiments that carry no result are skipped (a row with a result is always imported, whatever its status
    column says), earlier versions (``current`` false) are skipped, and ``retracted`` is kept.
    Columns named in ``text`` are read from CSV as text. Raises ValidationError for a missing or unknown column,
    or an unreadable file.
    """
    import pandas as pd

    if isinstance(data, str | os.PathLike) or hasattr(data, "read"):
        field, shown = ("file", str(data)) if isinstance(data, str | os.PathLike) else ("csv", "the table sent")
        try:
            frame = pd.read_csv(data, dtype=dict.fromkeys(text, str))  # type: ignore[arg-type]
        except FileNotFoundError:
            raise ValidationError(field, shown, "the file does not exist", "check the path") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
            raise ValidationError(field, shown, f"a CSV table is required ({error})", "export it as CSV") from None
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = pd.DataFrame.from_records(list(data))
    columns = [str(c) for c in frame.columns]
    missing = [c for c in (*params, *targets) if c not in columns]
    allowed = {*params, *targets, *EXPORT_COLUMNS_BEFORE, *EXPORT_COLUMNS_AFTER, *HISTORY_COLUMNS}
    unknown = [c for c in columns if c not in allowed]
    if missing or unknown:
        raise ValidationError(
            "columns",
            columns,
            f"the table needs the columns {[*params, *targets]} and may have 'id' "
            f"(missing {missing}, unknown {unknown})",
            "rename or remove the columns named",
        )
    rows = []
    for record in frame.to_dict(orient="records"):
        if _false(record.get("current")):
            continue  # an earlier version from an export with its history: the current row follows
        status = record.get("status")
        no_result = all(_missing(record[t]) for t in targets)
        if no_result and isinstance(status, str) and status in ("pending", "failed", "discarded"):
            continue
        identifier = record.get("id")
        rows.append(
            {
                "id": identifier if isinstance(identifier, str) and identifier else None,
                "params": {p: _plain(record[p]) for p in params},
                "results": {t: _plain(record[t]) for t in targets},
                "retracted": _true(record.get("retracted")),
            }
        )
    return rows


def _true(value: Any) -> bool:
    """A cell that says yes: True, or the text 'true' / '1' (an export's ``retracted`` column)."""
    return (
        value is True
        or (hasattr(value, "item") and value.item() is True)
        or str(value).strip().lower() in ("true", "1")
    )


def _false(value: Any) -> bool:
    """A cell that says no (an export's ``current`` column): False, or the text 'false' / '0'."""
    return (
        value is False
        or (hasattr(value, "item") and value.item() is False)
        or str(value).strip().lower() in ("false", "0")
    )


def _missing(value: Any) -> bool:
    """An empty cell: None, NaN or blank text."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
