"""CSV and JSON text of an export (``kiln.campaign.table.ExportTable``) with the standard library only.

The text is the same as ``frame_to_csv`` / ``frame_to_records`` write for ``Campaign.to_dataframe()``, without
importing pandas (which costs about 0.4 s of start-up): each column is typed as pandas types a column built from
the same rows (``column_kind``), so that a whole-number column with an empty cell reads ``1.0`` as it does from
the DataFrame, and cells are written as pandas writes them. ``tests/campaign/test_export_text.py`` compares both.
"""

from __future__ import annotations

import csv
import io
import math
import os
from typing import Any, Literal

from kiln.campaign.spreadsheet import neutralise
from kiln.campaign.table import ExportTable
from kiln.core.json_values import blank, value_to_text

Kind = Literal["int", "float", "bool", "object"]
"""How pandas stores a column built from Python values: int64 (or uint64), float64, bool, or anything else."""

INT_RANGE = (-(2**63), 2**64)
"""Whole numbers that a numeric column holds (int64 or uint64); others make the column one of objects."""


def table_to_csv(table: ExportTable) -> str:
    """CSV text of an export: output cells that are not numbers or plain text are written as JSON text; text that
    a spreadsheet would run as a formula gets a quote in front (``kiln.campaign.spreadsheet``). One header line,
    then one line per record, lines ending in ``os.linesep``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=os.linesep, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.columns)
    outputs = set(table.outputs)
    cells: list[list[str]] = [[] for _ in table.records]
    for column in table.columns:
        values = typed(table.records, column)
        if column in outputs:
            values = typed_values([None if blank(v) else value_to_text(v) for v in values])
        for row, value in zip(cells, values, strict=True):
            row.append(_csv_cell(value))
    writer.writerows(cells)
    return buffer.getvalue()


def table_to_records(table: ExportTable) -> list[dict[str, Any]]:
    """JSON records of an export: empty cells become null, outputs keep their JSON values."""
    columns = {column: typed(table.records, column) for column in table.columns}
    return [
        {column: None if _empty(values[number]) else values[number] for column, values in columns.items()}
        for number in range(len(table.records))
    ]


def typed(records: list[dict[str, Any]], column: str) -> list[Any]:
    """The cells of ``column`` as the DataFrame of ``records`` holds them (a missing key is NaN)."""
    return typed_values([record.get(column, math.nan) for record in records])


def typed_values(values: list[Any]) -> list[Any]:
    """``values`` as one pandas column holds them: in a float column every number is a float and every empty
    cell NaN; in other columns the values are as they are."""
    if column_kind(values) == "float":
        return [math.nan if _empty(v) else float(v) for v in values]
    return values


def column_kind(values: list[Any]) -> Kind:
    """The kind of column pandas makes of ``values``: all true/false -> bool; whole numbers only -> int; numbers
    and empty cells (None, NaN) with at least one float or empty cell -> float; anything else -> object (text,
    true/false mixed with numbers or empty cells, only None)."""
    if values and all(isinstance(v, bool) for v in values):
        return "bool"
    if any(isinstance(v, bool) or not (_empty(v) or isinstance(v, int | float)) for v in values):
        return "object"
    if any(isinstance(v, int) and not INT_RANGE[0] <= v < INT_RANGE[1] for v in values):
        return "object"
    if values and all(isinstance(v, int) for v in values):
        return "int"
    if values and all(v is None for v in values):
        return "object"
    return "float"


def _csv_cell(value: Any) -> str:
    """One cell as pandas writes it: empty for None or NaN, ``repr`` for floats, text neutralised."""
    if _empty(value):
        return ""
    if isinstance(value, str):
        return str(neutralise(value))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _empty(value: Any) -> bool:
    """A cell pandas counts as missing: None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))
