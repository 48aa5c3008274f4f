"""The kiln command as a real process: kill -9 in the middle of `kiln run` loses nothing and resumes cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import SQLAlchemyError

from hands_lab import KILN, NAME, hands_lab, person, sent_to_hands
from kiln import Campaign, ExperimentStatus, KilnError, NotFoundError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUDGET = 60
KILL_AFTER = 8


def _stored(url: str, name: str = "p3ht-demo") -> list[Any]:
    """The experiments of campaign ``name`` in the store at ``url``."""
    campaign = Campaign.open(name, store=url)
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


class Lines:
    """The lines a process writes, collected by a thread as they come (waits are for a line, not for time)."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120.0) -> str:
        with self.changed:
            found = self.changed.wait_for(lambda: any(text in line for line in self.lines), timeout=timeout)
            assert found, f"no line with {text!r} in:\n" + "\n".join(self.lines)
            return next(line for line in self.lines if text in line)

    def text(self) -> str:
        self.thread.join(timeout=30)
        return "\n".join(self.lines)


def _tell(url: str, experiments: list[Any]) -> None:
    campaign = Campaign.open(NAME, store=url)
    try:
        for experiment in experiments:
            campaign.tell(experiment.id, experiment.params["x"])
    finally:
        campaign.store.close()


def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path: Path) -> None:
    command, url = hands_lab(tmp_path, budget=6)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    try:
        output = Lines(process.stdout)  # type: ignore[arg-type]
        deadline = time.monotonic() + 120
        while len(in_flight := sent_to_hands(url)) < 2:  # both slots are taken: the run waits for the person
            assert process.poll() is None and time.monotonic() < deadline, output.text()
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        output.wait_for("stopping")  # the handler ran: nothing new is sent from now on
        _tell(url, in_flight)  # the experiments in flight finish and are stored
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    text = output.text()
    assert process.returncode == 130, text
    interrupted = output.wait_for("interrupted")
    assert interrupted.endswith("2 experiments are stored in " + url + "; run the same command again to resume")
    assert "Traceback" not in text
    before = _stored(url, NAME)
    assert [e.id for e in before] == [e.id for e in in_flight]  # nothing was asked for after the Ctrl-C
    assert all(e.status is ExperimentStatus.COMPLETED for e in before)

    with person(url):
        rerun = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after = _stored(url, NAME)
    assert len(after) == 6 and all(e.status is ExperimentStatus.COMPLETED for e in after)
    assert [e.id for e in after[:2]] == [e.id for e in before]
    assert len({e.candidate for e in after}) == 6
