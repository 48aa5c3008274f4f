"""The simulated-microscope search benchmark's bookkeeping: the run log, the resume rule, the map error, the table.

``benchmarks/microscope_search.py`` runs the searches; this module holds what outlives a run. Every finished run is
one JSON line of a log (``append_run``), so a long benchmark can be stopped and resumed: a run whose settings
(``run_key``) are already in the log is not run again. ``summary_rows`` and ``markdown_table`` turn the log into
the table of medians.

A record is a dict: ``kind``, ``reward``, ``strategy``, ``run`` (the run index, also its seed), ``size`` (pixels a
side), ``stride``, ``budget`` (spectra), ``marks`` (ascending spectra counts), ``shares`` (the share of the pool's
top 1 % pixels measured after each spectrum, ``budget`` values in [0, 1]), ``map`` (one ``{"n", "rmse", "r2"}``
per mark: the error of the predicted reward map after n spectra), ``seconds`` (wall time of the run) and
``version`` (Kiln's).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError

if TYPE_CHECKING:
    import numpy as np

    from kiln.strategies.image_map import ImageMap

KEY_FIELDS = ("kind", "reward", "strategy", "run", "size", "stride", "budget", "marks")
"""The settings that make two records the same run (the version is not one: a resumed log keeps its runs)."""

RunKey = tuple[Any, ...]


def run_key(record: Mapping[str, Any]) -> RunKey:
    """The settings of a run, hashable: the values of KEY_FIELDS (``marks`` as a tuple of ints)."""
    missing = [name for name in KEY_FIELDS if name not in record]
    if missing:
        raise ValidationError(
            "microscope run record", sorted(record), f"a dict with {list(KEY_FIELDS)}", f"add {missing}"
        )
    return tuple(tuple(int(n) for n in record[name]) if name == "marks" else record[name] for name in KEY_FIELDS)


def append_run(path: str | os.PathLike[str], record: Mapping[str, Any]) -> None:
    """Append one finished run to the log at ``path`` (one JSON line; the folder is created), flushed to disk.
    A last line cut short by a stopped process is ended first, so the new record stays a line of its own."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(dict(record), sort_keys=True)
    with target.open("a+b") as handle:
        if handle.tell() > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write(line.encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_runs(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of the log at ``path`` in the order written ([] when there is no file yet). A line cut short (a
    process stopped while writing it) is skipped; any other bad line raises ValidationError naming the line."""
    target = Path(path)
    if not target.exists():
        return []
    records: list[dict[str, Any]] = []
    lines = target.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            run_key(record)
        except (json.JSONDecodeError, ValidationError, TypeError) as error:
            if isinstance(error, json.JSONDecodeError) and not line.rstrip().endswith("}"):
                continue  # a record cut short when its run was stopped
            raise ValidationError(
                f"microscope run log {target}, line {number}", line[:80], "one JSON record per line", "remove it"
            ) from error
        records.append(record)
    return records


def finished(records: Iterable[Mapping[str, Any]]) -> set[RunKey]:
    """The settings of every run in ``records``: a run whose ``run_key`` is among them is not run again."""
    return {run_key(record) for record in records}


def pool_mean(found: ImageMap, pixels: np.ndarray) -> np.ndarray:
    """The predicted mean of an ``image_map`` at each pool row, (N,) in the target's units; ``pixels``: (N, 2), the
    pool's (x, y) per row (``pool.image.pixels``). Raises ValidationError before any measurement (no map)."""
    import numpy as np

    if found.mean is None:
        raise ValidationError("image map", "no mean", "a map fitted to at least one measurement", "measure first")
    column = {x: j for j, x in enumerate(found.xs)}
    row = {y: i for i, y in enumerate(found.ys)}
    values = [found.mean[row[int(y)]][column[int(x)]] for x, y in np.asarray(pixels)]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@dataclass(frozen=True)
class SummaryRow:
    """Medians over the finished runs of one sample, strategy and settings.

    ``runs``: how many finished; ``wanted``: how many were asked for; ``shares`` and ``r2``: one median per mark;
    ``seconds``: the median wall time of a run.
    """

    kind: str
    reward: str
    strategy: str
    size: int
    stride: int
    budget: int
    marks: tuple[int, ...]
    runs: int
    wanted: int
    shares: tuple[float, ...]
    r2: tuple[float, ...]
    seconds: float


def summary_rows(records: Iterable[Mapping[str, Any]], *, wanted: int | None = None) -> list[SummaryRow]:
    """One row per (kind, reward, strategy, size, stride, budget, marks) in the order first seen: the medians of
    its records with ``run < wanted`` (every record when ``wanted`` is None; ``wanted`` is then the count)."""
    groups: dict[RunKey, dict[int, Mapping[str, Any]]] = {}
    for record in records:
        key = run_key(record)
        if wanted is not None and int(record["run"]) >= wanted:
            continue
        groups.setdefault(key[:3] + key[4:], {})[int(record["run"])] = record  # a repeated run: the latest
    rows = []
    for (kind, reward, strategy, size, stride, budget, marks), by_run in groups.items():
        done = list(by_run.values())
        shares = tuple(statistics.median(float(r["shares"][n - 1]) for r in done) for n in marks)
        r2 = tuple(statistics.median(float(r["map"][i]["r2"]) for r in done) for i in range(len(marks)))
        rows.append(
            SummaryRow(
                kind=kind,
                reward=reward,
                strategy=strategy,
                size=size,
                stride=stride,
                budget=budget,
                marks=marks,
                runs=len(done),
                wanted=wanted if wanted is not None else len(done),
                shares=shares,
                r2=r2,
                seconds=statistics.median(float(r["seconds"]) for r in done),
            )
        )
    return rows


def markdown_table(rows: Sequence[SummaryRow]) -> str:
    """Markdown tables of ``rows``, one per (size, stride, budget, marks), each under a line naming them."""
    blocks: dict[tuple[int, int, int, tuple[int, ...]], list[SummaryRow]] = {}
    for row in rows:
        blocks.setdefault((row.size, row.stride, row.budget, row.marks), []).append(row)
    out: list[str] = []
    for (size, stride, budget, marks), block in blocks.items():
        found = " | ".join(f"top 1 % in {n}" for n in marks)
        mapped = " | ".join(f"map R^2 at {n}" for n in marks)
        out += [
            f"{size} x {size} pixels, stride {stride}, budget {budget}:",
            "",
            f"| sample | reward | strategy | runs | {found} | {mapped} | s per run |",
            "|---" * (5 + 2 * len(marks)) + "|",
        ]
        for row in block:
            shares = " | ".join(f"{s * 100:.0f} %" for s in row.shares)
            r2 = " | ".join(f"{r:.2f}" for r in row.r2)
            out.append(
                f"| {row.kind} | {row.reward} | {row.strategy} | {row.runs} of {row.wanted} | {shares} | {r2} "
                f"| {row.seconds:.0f} |"
            )
        out.append("")
    return "\n".join(out).rstrip() + "\n"


__all__ = [
    "KEY_FIELDS",
    "SummaryRow",
    "append_run",
    "finished",
    "markdown_table",
    "pool_mean",
    "read_runs",
    "run_key",
    "summary_rows",
]
