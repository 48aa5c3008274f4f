"""``kiln run`` with an instrument that measures part of the quantities: each experiment is reported as measured
in part, the summary says which quantities the experiments await and how to record them, and a resumed run
leaves them alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from kiln import Campaign, ExperimentStatus
from kiln.cli.app import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "suzuki-ii-two-targets.yaml"


def kiln(*args: Any) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return str(result.stdout)


def test_a_run_on_an_emulator_reporting_one_column_leaves_the_other_to_tell(tmp_path: Path) -> None:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec["strategy"] = {"kind": "random"}
    spec["instrument"]["report"] = ["yield"]
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    store = tmp_path / "s.db"
    out = kiln("run", tmp_path / "spec.yaml", "--budget", 3, "--store", store)
    campaign = Campaign.open("suzuki-ii-front", store=f"sqlite:///{store}")
    first = campaign.experiments()
    assert len(first) == 3 and all(e.status is ExperimentStatus.PENDING and set(e.results) == {"yield"} for e in first)
    for experiment in first:
        assert f"{experiment.id} measured in part on emulator: yield = " in out, out
    assert "awaiting turnover [3/3 done" in out, out
    assert "3 experiments: 0 completed, 0 failed, 3 pending" in out
    assert (
        "3 experiment(s) measured in part await turnover: record it with kiln tell suzuki-ii-front ID turnover=VALUE "
        "(kiln pending suzuki-ii-front lists them)"
    ) in out, out

    again = kiln("run", tmp_path / "spec.yaml", "--budget", 4, "--store", store)
    assert "resumed (3 experiments stored)" in again
    stored = campaign.experiments()
    assert stored[:3] == first and len(stored) == 4  # the three left alone, one new
    assert "4 experiment(s) measured in part await turnover" in again

    shown = " ".join(kiln("show", "suzuki-ii-front", "--store", store).split())
    assert "partly measured 4 waiting for turnover" in shown and "in flight" not in shown
    assert "budget 30 experiments (0 finished, 4 measured in part)" in shown, shown

    kiln("tell", "suzuki-ii-front", first[0].id, "turnover=12.5", "--store", store)
    assert campaign.experiment(first[0].id).status is ExperimentStatus.COMPLETED
    last = kiln("run", tmp_path / "spec.yaml", "--budget", 4, "--store", store)
    assert "4 experiments: 1 completed, 0 failed, 3 pending" in last
    assert "3 experiment(s) measured in part await turnover" in last
