"""Ctrl-C of `kiln run examples/simulated-lab.yaml` (the default strategy: asks that fit a model in a worker thread,
four experiments in flight on three robots) at several moments: no experiment is created or sent after the
"stopping" line, and the run ends with 130 once those in flight are stored. Waits are for states."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from kiln import Campaign, ExperimentStatus
from kiln.core.records import utc_now

KILN = Path(sys.executable).parent / "kiln"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _experiments(url: str) -> list[Any]:
    try:
        campaign = Campaign.open("simulated-lab", store=url)
    except Exception:  # not created yet
        return []
    try:
        return campaign.experiments()
    finally:
        campaign.store.close()


def _watch(stream: IO[str], lines: list[str], seen: threading.Event) -> None:
    for line in stream:
        lines.append(line)
        if "stopping" in line:
            seen.set()


@pytest.mark.parametrize("sent", [1, 6])
def test_nothing_is_created_or_sent_after_the_first_ctrl_c(tmp_path: Path, sent: int) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    command = [str(KILN), "run", str(EXAMPLES / "simulated-lab.yaml"), "--store", url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    lines: list[str] = []
    stopping = threading.Event()
    reader = threading.Thread(target=_watch, args=(process.stdout, lines, stopping), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 180
        while sum(e.dispatched_at is not None for e in _experiments(url)) < sent:
            assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        assert stopping.wait(timeout=120), "".join(lines)
        stopped_at = utc_now()  # the handler had run by then: it prints the line after the stop took effect
        process.wait(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=30)
    assert process.returncode == 130, "".join(lines)
    stored = _experiments(url)
    late = [e for e in stored if e.created_at > stopped_at or (e.dispatched_at or e.created_at) > stopped_at]
    assert late == [], late
    for experiment in stored:  # those in flight finished and were stored; any never sent waits for the rerun
        assert experiment.status is not ExperimentStatus.PENDING or experiment.dispatched_at is None
