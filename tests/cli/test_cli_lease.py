"""Only one `kiln run` drives a campaign: a second is refused naming the first (and flags nothing of it); a run
that stalls past its lease's expiry is taken over, and is told when it wakes. Waits are for states."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hands_lab import hands_lab, person, sent_to_hands
from kiln import Campaign
from kiln.core.records import utc_now


def _until(condition: Callable[[], Any], what: str, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)
    return found


def test_a_second_run_is_refused_and_flags_nothing(tmp_path: Path) -> None:
    command, url = hands_lab(
        tmp_path, budget=4, lease={"expiry": 120, "heartbeat": 0.5}
    )  # no lease expires here, however busy the machine
    with (tmp_path / "first.log").open("wb") as log:
        first = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            flying = _until(lambda: len(sent_to_hands(url)) == 2 and sent_to_hands(url), "two experiments in flight")
            second = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
            assert second.returncode == 1, second.stdout + second.stderr
            line = second.stderr.strip()
            assert f"is being run by process {first.pid} on host" in line and "since" in line, line
            assert "Ctrl-C" in line and "lease expires in" in line and "Traceback" not in line
            assert first.poll() is None
            campaign = Campaign.open("hands-lab", store=url)
            assert [campaign.experiment(e.id).attention for e in flying] == ["", ""]  # not flagged
            with person(url):
                assert first.wait(timeout=120) == 0, (tmp_path / "first.log").read_text()
        finally:
            if first.poll() is None:
                first.kill()
    assert campaign.store.get_lease("hands-lab") is None  # released on a clean exit
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr  # the campaign is free again


def _write_lock_free(db: Path) -> bool:
    """Whether nobody holds the SQLite write lock (a stopped process might, mid-transaction)."""
    connection = sqlite3.connect(db, timeout=0.2, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


def test_a_stalled_run_is_taken_over_after_its_lease_expires_and_is_told(tmp_path: Path) -> None:
    # an expiry long enough that a busy machine never starves the heartbeat past it: only the SIGSTOP below does
    command, url = hands_lab(tmp_path, budget=4, lease={"expiry": 20, "heartbeat": 0.5})
    db = tmp_path / "k.db"
    with (tmp_path / "first.log").open("wb") as log:
        first = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            flying = _until(lambda: len(sent_to_hands(url)) == 2 and sent_to_hands(url), "two experiments in flight")
            deadline = time.monotonic() + 60
            while True:  # stall it, but not in the middle of a write
                os.kill(first.pid, signal.SIGSTOP)
                if _write_lock_free(db):
                    break
                os.kill(first.pid, signal.SIGCONT)
                assert time.monotonic() < deadline, "the first run never left the write lock free"
            campaign = Campaign.open("hands-lab", store=url)
            lease = campaign.store.get_lease("hands-lab")
            assert lease is not None and lease.pid == first.pid
            _until(lambda: utc_now() > campaign.store.get_lease("hands-lab").expires_at, "the lease expires")
            with (tmp_path / "second.log").open("w") as out:
                second = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
                _until(
                    lambda: "took over from process" in (tmp_path / "second.log").read_text(), "the second takes over"
                )
                text = (tmp_path / "second.log").read_text()
                assert f"took over from process {first.pid} on host" in text
                os.kill(first.pid, signal.SIGCONT)
                _until(lambda: "the run lease was lost" in (tmp_path / "first.log").read_text(), "the first is told")
                with person(url):
                    assert second.wait(timeout=120) == 0, (tmp_path / "second.log").read_text()
                    assert first.wait(timeout=120) == 1, (tmp_path / "first.log").read_text()
        finally:
            if first.poll() is None:
                os.kill(first.pid, signal.SIGCONT)
                first.kill()
            if "second" in locals() and second.poll() is None:
                second.kill()
    stored = campaign.experiments()
    assert len(stored) == 4 and [e.id for e in stored[:2]] == [e.id for e in flying]
    assert not any(e.attention for e in stored)  # the second reattached the first's experiments (manual: resumable)
