"""`kiln list` and `kiln show` count experiments one way (completed and failed are current results; retracted and
discarded apart; amended noted), and `kiln show` names the run that drives the campaign (its run lease)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, Objective

KILN = Path(sys.executable).parent / "kiln"


def cli(*args: Any, columns: int = 80) -> str:
    """Run kiln with COLUMNS as given (output not a terminal); its stdout, asserting it succeeded."""
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run([str(KILN), *map(str, args)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


@pytest.fixture
def store(tmp_path: Path) -> str:
    """Campaign 'films': 2 completed (one amended), 1 failed, 1 retracted, 1 discarded, 2 pending."""
    url = f"sqlite:///{tmp_path / 'kiln.db'}"
    pool = CandidatePool(["x"], [[float(i)] for i in range(12)])
    campaign = Campaign.create("films", space=pool, objective=Objective.maximize("y"), strategy="random", store=url)
    made = campaign.ask(7)
    campaign.tell(made[0].id, 1.0)
    campaign.tell(made[1].id, 2.0)
    campaign.amend(made[1].id, 2.5, reason="typo")
    campaign.fail(made[2].id, "cracked")
    campaign.tell(made[3].id, 9.0)
    campaign.retract(made[3].id, reason="wrong sample")
    campaign.discard(made[4].id, reason="not needed")
    campaign.store.close()
    return url


def test_list_counts_retracted_and_discarded_apart_in_80_columns(store: str) -> None:
    (row,) = json.loads(cli("list", "--json", "--store", store))
    assert {k: row[k] for k in ("experiments", "completed", "failed", "pending", "retracted", "discarded")} == {
        "experiments": 7, "completed": 2, "failed": 1, "pending": 2, "retracted": 1, "discarded": 1
    }  # fmt: skip
    assert row["amended"] == 1
    shown = cli("list", "--store", store)
    header = next(line for line in shown.splitlines() if line.startswith("name"))
    assert header.split() == ["name", "created", "(UTC)", "total", "completed", "failed", "pending", "retracted",
                              "discarded"]  # fmt: skip
    (line,) = [line for line in shown.splitlines() if line.startswith("films")]
    assert line.split()[3:] == ["7", "2", "1", "2", "1", "1"]
    assert max(len(line) for line in shown.splitlines()[1:]) <= 80, shown


def test_show_counts_the_same_way(store: str) -> None:
    shown = " ".join(cli("show", "films", "--store", store).split())
    assert "experiments 7 (2 completed, 1 failed, 2 pending, 1 retracted, 1 discarded; 1 amended)" in shown
    summary = json.loads(cli("show", "films", "--json", "--store", store))
    assert (summary["completed"], summary["retracted"], summary["discarded"], summary["amended"]) == (2, 1, 1, 1)


def test_show_names_the_run_that_holds_the_lease(store: str) -> None:
    campaign = Campaign.open("films", store=store)
    assert json.loads(cli("show", "films", "--json", "--store", store))["run"] is None
    assert "run by" not in cli("show", "films", "--store", store)
    lease = campaign.store.acquire_lease("films", "run-1", host="lab-pc", pid=4242, expiry=600)
    shown = " ".join(cli("show", "films", "--store", store).split())
    since = lease.since.isoformat(timespec="seconds")
    assert f"run by process 4242 on host 'lab-pc' since {since} (last heartbeat" in shown, shown
    assert f"lease until {lease.expires_at.isoformat(timespec='seconds')}" in shown
    run = json.loads(cli("show", "films", "--json", "--store", store))["run"]
    assert (run["host"], run["pid"], run["since"], run["expired"]) == ("lab-pc", 4242, lease.since.isoformat(), False)
    campaign.store.release_lease("films", "run-1")
    campaign.store.acquire_lease("films", "run-2", host="lab-pc", pid=4243, expiry=0.001)  # a run that died
    shown = " ".join(cli("show", "films", "--store", store).split())
    assert "run by process 4243" in shown and "lease expired at" in shown and "the next kiln run takes over" in shown
    assert json.loads(cli("show", "films", "--json", "--store", store))["run"]["expired"] is True
