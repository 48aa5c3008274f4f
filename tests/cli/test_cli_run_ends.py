"""How `kiln run` ends when something happens to it: its campaign deleted under it (one line, exit 1, nothing more
sent), or a Ctrl-C at any moment, after the loop's own handler is gone too (the resume message, exit 130).
Waits are for states: lines a stand-in instrument wrote, rows in the store; hooks deliver the Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import kiln.cli.run_command as run_command
from kiln import Campaign
from kiln.cli.app import app
from kiln.lab.lease import RunLease
from kiln.store import open_store

KILN = Path(sys.executable).parent / "kiln"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

MEASURE = """
import json, pathlib, sys, time
params = json.load(sys.stdin)
with open("sent.log", "a") as log:
    log.write(json.dumps(params) + "\\n")
while not pathlib.Path("release").exists():  # never, in this test: the experiment runs until it is stopped
    time.sleep(0.05)
print(json.dumps({"y": params["x"]}))
"""


def _until(condition: Callable[[], Any], what: str, process: subprocess.Popen[bytes], log: Path) -> Any:
    deadline = time.monotonic() + 120
    while not (found := condition()):
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"never: {what}\n{log.read_text()}"
        time.sleep(0.02)
    return found


def _sent(tmp_path: Path) -> list[str]:
    path = tmp_path / "sent.log"
    return path.read_text().splitlines() if path.exists() else []


def _in_flight(url: str) -> int:
    try:
        campaign = Campaign.open("slow-lab", store=url)
    except Exception:  # not created yet
        return 0
    try:
        return sum(1 for e in campaign.pending() if e.handle)
    finally:
        campaign.store.close()


def test_a_campaign_deleted_under_a_run_stops_it_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "measure.py").write_text(MEASURE)
    (tmp_path / "pool.csv").write_text("x\n" + "\n".join(str(i) for i in range(50)) + "\n")
    spec = {
        "name": "slow-lab",
        "pool": {"csv": "pool.csv"},
        "objective": {"target": "y", "direction": "max"},
        "strategy": {"kind": "random"},
        "instruments": [{"kind": "command", "name": "rig", "command": [sys.executable, "measure.py"]}],
        "in_flight": 2,
        "budget": 6,
        "lease": {"expiry": 120, "heartbeat": 0.5},  # no lease expires here, however busy the machine
    }
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump(spec))
    url = f"sqlite:///{tmp_path / 'k.db'}"
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(KILN), "run", "lab.yaml", "--store", url], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
        try:
            _until(lambda: len(_sent(tmp_path)) == 2 and _in_flight(url) == 2, "two experiments running", process, log)
            Campaign.open("slow-lab", store=url).delete()
            assert process.wait(timeout=120) == 1, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
    text = log.read_text()
    (line,) = [line for line in text.splitlines() if "was deleted" in line]
    assert line.startswith("error: campaign 'slow-lab' was deleted from") and "sends nothing more" in line, text
    assert text.splitlines()[-1] == line and "Traceback" not in text and "Task exception" not in text, text
    assert len(_sent(tmp_path)) == 2  # nothing more was sent
    store = open_store(url)
    assert store.list_campaigns() == []  # the run wrote nothing back: the campaign stays deleted
    store.close()


def _ctrl_c_then(call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, after a Ctrl-C to this process (the default handler raises KeyboardInterrupt on its return)."""

    def hooked(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return call(*args, **kwargs)

    return hooked


@pytest.mark.parametrize("moment", ["summary", "lease release"])
def test_a_ctrl_c_after_the_loop_ends_with_the_resume_message_and_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    if moment == "summary":
        monkeypatch.setattr(run_command, "_summary", _ctrl_c_then(run_command._summary))
    else:
        monkeypatch.setattr(RunLease, "release", _ctrl_c_then(RunLease.release))
    db = tmp_path / "k.db"
    spec = str(EXAMPLES / "crossed-barrel.yaml")
    result = CliRunner().invoke(app, ["run", spec, "--store", str(db), "--budget", "2"])
    assert result.exit_code == 130, (result.output, result.exception)
    assert "Aborted!" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("interrupted")]
    assert f"interrupted: 2 experiments are stored in sqlite:///{db}; run the same command again to resume" == line
    campaign = Campaign.open("crossed-barrel-demo", store=f"sqlite:///{db}")
    assert campaign.store.get_lease("crossed-barrel-demo") is None  # given up whole, even during the Ctrl-C
    assert json.dumps([e.status.value for e in campaign.experiments()]) == '["completed", "completed"]'
