"""A spec's pool file, read on the client and sent inline: ``pool: {csv: FILE}`` -> ``space: {kind: pool, ...}``.

The server never reads a file named by a client, so ``kiln.client.Client.create`` reads the CSV here, with the
standard library only (the client must stay light), and types each column as pandas would when ``kiln run``
reads the same file: whole numbers if every cell is one, else numbers if every cell is one, else text. So a
campaign created through the server has the configuration a local ``kiln run`` of the same spec would make.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.core.errors import ValidationError

POOL_FIELDS = frozenset({"csv", "inputs", "allow_repeats", "units"})


def inline_pool(spec: Mapping[str, Any], folder: str | os.PathLike[str] = ".") -> dict[str, Any]:
    """``spec`` with a ``pool: {csv: FILE, inputs, allow_repeats, units}`` replaced by the table itself; other
    specs come back as they are. Raises ValidationError naming the file, row or column at fault."""
    document = dict(spec)
    pool = document.get("pool")
    if not isinstance(pool, Mapping) or "csv" not in pool:
        return document
    extra = sorted(str(k) for k in set(pool) - POOL_FIELDS)
    if extra:
        raise ValidationError("pool", extra, f"a pool file takes the fields {sorted(POOL_FIELDS)}", "remove the others")
    path = Path(folder) / str(pool["csv"])
    header, records = _read(path)
    inputs = pool.get("inputs", header)
    if not isinstance(inputs, Sequence) or isinstance(inputs, str) or not inputs:
        raise ValidationError("pool.inputs", inputs, "a non-empty list of column names is required", "list them")
    missing = [c for c in inputs if c not in header]
    if missing:
        raise ValidationError("pool.inputs", missing, f"columns of {path.name} are {header}", "fix the names")
    where = [header.index(c) for c in inputs]
    columns = [_typed([r[j] for r in records], header[j], path.name) for j in where]
    inline: dict[str, Any] = {
        "kind": "pool",
        "columns": list(inputs),
        "rows": [list(r) for r in zip(*columns, strict=True)],
    }
    for key in ("allow_repeats", "units"):
        if key in pool:
            inline[key] = pool[key]
    del document["pool"]
    document["space"] = inline
    return document


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and data rows of a CSV file (blank lines skipped)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            lines = [row for row in csv.reader(file) if row]
    except FileNotFoundError:
        raise ValidationError(
            "pool.csv", str(path), "the file does not exist", "give a path relative to the spec"
        ) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValidationError("pool.csv", str(path), f"a CSV table is required ({error})", "export it as CSV") from None
    if len(lines) < 2:
        raise ValidationError("pool.csv", str(path), "a header row and at least one candidate", "fill the table")
    header = [h.strip() for h in lines[0]]
    for number, row in enumerate(lines[1:], start=1):
        if len(row) != len(header):
            raise ValidationError(
                f"pool.csv: row {number}", row, f"{len(header)} cells, as the header has", "fix the row"
            )
    return header, lines[1:]


def _typed(cells: list[str], column: str, file: str) -> list[Any]:
    """A column's cells as ints, else floats, else text (as pandas reads them)."""
    empty = [i + 1 for i, c in enumerate(cells) if not c.strip()]
    if empty:
        raise ValidationError(
            f"pool.csv: {file} column {column!r}", f"rows {empty[:5]}", "every candidate has a value", "fill them"
        )
    for kind in (int, float):
        try:
            values = [kind(c) for c in cells]
        except ValueError:
            continue
        if all(math.isfinite(v) for v in values):
            return values
    return list(cells)
