"""Experiments as tables: export to a DataFrame or CSV text, and the rows of an import (DataFrame, CSV or records).

An export has one row per experiment and a column for everything stored: id, seq, status, origin, the
parameters, the measured quantities (targets, then constrained quantities; a partly measured experiment has
empty cells for those still missing), ``pareto`` when the campaign has a Pareto front (true for the experiments
on it), then reason, note, strategy, batch, candidate, instrument, handle, attention and the
times (created_at, dispatched_at, finished_at, ISO 8601 UTC), amended (corrections so far) and retracted, then
one column per output key (an output whose name is taken by another column is written as ``output:NAME``). In
CSV text, outputs that are true/false, null, lists or objects are JSON text, so that an import reads them back
as they were.
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from kiln.campaign.spreadsheet import neutralise_frame, restore_frame
from kiln.core.errors import ValidationError
from kiln.core.json_values import blank, value_from_text, value_to_text
from kiln.core.records import Experiment, Revision

if TYPE_CHECKING:
    import pandas as pd

EXPORT_COLUMNS_BEFORE = ["id", "seq", "status", "origin"]
EXPORT_COLUMNS_AFTER = [
    "reason",
    "note",
    "strategy",
    "batch",
    "candidate",
    "instrument",
    "handle",
    "attention",
    "created_at",
    "dispatched_at",
    "finished_at",
    "amended",
    "retracted",
]
HISTORY_COLUMNS = ["version", "current", "change", "change_reason", "actor", "changed_at"]
"""Columns an export with its history adds: which version a row is, and how, why, by whom and when it came."""
FRONT_COLUMN = "pareto"
"""Column of an export of several targets: whether the experiment is on the Pareto front (an import ignores it)."""
OUTPUT_PREFIX = "output:"
"""Column prefix of an output whose name is taken by a parameter, target or bookkeeping column."""


@dataclass(frozen=True)
class ExportTable:
    """An export as plain rows: ``columns`` in order, one dict per row (``records``; keys among ``columns``, a
    missing key is an empty cell) and the names of the output columns (``outputs``, a tail of ``columns``)."""

    columns: list[str]
    records: list[dict[str, Any]]
    outputs: list[str]


def experiments_to_table(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    revisions: Sequence[Revision] | None = None,
    *,
    front: Collection[str] | None = None,
) -> ExportTable:
    """One row per experiment (columns: see the module docstring); ``targets`` are the measured quantities'
    names. Output cells hold the stored JSON values.

    With ``revisions`` (``Store.revisions``), every earlier version of a corrected experiment comes as a row of
    its own before the current one, and ``HISTORY_COLUMNS`` say which version each row is. With ``front`` (the
    ids of the experiments on the Pareto front), a ``pareto`` column says for each current row whether it is
    on the front (earlier versions: false).
    """
    if FRONT_COLUMN in {*params, *targets}:
        front = None  # a parameter or quantity of that name keeps its column
    marked = [FRONT_COLUMN] if front is not None else []
    on_front = set(front or ())
    taken = {*EXPORT_COLUMNS_BEFORE, *params, *targets, *marked, *EXPORT_COLUMNS_AFTER, *HISTORY_COLUMNS}
    output_keys = list(dict.fromkeys(key for e in experiments for key in e.outputs))
    output_columns = {key: OUTPUT_PREFIX + key if key in taken else key for key in output_keys}
    by_experiment: dict[str, list[Revision]] = {}
    for revision in revisions or ():
        by_experiment.setdefault(revision.experiment, []).append(revision)
    records = []
    for e in experiments:
        versions = by_experiment.get(e.id, [])
        if revisions is not None:
            for old in versions[:-1]:
                row = _record(e, params, targets, output_columns)
                row.update({"status": old.status.value, "reason": old.reason, "retracted": old.retracted})
                row.update({t: old.results.get(t, math.nan) for t in targets})
                row.update(_version(old, current=False))
                if front is not None:
                    row[FRONT_COLUMN] = False
                records.append(row)
        record = _record(e, params, targets, output_columns)
        if front is not None:
            record[FRONT_COLUMN] = e.id in on_front
        if revisions is not None:
            record.update(_version(versions[-1], current=True) if versions else _original(e))
        records.append(record)
    columns = [*EXPORT_COLUMNS_BEFORE, *params, *targets, *marked, *EXPORT_COLUMNS_AFTER]
    if revisions is not None:
        columns += HISTORY_COLUMNS
    columns += output_columns.values()
    return ExportTable(columns, records, list(output_columns.values()))


def experiments_to_frame(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    revisions: Sequence[Revision] | None = None,
    *,
    front: Collection[str] | None = None,
) -> pd.DataFrame:
    """``experiments_to_table`` as a DataFrame; ``frame.attrs["outputs"]`` names the output columns."""
    import pandas as pd

    table = experiments_to_table(experiments, params, targets, revisions, front=front)
    frame = pd.DataFrame.from_records(table.records, columns=table.columns)
    frame.attrs["outputs"] = table.outputs
    return frame


def _version(revision: Revision, *, current: bool) -> dict[str, Any]:
    return {
        "version": revision.number,
        "current": current,
        "change": revision.change.value,
        "change_reason": revision.note,
        "actor": revision.actor,
        "changed_at": revision.at.isoformat(),
    }


def _original(e: Experiment) -> dict[str, Any]:
    at = e.finished_at or e.created_at
    return {
        "version": 0,
        "current": True,
        "change": "recorded",
        "change_reason": "",
        "actor": "",
        "changed_at": at.isoformat(),
    }


def _record(
    e: Experiment, params: Sequence[str], targets: Sequence[str], output_columns: Mapping[str, str]
) -> dict[str, Any]:
    """The export row of an experiment's current version."""
    record: dict[str, Any] = {"id": e.id, "seq": e.seq, "status": e.status.value, "origin": e.origin.value}
    record.update({p: e.params.get(p) for p in params})
    record.update({t: e.results.get(t, math.nan) for t in targets})
    record.update(
        {
            "reason": e.reason,
            "note": e.note,
            "strategy": e.strategy,
            "batch": e.batch,
            "candidate": e.candidate,
            "instrument": e.instrument,
            "handle": e.handle,
            "attention": e.attention,
            "created_at": _iso(e.created_at),
            "dispatched_at": _iso(e.dispatched_at),
            "finished_at": _iso(e.finished_at),
            "amended": e.amended,
            "retracted": e.retracted,
        }
    )
    record.update({output_columns[key]: value for key, value in e.outputs.items()})
    return record


def frame_to_csv(frame: pd.DataFrame) -> str:
    """CSV text of an export DataFrame: output cells that are not numbers or plain text are written as JSON text;
    text that a spreadsheet would run as a formula gets a quote in front (``kiln.campaign.spreadsheet``).
    ``kiln export`` and the server write the same text from ``Campaign.to_table`` without pandas
    (``kiln.campaign.export_text``); a test keeps the two equal."""
    outputs = [c for c in frame.attrs.get("outputs", []) if c in frame.columns]
    if outputs:
        frame = frame.copy()
        for column in outputs:
            frame[column] = [None if blank(v) else value_to_text(v) for v in frame[column]]
    text: str = neutralise_frame(frame).to_csv(index=False)  # no cell a spreadsheet would run as a formula
    return text


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON records of an export: empty cells become null, outputs keep their JSON values."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return [{str(k): v for k, v in row.items()} for row in records]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def rows_to_import(
    data: pd.DataFrame | str | os.PathLike[str] | IO[Any] | Sequence[Mapping[str, Any]],
    params: Sequence[str],
    targets: Sequence[str],
    *,
    text: Sequence[str] = (),
    units: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Rows of an import as ``{"number", "id", "params", "results", "written", "outputs", "note"}``; ``data`` is
    a table, a CSV path, an open CSV file (text or bytes) or row dicts.

    ``params`` holds the parameter columns the table has, ``results`` the target cells (CSV cells that are
    numbers as numbers; the columns named in ``text`` stay text, so '01' stays '01'), ``written`` the CSV text of
    those cells (so that the precision they were written with is known), ``outputs`` every other column's
    non-empty cells (CSV text read as JSON where it is JSON: numbers, true/false, lists, objects), ``note`` the
    note cell.
    Bookkeeping columns of an export are ignored but ``retracted`` (kept: ``"retracted"`` in the row); rows of
    pending, failed or discarded experiments that carry no result and no id are skipped, and so are earlier
    versions (``current`` false) of an export with its history. Parameter columns may be left out when every
    row has an id (results of pending suggestions). A header with the unit, as the tables show it
    (``temperature [°C]`` for the parameter ``temperature`` in °C, ``units``), names that parameter or target.
    Raises ValidationError for a missing target or parameter column, or an unreadable file.
    """
    frame, from_text = _frame(data)
    labelled = {f"{name} [{unit}]": name for name, unit in (units or {}).items() if unit}
    columns = [str(c) for c in frame.columns]
    columns = [labelled.get(c, c) if labelled.get(c) not in columns else c for c in columns]
    frame.columns = columns
    missing_targets = [t for t in targets if t not in columns]
    missing_params = [p for p in params if p not in columns]
    ids = frame["id"] if "id" in columns else None
    every_row_has_id = ids is not None and all(isinstance(i, str) and i.strip() for i in ids)
    bookkeeping = {*EXPORT_COLUMNS_BEFORE, FRONT_COLUMN, *EXPORT_COLUMNS_AFTER, *HISTORY_COLUMNS}
    others = [c for c in columns if c not in {*params, *targets, *bookkeeping}]
    if len(missing_targets) == len(targets) or (missing_params and not every_row_has_id):
        raise ValidationError(
            "columns",
            columns,
            f"the table needs the columns {params} and at least one of the measured quantities {list(targets)} "
            f"(parameters may be left out when every row has the id of a suggestion) and may have 'id' "
            f"(missing {[*missing_params, *missing_targets]}; other columns {others} are kept as outputs)",
            "rename or add the columns named",
        )
    _check_no_misspelt_quantity(missing_targets, others)
    present = [p for p in params if p in columns]
    measured = [t for t in targets if t in columns]  # a quantity without a column is not measured in any row
    output_columns = [c for c in columns if c not in {*params, *targets, *bookkeeping}]
    rows = []
    for number, record in enumerate(frame.to_dict(orient="records"), start=1):
        if _false(record.get("current")):
            continue  # an earlier version from an export with its history: the current row follows
        identifier = record.get("id")
        identifier = identifier.strip() if isinstance(identifier, str) and identifier.strip() else None
        status = record.get("status")
        no_result = all(blank(record[t]) for t in measured)
        if (
            no_result
            and identifier is None
            and isinstance(status, str)
            and status.strip() in ("pending", "failed", "discarded")
        ):
            continue
        note = record.get("note")
        cells = [*present, *measured]
        rows.append(
            {
                "number": number,
                "id": identifier,
                "params": {p: _cell(record[p], from_text and p not in text) for p in present},
                "results": {t: _cell(record[t], from_text) for t in measured},
                "written": {c: record[c] for c in cells if from_text and isinstance(record[c], str)},
                "outputs": {
                    c.removeprefix(OUTPUT_PREFIX): _output(record[c], from_text)
                    for c in output_columns
                    if not blank(record[c])
                },
                "note": None if blank(note) else str(note),
                "retracted": _true(record.get("retracted")),
            }
        )
    return rows


def _check_no_misspelt_quantity(missing: Sequence[str], others: Sequence[str]) -> None:
    """ValidationError when a column that would be kept as an output looks like a quantity without a column
    (``yeild`` for ``yield``): its values would otherwise be stored as outputs, not results."""
    import difflib

    for name in missing:
        close = difflib.get_close_matches(name, others, n=1, cutoff=0.7)
        if close:
            raise ValidationError(
                f"column {close[0]!r}",
                close[0],
                f"the measured quantity {name!r} has no column, and {close[0]!r} is not a quantity",
                f"rename the column to {name!r}, or rename it further from {name!r} to keep it as an output",
            )


def _frame(data: Any) -> tuple[pd.DataFrame, bool]:
    """The table of an import, and whether its cells are text read from CSV."""
    import pandas as pd

    if isinstance(data, str | os.PathLike) or hasattr(data, "read"):
        field, shown = ("file", str(data)) if isinstance(data, str | os.PathLike) else ("csv", "the table sent")
        try:
            return restore_frame(pd.read_csv(data, dtype=str)), True
        except FileNotFoundError:
            raise ValidationError(field, shown, "the file does not exist", "check the path") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as error:
            raise ValidationError(field, shown, f"a CSV table is required ({error})", "export it as CSV") from None
    if isinstance(data, pd.DataFrame):
        return data.copy(), False
    return pd.DataFrame.from_records(list(data)), False


def _cell(value: Any, numeric_text: bool) -> Any:
    """A parameter or target cell: CSV text that is a number becomes the number (``"2"`` -> 2, ``"93.50"`` ->
    93.5); other text and other values stay as they are."""
    if numeric_text and isinstance(value, str):
        stripped = value.strip()
        try:
            return int(stripped)
        except ValueError:
            pass
        try:
            return float(stripped)
        except ValueError:
            return value
    return _plain(value)


def _output(value: Any, from_text: bool) -> Any:
    """One output cell as a JSON value: CSV text is read as JSON where it is JSON."""
    if from_text and isinstance(value, str):
        return value_from_text(value)
    return _plain(value)


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


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, list | dict) else value
