"""The kiln command as a real process: kill -9 in the middle of `kiln run` loses nothing and resumes cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from kiln import Campaign, ExperimentStatus, KilnError, NotFoundError

KILN = Path(sys.executable).parent / "kiln"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUDGET = 60
KILL_AFTER = 8


def _stored(url: str) -> list[Any]:
    campaign = Campaign.open("p3ht-demo", store=url)
    try:
        return campaign.experiments()
    finally:
        campaign.store.close()


def _wait_for(url: str, db: Path, process: subprocess.Popen[bytes], count: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "kiln run ended before it could be killed"
        if db.exists():
            try:
                if len(_stored(url)) >= count:
                    return
            except (NotFoundError, SQLAlchemyError, KilnError):
                pass  # the campaign or its tables are being created
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} experiments after {timeout} s")


def test_kill_9_then_rerun_completes_the_budget_without_loss_or_repeats(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    url = f"sqlite:///{db}"
    command = [str(KILN), "run", str(EXAMPLES / "p3ht.yaml"), "--store", url, "--budget", str(BUDGET)]
    with (tmp_path / "first.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        try:
            _wait_for(url, db, process, KILL_AFTER)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    before = _stored(url)
    assert KILL_AFTER <= len(before) < BUDGET, (tmp_path / "first.log").read_text()

    rerun = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert f"resumed ({len(before)} experiments stored)" in rerun.stdout
    assert "top-5 %" in rerun.stdout

    after = _stored(url)
    assert len(after) == BUDGET
    assert all(e.status is ExperimentStatus.COMPLETED for e in after)
    assert [e.seq for e in after] == list(range(1, BUDGET + 1))
    assert len({e.id for e in after}) == BUDGET
    candidates = [e.candidate for e in after]
    assert None not in candidates and len(set(candidates)) == BUDGET
    by_id = {e.id: e for e in after}
    for old in before:  # every experiment stored before the kill is still there, unchanged
        new = by_id[old.id]
        assert (new.seq, dict(new.params), new.candidate) == (old.seq, dict(old.params), old.candidate)
        if old.status is ExperimentStatus.COMPLETED:
            assert new.results == old.results and new.finished_at == old.finished_at


def test_ask_json_through_a_real_process(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    env = {**os.environ, "KILN_STORE": str(db)}
    create = subprocess.run(
        [str(KILN), "create", str(EXAMPLES / "p3ht.yaml")], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert create.returncode == 0, create.stderr
    ask = subprocess.run(
        [str(KILN), "ask", "p3ht-demo", "-n", "2", "--json"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert ask.returncode == 0, ask.stderr
    suggestions = json.loads(ask.stdout)
    assert [e.id for e in _stored(f"sqlite:///{db}")] == [s["id"] for s in suggestions]
    missing = subprocess.run(
        [str(KILN), "tell", "p3ht-demo", "exp-0000000000", "1"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ") and len(missing.stderr.strip().splitlines()) == 1
    assert "Traceback" not in missing.stderr
    assert not (tmp_path / "kiln.db").exists()  # KILN_STORE was used, not the default store


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    url = f"sqlite:///{db}"
    command = [str(KILN), "run", str(EXAMPLES / "p3ht.yaml"), "--store", url, "--budget", "15"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        _wait_for(url, db, process, 6)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    text = output.decode()
    assert process.returncode == 130, text
    assert "interrupted" in text and "run the same command again to resume" in text
    assert "Traceback" not in text
    before = _stored(url)
    rerun = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after = _stored(url)
    assert len(after) == 15 and all(e.status is ExperimentStatus.COMPLETED for e in after)
    assert [e.id for e in after[: len(before)]] == [e.id for e in before]
    assert len({e.candidate for e in after}) == 15
