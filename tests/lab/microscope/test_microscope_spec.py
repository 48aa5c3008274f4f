"""The microscope in a spec: a pool from its overview scan, examples/microscope.yaml end to end with `kiln run` on
SQLite, and the spec's errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from kiln import Campaign, ExperimentStatus
from kiln.cli.app import app
from kiln.core.errors import SpecError
from kiln.lab.microscope.samples import make_sample
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.spec import spec_from_dict
from kiln.lab.stopping import StopRules

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "microscope.yaml"


def _document(**changes: Any) -> dict[str, Any]:
    document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    document["instrument"]["sample"]["size"] = 32
    document.update(changes)
    return document


def test_the_pool_is_the_overview_scan_with_its_image() -> None:
    spec = spec_from_dict(_document())
    pool = spec.config.domain
    assert len(pool) == 16 * 16 and pool.names == ["x", "y"]  # every second pixel of 32 x 32
    assert pool.image is not None and pool.image.data.shape == (32, 32) and pool.image.patch == 9
    sample = make_sample("ferroelectric", 0, 32)
    noise = np.asarray(pool.image.data, dtype=float) - sample.image
    assert 0.03 < np.std(noise) < 0.07  # the scan: the sample's image with the instrument's image noise (0.05)
    overview = spec.config.extra["overview"]
    assert overview == {"instrument": "afm", "shape": [32, 32], "stride": 2, "patch": 9, "cost": 1.0, "seconds": 90.0}
    again = spec_from_dict(_document()).config.domain
    assert again.image is not None and again.image.digest == pool.image.digest  # the same scan on every read


def test_examples_microscope_runs_end_to_end_and_resumes(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/scope.db"
    runner = CliRunner()
    result = runner.invoke(app, ["run", str(EXAMPLE), "--store", store, "--budget", "5"])
    assert result.exit_code == 0, result.output
    campaign = Campaign.open("microscope-demo", store=store)
    experiments = campaign.experiments()
    assert len(experiments) == 5 and all(e.status is ExperimentStatus.COMPLETED for e in experiments)
    for experiment in experiments:
        assert experiment.results["loop_area"] > 0
        assert len(experiment.outputs["spectrum"]) == 128 and len(experiment.outputs["axis"]) == 128
        probed = np.array(experiment.outputs["probed"])
        assert np.all(np.abs(probed - [experiment.params["x"], experiment.params["y"]]) <= 2)  # drift <= 2 px
    assert campaign.domain.image is not None and campaign.domain.image.data.shape == (64, 64)
    shown = runner.invoke(app, ["show", "microscope-demo", "--store", store])
    assert "64 x 64 scan on afm" in shown.output and "ferroelectric (seed 0, size 64)" in shown.output
    summary = json.loads(runner.invoke(app, ["show", "microscope-demo", "--store", store, "--json"]).output)
    assert summary["overview"]["instrument"] == "afm" and summary["overview"]["cost"] == 1.0
    resumed = runner.invoke(app, ["run", str(EXAMPLE), "--store", store, "--budget", "10"])  # 9 and 10 by DKL
    assert resumed.exit_code == 0, resumed.output
    experiments = Campaign.open("microscope-demo", store=store).experiments()
    assert len(experiments) == 10 and {e.strategy for e in experiments[8:]} == {"dkl"}


def test_spec_errors_name_the_field() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"pool": {"overview": "stm"}}, r"pool\.overview: got 'stm'; the name of one of the spec's microscope"),
        ({"pool": {"overview": "afm", "dataset": "p3ht"}}, r"pool: got \['dataset'\]; fields of an overview pool"),
        ({"pool": {"overview": "afm", "stride": 0}}, r"pool\.stride: got 0"),
        ({"pool": {"overview": "afm", "patch": 4}}, r"pool\.patch: got 4"),
        ({"objective": {"target": "area", "direction": "max"}}, r"instrument\.reward: got 'loop_area'; the microscope"),
    ]
    for changes, message in cases:
        with pytest.raises(SpecError, match=message):
            spec_from_dict(_document(**changes))
    emulator = _document(pool={"overview": "robot"})
    emulator["instruments"] = [emulator.pop("instrument"), {"kind": "emulator", "dataset": "p3ht", "name": "robot"}]
    with pytest.raises(SpecError, match=r"pool\.overview: got 'robot'.*\['afm'\]"):
        spec_from_dict(emulator)
    renamed = _document(objective={"target": "area", "direction": "max"})
    renamed["instrument"]["reward"] = {"area": "loop_area"}
    assert spec_from_dict(renamed).config.objective.names == ["area"]


def test_the_microscope_as_a_workflow_step(store_url: str) -> None:
    document = _document(workflow={"steps": [{"name": "loop", "instrument": "afm", "cost": 2}]}, budget=3)
    spec = spec_from_dict(document)
    ((workflow, cost, _),) = spec.build_instruments(seed=0)
    assert cost == 2.0
    config = spec.config
    campaign = Campaign.create(
        spec.name, space=config.domain, objective=config.objective, strategy="random", store=store_url
    )
    summary = Orchestrator(campaign, [workflow], stop=StopRules(budget=3), costs={workflow.name: cost}).run_sync()
    assert summary.finished == 3 and summary.cost == 6.0
    for experiment in campaign.experiments():
        (step,) = experiment.outputs["steps"]
        assert step["step"] == "loop" and len(step["outputs"]["spectrum"]) == 128
        assert experiment.results["loop_area"] == step["values"]["loop_area"]
