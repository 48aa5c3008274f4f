"""kiln.cli.run_progress: a bar on a terminal, one line per twentieth of the runs in a log file."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from kiln.cli.run_progress import elapsed, run_progress


def test_a_log_file_gets_a_line_per_twentieth_of_the_runs() -> None:
    log = io.StringIO()
    with run_progress(Console(file=log, force_terminal=False), 40) as update:
        for done in range(41):
            update(done, 40)
    lines = log.getvalue().splitlines()
    assert len(lines) == 20
    assert lines[0].startswith("runs: 2/40 done after ") and lines[-1].startswith("runs: 40/40 done after ")


def test_a_total_learnt_later_and_runs_done_before_start() -> None:
    log = io.StringIO()
    with run_progress(Console(file=log, force_terminal=False), None) as update:
        update(0, None)  # nothing known yet: nothing to say
        assert log.getvalue() == ""
        update(50, 100)  # half of them done by an earlier run
        update(51, None)
        update(100, None)
    assert [line.split(" done")[0] for line in log.getvalue().splitlines()] == ["runs: 50/100", "runs: 100/100"]


def test_a_terminal_gets_the_bar_instead_of_lines() -> None:
    screen = io.StringIO()
    with run_progress(Console(file=screen, force_terminal=True, width=80), 3, remaining=True) as update:
        for done in range(4):
            update(done, None)
    assert "3/3" in screen.getvalue() and "done after" not in screen.getvalue()


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (41.2, "41 s"), (151, "2 min 31 s"), (11040, "3 h 04 min")]
)
def test_elapsed_reads_as_a_duration(seconds: float, text: str) -> None:
    assert elapsed(seconds) == text
