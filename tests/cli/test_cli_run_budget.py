"""kiln run keeps to its budget when suggestions were made elsewhere (kiln ask): it runs the oldest within it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kiln import Campaign, ExperimentStatus
from kiln.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_thirty_asked_and_a_budget_of_five_runs_five(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    runner = CliRunner()
    spec = str(EXAMPLES / "crossed-barrel.yaml")
    assert runner.invoke(app, ["create", spec, "--store", str(db)]).exit_code == 0
    asked = runner.invoke(app, ["ask", "crossed-barrel-demo", "-n", "30", "--store", str(db), "--json"])
    assert asked.exit_code == 0, asked.output
    before = Campaign.open("crossed-barrel-demo", store=f"sqlite:///{db}").experiments()
    result = runner.invoke(app, ["run", spec, "--store", str(db), "--budget", "5"])
    assert result.exit_code == 0, result.output
    after = Campaign.open("crossed-barrel-demo", store=f"sqlite:///{db}").experiments()
    assert [e.id for e in after] == [e.id for e in before]  # nothing new was asked for
    assert [e.status for e in after[:5]] == [ExperimentStatus.COMPLETED] * 5
    assert after[5:] == before[5:]  # pending, never sent
