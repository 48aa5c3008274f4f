"""The ``report:`` step of a run spec: ``kiln run`` writes the campaign report when its loop ends (by its budget
or a stop rule such as max_cost) and says where; a bad value is refused before anything is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kiln.cli.app import app
from kiln.core.errors import SpecError
from kiln.lab.spec import load_spec
from kiln.store import open_store


def write_spec(folder: Path, **extra: Any) -> Path:
    body: dict[str, Any] = {
        "name": "barrel-report",
        "instrument": {"kind": "emulator", "dataset": "crossed-barrel", "cost": 2},
        "pool": {"dataset": "crossed-barrel"},
        "objective": {"target": "toughness", "direction": "max"},
        "budget": 6,
        "seed": 0,
        **extra,
    }
    path = folder / "specs" / "run.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("report", "stop", "written"),
    [
        (True, None, "specs/barrel-report-report.html"),  # true: NAME-report.html next to the spec
        ({"out": "out/r.html", "pdf": "out/r.pdf", "seed": 3}, {"max_cost": 8}, "specs/out/r.html"),  # spec-relative
    ],
)
def test_the_run_writes_the_report_at_its_end(
    tmp_path: Path, report: Any, stop: dict[str, Any] | None, written: str
) -> None:
    (tmp_path / "specs" / "out").mkdir(parents=True)
    spec = write_spec(tmp_path, report=report, **({"stop": stop} if stop else {}))
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(tmp_path / "k.db")])
    assert result.exit_code == 0, result.output
    page = tmp_path / written
    assert page.exists(), result.output
    text = page.read_text(encoding="utf-8")
    assert "Campaign report: barrel-report" in text
    assert "candidates&#x27; known values" in text  # the noise-free emulator's values: the comparison is exact
    assert f"report written to {page}" in " ".join(result.output.split())
    if stop:  # max_cost 8 at cost 2 a piece: the rule ends it after 4 of the 6
        assert "stopped by the rule" in result.output and "4 experiments" in result.output
        assert "report seed 3" in text
        pdf = tmp_path / "specs/out/r.pdf"
        assert pdf.read_bytes().startswith(b"%PDF") and f"report written to {pdf}" in " ".join(result.output.split())


def test_the_emulator_gives_the_exact_values_only_without_noise(tmp_path: Path) -> None:
    from kiln import Campaign, Objective
    from kiln.cli.run_command import emulator_truth
    from kiln.lab.emulator import DatasetEmulator

    exact = DatasetEmulator.builtin("crossed-barrel")
    campaign = Campaign.create(
        "barrel", space=exact.pool, objective=Objective.maximize("toughness"), store=str(tmp_path / "t.db")
    )
    values = emulator_truth(campaign, exact)
    assert values is not None and len(values) == len(exact.pool)
    row = exact.pool.row(7)
    assert values[7] == float(
        exact.table.loc[(exact.table[list(row)] == list(row.values())).all(axis=1), "toughness"].iloc[0]
    )
    assert emulator_truth(campaign, DatasetEmulator.builtin("crossed-barrel", noise=0.5)) is None
    assert emulator_truth(campaign, None) is None


def test_no_report_key_writes_none(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, budget=3)
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(tmp_path / "k.db")])
    assert result.exit_code == 0, result.output
    assert "report written" not in result.output and not list(tmp_path.rglob("*.html"))


@pytest.mark.parametrize(
    ("value", "field", "words"),
    [
        ("report.html", "report", "true, false or a map"),
        ({"out": "r.pdf"}, "report.out", "ending in .html"),
        ({"pdf": "r.html"}, "report.pdf", "ending in .pdf"),
        ({"seed": 1}, "report.out", "pdf (a .pdf file) or both"),
        ({"out": ""}, "report.out", "ending in .html"),
        ({"out": "missing/r.html"}, "report.out", "folder does not exist"),
        ({"out": "r.html", "seed": -1}, "report.seed", ">= 0"),
        ({"out": "r.html", "columns": ["toughness"]}, "report.columns", "fields of report are"),
        ([1], "report", "true, false or a map"),
    ],
)
def test_a_bad_report_value_is_named_and_changes_nothing(tmp_path: Path, value: Any, field: str, words: str) -> None:
    spec = write_spec(tmp_path, report=value)
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert caught.value.field == field and words in str(caught.value)
    db = tmp_path / "k.db"
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(db)])
    assert result.exit_code == 1 and field in result.output and words in " ".join(result.output.split())
    assert not db.exists() or open_store(f"sqlite:///{db}").list_campaigns() == []
    assert not list(tmp_path.rglob("*.html")) and not list(tmp_path.rglob("*.pdf"))


def test_the_instrument_report_columns_are_another_key(tmp_path: Path) -> None:
    """``report: [column]`` inside the instrument section still means "measure only these columns"."""
    spec = write_spec(tmp_path)
    body = yaml.safe_load(spec.read_text())
    body["instrument"]["report"] = ["toughness"]
    spec.write_text(yaml.safe_dump(body), encoding="utf-8")
    parsed = load_spec(spec)
    assert parsed.report is None and parsed.instruments[0]["report"] == ["toughness"]


def test_the_server_refuses_a_report_step() -> None:
    """A report is a file ``kiln run`` writes on its own machine: the server, which writes none, refuses the key."""
    from kiln.server.campaign_spec import campaign_spec

    document = {
        "name": "c",
        "pool": {"dataset": "crossed-barrel"},
        "objective": {"target": "toughness", "direction": "max"},
        "report": {"out": "/etc/r.html"},
    }
    with pytest.raises(SpecError) as caught:
        campaign_spec(document)
    assert caught.value.field == "report"
