"""kill -9 of `kiln run` at many moments while experiments are in flight on an HTTP instrument that outlives it:
no observation is lost and no experiment is sent twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from http_lab import LabService, running_service
from kiln import Campaign, ExperimentStatus

KILN = Path(sys.executable).parent / "kiln"
BUDGET = 40
KILLS = 6


def _stored(url: str) -> list:  # type: ignore[type-arg]
    campaign = Campaign.open("crash-lab", store=url)
    try:
        return campaign.experiments()
    finally:
        campaign.store.close()


def test_kill_9_at_many_moments_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    (tmp_path / "pool.csv").write_text("x\n" + "\n".join(str(i) for i in range(100)) + "\n")
    service = LabService(latency=0.15)
    rng = random.Random(20261121)
    with running_service(service) as base:
        spec = {
            "name": "crash-lab",
            "pool": {"csv": "pool.csv"},
            "objective": {"target": "y", "direction": "max"},
            "strategy": {"kind": "random"},
            "instruments": [
                {
                    "kind": "http",
                    "name": "robot",
                    "submit_url": f"{base}/run",
                    "status_url": f"{base}/run/{{id}}",
                    "poll_interval": 0.02,
                }
            ],
            "in_flight": 3,
            "budget": BUDGET,
        }
        (tmp_path / "lab.yaml").write_text(yaml.safe_dump(spec))
        db = tmp_path / "k.db"
        url = f"sqlite:///{db}"
        command = [str(KILN), "run", str(tmp_path / "lab.yaml"), "--store", url]
        for kill in range(KILLS):
            posted = len(service.posts)
            with (tmp_path / f"run{kill}.log").open("wb") as log:
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
                deadline = time.monotonic() + 60
                while len(service.posts) == posted and time.monotonic() < deadline:  # wait for its first dispatch
                    assert process.poll() is None, (tmp_path / f"run{kill}.log").read_text()
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.6))  # then a random moment
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        final = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert final.returncode == 0, final.stdout + final.stderr
    stored = _stored(url)
    by_id = {e.id: e for e in stored}
    assert [e.seq for e in stored] == list(range(1, BUDGET + 1))
    keys = [key for key, _ in service.posts]
    assert len(keys) == len(set(keys)), "an experiment was sent twice"
    assert set(keys) <= set(by_id), "the service ran an experiment the store does not know"
    for key, params in service.posts:
        experiment = by_id[key]
        assert dict(experiment.params) == params
        if experiment.status is ExperimentStatus.COMPLETED:
            assert experiment.results == {"y": params["x"]}  # the service's result, not lost or mixed up
        else:  # only an experiment caught between 'sending' and 'accepted' may wait for the operator
            assert experiment.status is ExperimentStatus.PENDING and experiment.attention, experiment
            assert experiment.handle == ""
    completed = [e for e in stored if e.status is ExperimentStatus.COMPLETED]
    flagged = [e for e in stored if e.attention]
    assert len(completed) + len(flagged) == BUDGET
    assert len(completed) >= BUDGET - KILLS * 3
