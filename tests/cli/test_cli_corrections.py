"""kiln amend, retract, discard, history, pending and delete; kiln ask on open suggestions; export --history."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from kiln import Campaign, ExperimentStatus
from kiln.cli.app import app

SPEC = """\
name: bench
space:
  parameters:
    - {name: temperature, type: continuous, low: 20, high: 200}
objective: {target: y, direction: max}
strategy: {kind: random}
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    spec = tmp_path / "bench.yaml"
    spec.write_text(SPEC)
    path = tmp_path / "k.db"
    ok(kiln("create", spec, "--store", path))
    return path


def kiln(*args: Any) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def refused(result: Any) -> str:
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (result.stdout, result.exception)
    assert result.stderr.startswith("error: ")
    return " ".join(result.stderr.split())


def ask(db: Path, n: int) -> list[str]:
    return [s["id"] for s in json.loads(ok(kiln("ask", "bench", "-n", n, "--json", "--store", db)).stdout)]


def stored(db: Path) -> dict[str, Any]:
    return {e.id: e for e in Campaign.open("bench", store=f"sqlite:///{db}").experiments()}


def test_amend_a_typo_then_to_a_failure_and_back(db: Path) -> None:
    a, b = ask(db, 2)
    ok(kiln("tell", "bench", a, "1e308", "--store", db))
    ok(kiln("tell", "bench", b, "2", "--store", db))
    said = ok(kiln("amend", "bench", a, "3.08", "--reason", "typo in the lab book", "--store", db)).stdout
    assert "amended" in said and "3.08" in said
    assert stored(db)[a].results == {"y": 3.08} and stored(db)[a].amended == 1
    ok(kiln("amend", "bench", a, "--fail", "film cracked", "--reason", "seen later", "--store", db))
    assert stored(db)[a].status is ExperimentStatus.FAILED and stored(db)[a].reason == "film cracked"
    ok(kiln("amend", "bench", a, "-3", "--reason", "it was fine after all", "--store", db))
    assert stored(db)[a].results == {"y": -3.0}
    versions = json.loads(ok(kiln("history", "bench", a, "--json", "--store", db)).stdout)
    assert [(v["status"], v["results"].get("y"), v["note"]) for v in versions] == [
        ("completed", 1e308, ""),
        ("completed", 3.08, "typo in the lab book"),
        ("failed", None, "seen later"),
        ("completed", -3.0, "it was fine after all"),
    ]
    assert all(v["at"] for v in versions)
    table = ok(kiln("history", "bench", a, "--store", db)).stdout
    assert "typo" in table and "cracked" in table and "amended" in table
    for v in versions:  # each time whole, in 80 columns
        assert f"{datetime.fromisoformat(v['at']):%Y-%m-%d %H:%M:%S}" in table
    assert "completed (amended)" in ok(kiln("show", "bench", "--store", db)).stdout


def test_amend_refusals_name_the_fix(db: Path) -> None:
    (a,) = ask(db, 1)
    assert "use tell" in refused(kiln("amend", "bench", a, "3", "--reason", "x", "--store", db))
    ok(kiln("tell", "bench", a, "1", "--store", db))
    assert "reason" in refused(kiln("amend", "bench", a, "3", "--store", db))
    assert "not both" in refused(kiln("amend", "bench", a, "3", "--fail", "x", "--reason", "x", "--store", db))
    assert stored(db)[a].results == {"y": 1.0} and stored(db)[a].amended == 0


def test_retract_and_undo(db: Path) -> None:
    a, b = ask(db, 2)
    ok(kiln("tell", "bench", a, "5", "--store", db))
    ok(kiln("tell", "bench", b, "1", "--store", db))
    assert "retracted" in ok(kiln("retract", "bench", a, "--reason", "wrong sample", "--store", db)).stdout
    assert stored(db)[a].retracted
    assert Campaign.open("bench", store=f"sqlite:///{db}").best().id == b  # type: ignore[union-attr]
    assert "retracted" in refused(kiln("retract", "bench", a, "--reason", "again", "--store", db))
    ok(kiln("retract", "bench", a, "--undo", "--reason", "right sample after all", "--store", db))
    assert not stored(db)[a].retracted


def test_pending_discard_and_the_note_of_ask(db: Path) -> None:
    first = ask(db, 3)
    result = ok(kiln("ask", "bench", "--store", db))
    assert "3 earlier suggestions are still open: kiln pending bench" in result.stderr
    listed = json.loads(ok(kiln("pending", "bench", "--json", "--store", db)).stdout)
    assert len(listed) == 4 and [e["id"] for e in listed][:3] == first
    said = ok(kiln("discard", "bench", first[0], "--reason", "no substrate", "--store", db)).stdout
    assert "discarded (no substrate)" in said
    ok(kiln("discard", "bench", first[1], "--store", db))
    assert stored(db)[first[0]].status is ExperimentStatus.DISCARDED
    assert "not pending" in refused(kiln("discard", "bench", first[0], "--store", db))
    table = ok(kiln("pending", "bench", "--store", db)).stdout
    assert first[2] in table and first[0] not in table
    assert "no earlier" not in ok(kiln("ask", "bench", "--json", "--store", db)).stderr


def test_delete_needs_yes(db: Path) -> None:
    ask(db, 2)
    message = refused(kiln("delete", "bench", "--store", db))
    assert "--yes" in message and "2 experiment(s)" in message
    assert len(stored(db)) == 2
    assert "deleted campaign bench" in ok(kiln("delete", "bench", "--yes", "--store", db)).stdout
    assert "not found" in refused(kiln("show", "bench", "--store", db))
    assert "not found" in refused(kiln("delete", "bench", "--yes", "--store", db))


def test_export_history_adds_every_earlier_value(db: Path) -> None:
    a, b = ask(db, 2)
    ok(kiln("tell", "bench", a, "1e308", "--store", db))
    ok(kiln("tell", "bench", b, "2", "--store", db))
    ok(kiln("amend", "bench", a, "3", "--reason", "typo", "--store", db))
    plain = pd.read_csv(io.StringIO(ok(kiln("export", "bench", "--store", db)).stdout))
    assert len(plain) == 2 and plain.set_index("id").loc[a, "y"] == 3.0 and "version" not in plain.columns
    full = pd.read_csv(io.StringIO(ok(kiln("export", "bench", "--history", "--store", db)).stdout))
    rows = full[full["id"] == a]
    assert list(rows["y"]) == [1e308, 3.0] and list(rows["change_reason"].fillna("")) == ["", "typo"]
    assert list(rows["current"]) == [False, True]
    records = json.loads(ok(kiln("export", "bench", "--history", "--format", "json", "--store", db)).stdout)
    assert [r["version"] for r in records if r["id"] == a] == [0, 1]


def test_discard_of_an_experiment_in_flight_is_refused_saying_what_to_do(db: Path) -> None:
    sent, kept = ask(db, 2)
    campaign = Campaign.open("bench", store=f"sqlite:///{db}")
    dispatched = campaign.dispatch(sent, "robot-1", "job-7")
    message = refused(kiln("discard", "bench", sent, "--store", db))
    assert dispatched.dispatched_at is not None
    since = dispatched.dispatched_at.isoformat(timespec="seconds")
    assert f"{sent} is in flight on instrument 'robot-1' since {since}" in message, message
    assert "retract its result" in message and "kiln fail" in message and "stop the run" in message
    after = stored(db)[sent]
    assert (after.status, after.instrument, after.handle) == (ExperimentStatus.PENDING, "robot-1", "job-7")
    assert len(campaign.history(sent)) == 1  # nothing was changed
    assert campaign.tell(sent, 3.0).status is ExperimentStatus.COMPLETED  # the run's result still has a home
    ok(kiln("discard", "bench", kept, "--store", db))  # one never sent may go
