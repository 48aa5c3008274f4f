"""Progress of many runs (backtests, a suite): a live bar on a terminal, plain lines in a log file.

A rich progress bar draws nothing where the console is not a terminal (``nohup``, a batch job, CI), so a run of
hours would say nothing until its end. There each twentieth of the runs gets one line instead, e.g.
``runs: 5/20 done after 2 min 31 s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

STEPS = 20
"""Lines written over a whole job where the console is not a terminal (one per twentieth of the runs)."""

Update = Callable[[int, "int | None"], None]
"""update(completed, total): runs done so far, and the number of runs once known (None: unchanged)."""


@contextmanager
def run_progress(console: Console, total: int | None, *, remaining: bool = False) -> Iterator[Update]:
    """A progress display of ``total`` runs (None: not known yet) on ``console``; yields ``update``. With
    ``remaining`` the bar also estimates the time left."""
    if console.is_terminal:
        with _bar(console, total, remaining) as update:
            yield update
        return
    yield _lines(console, total)


@contextmanager
def _bar(console: Console, total: int | None, remaining: bool) -> Iterator[Update]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns: list[ProgressColumn] = [TextColumn("runs"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    if remaining:
        columns.append(TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("runs", total=total)

        def update(completed: int, new_total: int | None = None) -> None:
            if new_total is not None:
                progress.update(task, total=new_total)
            progress.update(task, completed=completed)

        yield update


def _lines(console: Console, total: int | None) -> Update:
    started = time.monotonic()
    state = {"total": total or 0, "step": 0}

    def update(completed: int, new_total: int | None = None) -> None:
        if new_total is not None:
            state["total"] = new_total
        if state["total"] <= 0:
            return
        step = min(STEPS, completed * STEPS // state["total"])
        if step > state["step"]:
            state["step"] = step
            seconds = elapsed(time.monotonic() - started)
            console.print(f"runs: {completed}/{state['total']} done after {seconds}", highlight=False)

    return update


def elapsed(seconds: float) -> str:
    """Seconds -> "41 s", "2 min 31 s", "3 h 04 min"."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
