"""The kiln command through typer's CliRunner: create, ask, tell, fail, import, list, show, export, run, errors."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from kiln import Campaign, ExperimentStatus
from kiln.cli.app import app
from kiln.core.records import Origin

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPEC = """\
name: bench
space:
  parameters:
    - {name: temperature, type: continuous, low: 20, high: 200}
    - {name: solvent, type: categorical, choices: [water, ethanol]}
objective: {target: y, direction: max}
strategy: {kind: random}
seed: 1
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "bench.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "k.db"


def kiln(runner: CliRunner, *args: Any, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, [str(a) for a in args], env=env)


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def error_line(result: Any) -> str:
    """The one-line error of a command that failed cleanly (exit 1, 'error:' on stderr, no traceback)."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def experiments(db: Path, name: str = "bench") -> list[Any]:
    return Campaign.open(name, store=f"sqlite:///{db}").experiments()


def created(runner: CliRunner, spec: Path, db: Path) -> None:
    ok(kiln(runner, "create", spec, "--store", f"sqlite:///{db}"))


def asked(runner: CliRunner, db: Path, n: int) -> list[dict[str, Any]]:
    return json.loads(ok(kiln(runner, "ask", "bench", "-n", n, "--json", "--store", db)).stdout)


# --------------------------------------------------------------------------------------------- happy paths
def test_create_ask_tell_fail(runner: CliRunner, spec: Path, db: Path) -> None:
    result = ok(kiln(runner, "create", spec, "--store", f"sqlite:///{db}"))
    assert "created campaign bench" in result.stdout
    suggestions = asked(runner, db, 2)
    assert [s["seq"] for s in suggestions] == [1, 2]
    assert all(s["status"] == "pending" and set(s["params"]) == {"temperature", "solvent"} for s in suggestions)
    stored = experiments(db)
    assert [e.id for e in stored] == [s["id"] for s in suggestions]
    assert [dict(e.params) for e in stored] == [s["params"] for s in suggestions]

    first, second = (s["id"] for s in suggestions)
    assert first in ok(kiln(runner, "tell", "bench", first, "12.5", "--store", db)).stdout
    assert "nozzle clogged" in ok(kiln(runner, "fail", "bench", second, "nozzle clogged", "--store", db)).stdout
    by_id = {e.id: e for e in experiments(db)}
    assert by_id[first].status is ExperimentStatus.COMPLETED and by_id[first].results == {"y": 12.5}
    assert by_id[second].status is ExperimentStatus.FAILED and by_id[second].reason == "nozzle clogged"


def test_ask_prints_a_table_with_the_ids(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    result = ok(kiln(runner, "ask", "bench", "--n", 2, "--store", db))
    stored = experiments(db)
    assert len(stored) == 2
    for e in stored:
        assert e.id in result.stdout
    assert "kiln tell bench" in result.stdout


def test_import_list_show_export(runner: CliRunner, spec: Path, db: Path, tmp_path: Path) -> None:
    created(runner, spec, db)
    (pending,) = asked(runner, db, 1)
    data = tmp_path / "data.csv"
    pd.DataFrame(
        [
            {"temperature": 50.0, "solvent": "water", "y": 3.0},
            {"temperature": 150.0, "solvent": "ethanol", "y": 7.0},
            {"id": pending["id"], **pending["params"], "y": 1.0},
        ]
    ).to_csv(data, index=False)
    assert "imported 3 measurement(s) into bench" in ok(kiln(runner, "import", "bench", data, "--store", db)).stdout
    stored = experiments(db)
    assert [e.origin for e in stored] == [Origin.SUGGESTED, Origin.IMPORTED, Origin.IMPORTED]
    assert all(e.status is ExperimentStatus.COMPLETED for e in stored)

    listing = ok(kiln(runner, "list", "--store", db)).stdout
    assert "campaigns in" in listing
    row = next(line for line in listing.splitlines() if "bench" in line and "20" in line)
    assert row.split()[3:] == ["3", "3", "0", "0", "0", "0"]  # total, completed, failed, pending, retracted, discarded
    (listed,) = json.loads(ok(kiln(runner, "list", "--json", "--store", db)).stdout)
    assert {k: listed[k] for k in ("name", "experiments", "completed", "pending", "failed")} == {
        "name": "bench",
        "experiments": 3,
        "completed": 3,
        "pending": 0,
        "failed": 0,
    }

    shown = ok(kiln(runner, "show", "bench", "--store", db)).stdout
    assert "bench" in shown
    assert "experiments 3 (3 completed)" in " ".join(shown.split())
    assert "best so far" in shown and "7" in shown

    as_csv = pd.read_csv(io.StringIO(ok(kiln(runner, "export", "bench", "--store", db)).stdout))
    assert list(as_csv["id"]) == [e.id for e in stored]
    assert list(as_csv["y"]) == [1.0, 3.0, 7.0]
    assert list(as_csv["solvent"]) == [e.params["solvent"] for e in stored]
    assert list(as_csv["temperature"]) == [e.params["temperature"] for e in stored]  # exact: a full round trip

    as_json = json.loads(ok(kiln(runner, "export", "bench", "--format", "json", "--store", db)).stdout)
    assert [r["id"] for r in as_json] == [e.id for e in stored]
    assert [r["temperature"] for r in as_json] == pytest.approx([e.params["temperature"] for e in stored], rel=1e-9)
    assert [r["status"] for r in as_json] == ["completed"] * 3
    assert [r["y"] for r in as_json] == [1.0, 3.0, 7.0]


def test_json_export_keeps_full_precision(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    asked(runner, db, 3)
    as_json = json.loads(ok(kiln(runner, "export", "bench", "--format", "json", "--store", db)).stdout)
    assert [r["temperature"] for r in as_json] == [e.params["temperature"] for e in experiments(db)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_to_a_file(runner: CliRunner, spec: Path, db: Path, tmp_path: Path, fmt: str) -> None:
    created(runner, spec, db)
    asked(runner, db, 2)
    target = tmp_path / f"out.{fmt}"
    result = ok(kiln(runner, "export", "bench", "--format", fmt, "--output", target, "--store", db))
    assert result.stdout == ""
    assert "wrote 2 experiment(s)" in result.stderr
    frame = pd.read_csv(target) if fmt == "csv" else pd.DataFrame(json.loads(target.read_text()))
    assert list(frame["id"]) == [e.id for e in experiments(db)]
    assert list(frame["status"]) == ["pending", "pending"]
    assert all(math.isnan(v) if isinstance(v, float) else v is None for v in frame["y"])


def test_kiln_store_environment_variable(runner: CliRunner, spec: Path, db: Path) -> None:
    env = {"KILN_STORE": f"sqlite:///{db}"}
    ok(kiln(runner, "create", spec, env=env))
    ok(kiln(runner, "ask", "bench", "-n", 3, env=env))
    assert len(experiments(db)) == 3
    assert "bench" in ok(kiln(runner, "list", env=env)).stdout
    other = db.with_name("other.db")
    ok(kiln(runner, "create", spec, "--store", other, env=env))  # --store wins over KILN_STORE
    assert len(experiments(other)) == 0 and len(experiments(db)) == 3


def test_a_bare_file_path_is_a_sqlite_store(runner: CliRunner, spec: Path, db: Path) -> None:
    ok(kiln(runner, "create", spec, "--store", db))
    ok(kiln(runner, "ask", "bench", "--store", db))
    assert db.exists()
    assert len(experiments(db)) == 1


def test_datasets_lists_the_builtins(runner: CliRunner) -> None:
    listing = ok(kiln(runner, "datasets")).stdout
    for name in ("p3ht", "crossed-barrel", "suzuki"):
        assert name in listing
    # a dataset with several measured columns names each (an emulator reports every one)
    line = next(line for line in listing.splitlines() if line.startswith("suzuki-ii:"))
    assert "'yield' (max), 'turnover' (max)" in line


def test_run_prints_a_summary_with_the_top_five_percent(runner: CliRunner, db: Path) -> None:
    result = ok(kiln(runner, "run", EXAMPLES / "crossed-barrel.yaml", "--store", db, "--budget", 6))
    out = result.stdout
    assert "campaign crossed-barrel-demo started" in out
    assert "6 experiments: 6 completed, 0 failed" in out
    assert "best found" in out
    assert "top-5 % candidates of the dataset found:" in out
    assert "of 30 after 6 experiments" in " ".join(out.split())
    stored = experiments(db, "crossed-barrel-demo")
    assert len(stored) == 6 and len({e.candidate for e in stored}) == 6

    again = ok(kiln(runner, "run", EXAMPLES / "crossed-barrel.yaml", "--store", db, "--budget", 7))
    assert "resumed (6 experiments stored)" in again.stdout
    assert len(experiments(db, "crossed-barrel-demo")) == 7


def test_run_on_a_campaign_with_another_seed_is_a_conflict(runner: CliRunner, db: Path) -> None:
    ok(kiln(runner, "run", EXAMPLES / "crossed-barrel.yaml", "--store", db, "--budget", 2))
    line = error_line(kiln(runner, "run", EXAMPLES / "crossed-barrel.yaml", "--store", db, "--budget", 4, "--seed", 9))
    assert "different configuration" in line
    assert len(experiments(db, "crossed-barrel-demo")) == 2


# -------------------------------------------------------------------------------------------------- errors
def test_unknown_campaign_lists_the_known_ones(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    for args in (["ask", "nope"], ["tell", "nope", "exp-0000000000", "1"], ["show", "nope"], ["export", "nope"]):
        line = error_line(kiln(runner, *args, "--store", db))
        assert "'nope' not found" in line and "known campaigns: bench" in line
    assert experiments(db) == []


@pytest.mark.parametrize(
    ("value", "words"),
    [("nan", "result 'y': got nan"), ("inf", "result 'y'"), ("-inf", "result 'y'"), ("high", "result 'y': got 'high'")],
)
def test_tell_a_bad_value_changes_nothing(runner: CliRunner, spec: Path, db: Path, value: str, words: str) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    before = experiments(db)
    line = error_line(kiln(runner, "tell", "bench", "--store", db, "--", suggestion["id"], value))
    assert words in line
    assert experiments(db) == before


def test_tell_a_negative_value(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    ok(kiln(runner, "tell", "bench", suggestion["id"], "-1.5", "--store", db))
    assert experiments(db)[0].results == {"y": -1.5}


def test_tell_a_negative_value_after_double_dash(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    ok(kiln(runner, "tell", "bench", "--store", db, "--", suggestion["id"], "-1.5"))
    assert experiments(db)[0].results == {"y": -1.5}


def test_tell_keeps_outputs_and_a_note_and_export_shows_them(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    args = ["tell", "bench", suggestion["id"], "-1.5", "--output", "purity=0.93", "--output", "operator=Ana"]
    args += ["--output", "peaks=[410, 520.5]", "--output", "lot=007", "--note", "film cracked; Überprüfung"]
    ok(kiln(runner, *args, "--store", db))
    (stored,) = experiments(db)
    assert stored.results == {"y": -1.5} and stored.note == "film cracked; Überprüfung"
    assert stored.outputs == {"purity": 0.93, "operator": "Ana", "peaks": [410, 520.5], "lot": "007"}
    row = pd.read_csv(io.StringIO(ok(kiln(runner, "export", "bench", "--store", db)).stdout)).iloc[0]
    assert row["note"] == "film cracked; Überprüfung" and row["purity"] == 0.93 and row["operator"] == "Ana"
    assert json.loads(row["peaks"]) == [410, 520.5]
    (record,) = json.loads(ok(kiln(runner, "export", "bench", "--format", "json", "--store", db)).stdout)
    assert record["peaks"] == [410, 520.5] and record["note"] == stored.note and record["lot"] == "007"


@pytest.mark.parametrize("bad", ["purity", "=1", "a=1 --output a=2"])
def test_tell_a_bad_output_changes_nothing(runner: CliRunner, spec: Path, db: Path, bad: str) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    outputs = [part for item in bad.split(" --output ") for part in ("--output", item)]
    line = error_line(kiln(runner, "tell", "bench", suggestion["id"], "1", *outputs, "--store", db))
    assert line.startswith("error: --output")
    assert experiments(db)[0].status is ExperimentStatus.PENDING


def test_an_export_imports_back_with_its_rows_skipped(runner: CliRunner, spec: Path, db: Path, tmp_path: Path) -> None:
    created(runner, spec, db)
    first, second = asked(runner, db, 2)
    ok(kiln(runner, "tell", "bench", first["id"], "3", "--note", "ok", "--store", db))
    exported = tmp_path / "export.csv"
    ok(kiln(runner, "export", "bench", "--output", exported, "--store", db))
    before = experiments(db)
    result = ok(kiln(runner, "import", "bench", exported, "--store", db)).stdout
    assert "imported 0 measurement(s) into bench; 2 row(s) skipped" in result
    assert experiments(db) == before
    results = tmp_path / "results.csv"
    results.write_text(f"id,y\n{second['id']},4.5\n")
    assert "imported 1 measurement(s)" in ok(kiln(runner, "import", "bench", results, "--store", db)).stdout
    assert experiments(db)[1].results == {"y": 4.5}


def test_tell_unknown_id_and_twice(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    line = error_line(kiln(runner, "tell", "bench", "exp-0000000000", "1", "--store", db))
    assert "exp-0000000000" in line and "not found" in line
    ok(kiln(runner, "tell", "bench", suggestion["id"], "1", "--store", db))
    before = experiments(db)
    line = error_line(kiln(runner, "tell", "bench", suggestion["id"], "2", "--store", db))
    assert "already completed" in line
    line = error_line(kiln(runner, "fail", "bench", suggestion["id"], "oops", "--store", db))
    assert "already completed" in line
    assert experiments(db) == before


def test_fail_with_an_empty_reason(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    assert error_line(kiln(runner, "fail", "bench", suggestion["id"], " ", "--store", db)).startswith("error: reason")
    assert experiments(db)[0].status is ExperimentStatus.PENDING


@pytest.mark.parametrize("n", [0, -2, 5000])
def test_ask_a_bad_count(runner: CliRunner, spec: Path, db: Path, n: int) -> None:
    created(runner, spec, db)
    assert error_line(kiln(runner, "ask", "bench", "-n", n, "--store", db)).startswith("error: n: got")
    assert experiments(db) == []


def test_import_a_bad_table_adds_nothing(runner: CliRunner, spec: Path, db: Path, tmp_path: Path) -> None:
    created(runner, spec, db)
    data = tmp_path / "bad.csv"
    data.write_text("temperature,solvent,y\n50,water,1\n500,water,2\n")
    line = error_line(kiln(runner, "import", "bench", data, "--store", db))
    assert line.startswith("error: row 2: parameter 'temperature': got 500;")
    line = error_line(kiln(runner, "import", "bench", tmp_path / "absent.csv", "--store", db))
    assert line.startswith("error: file")
    assert experiments(db) == []


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("objective: {target: y}\nspace: {parameters: [{name: x, type: continuous, low: 0, high: 1}]}\n", "name"),
        ("name: a\nobjective: {target: y}\n", "space/pool"),
        ("name: a\nobjective: {target: y}\npool: {dataset: nope}\n", "pool.dataset"),
        ("name: a\nobjective: {target: y}\npool: {dataset: p3ht}\nbudget: 0\n", "budget"),
        ("name: a\nobjective: {target: y}\npool: {dataset: p3ht}\ncolour: red\n", "spec"),
    ],
)
def test_create_from_a_malformed_spec(runner: CliRunner, db: Path, tmp_path: Path, text: str, field: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    line = error_line(kiln(runner, "create", path, "--store", db))
    assert line.startswith(f"error: {field}: got ")
    ok_list = ok(kiln(runner, "list", "--store", db)).stdout
    assert "no campaigns" in ok_list


def test_create_twice_is_an_error(runner: CliRunner, spec: Path, db: Path) -> None:
    created(runner, spec, db)
    line = error_line(kiln(runner, "create", spec, "--store", db))
    assert "bench" in line


def test_run_a_spec_without_instrument(runner: CliRunner, spec: Path, db: Path) -> None:
    line = error_line(kiln(runner, "run", spec, "--store", db))
    assert line.startswith("error: instrument")
    assert "no campaigns" in ok(kiln(runner, "list", "--store", db)).stdout


@pytest.mark.parametrize("value", ["[/x]", "[bold]"])
def test_an_error_quoting_user_text_with_brackets_is_printed_verbatim(
    runner: CliRunner, spec: Path, db: Path, value: str
) -> None:
    created(runner, spec, db)
    (suggestion,) = asked(runner, db, 1)
    line = error_line(kiln(runner, "tell", "bench", suggestion["id"], value, "--store", db))
    assert value in line


def test_bad_yaml_is_a_one_line_error(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [a\n")
    assert error_line(kiln(runner, "create", path, "--store", db)).startswith("error: spec: got ")


def test_run_with_a_non_numeric_noise_is_a_clean_error(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = tmp_path / "noisy.yaml"
    path.write_text(
        (EXAMPLES / "p3ht.yaml").read_text().replace("dataset: p3ht\npool", "dataset: p3ht\n  noise: abc\npool")
    )
    assert "noise: abc" in path.read_text()
    line = error_line(kiln(runner, "run", path, "--store", db))
    assert "noise" in line


def test_export_to_an_unwritable_path_is_a_clean_error(runner: CliRunner, spec: Path, db: Path, tmp_path: Path) -> None:
    created(runner, spec, db)
    line = error_line(kiln(runner, "export", "bench", "--output", tmp_path / "absent" / "out.csv", "--store", db))
    assert "--output" in line or "out.csv" in line


def test_a_mistyped_store_is_not_created(runner: CliRunner, tmp_path: Path) -> None:
    typo = tmp_path / "typo.db"
    line = error_line(kiln(runner, "show", "bench", "--store", typo))
    assert "bench" in line
    assert not typo.exists()


def test_show_lists_experiments_in_flight_and_those_waiting_for_an_operator(
    runner: CliRunner, spec: Path, db: Path
) -> None:
    created(runner, spec, db)
    first, second, _ = asked(runner, db, 3)
    campaign = Campaign.open("bench", store=f"sqlite:///{db}")
    campaign.store.dispatch("bench", first["id"], "robot", "job-1")
    campaign.store.dispatch("bench", second["id"], "robot")
    campaign.store.flag("bench", second["id"], "was being sent when the loop stopped")
    shown = ok(kiln(runner, "show", "bench", "--store", db)).stdout
    assert "in flight 1 (robot)" in " ".join(shown.split())
    assert "1 need an operator" in shown and second["id"] in shown and "was being sent" in shown
    ok(kiln(runner, "tell", "bench", second["id"], "2.5", "--store", db))  # the operator resolves it
    assert "need an operator" not in ok(kiln(runner, "show", "bench", "--store", db)).stdout


def test_a_campaign_named_in_unicode_works_in_every_command(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    name = "Überprüfung-α"
    path = tmp_path / "unicode.yaml"
    path.write_text(SPEC.replace("name: bench", f"name: {name}"), encoding="utf-8")
    assert f"created campaign {name}" in ok(kiln(runner, "create", path, "--store", db)).stdout
    (suggestion,) = json.loads(ok(kiln(runner, "ask", name, "--json", "--store", db)).stdout)
    ok(kiln(runner, "tell", name, suggestion["id"], "2.5", "--store", db))
    assert name in ok(kiln(runner, "list", "--store", db)).stdout
    assert "1 completed" in ok(kiln(runner, "show", name, "--store", db)).stdout
    exported = pd.read_csv(io.StringIO(ok(kiln(runner, "export", name, "--store", db)).stdout))
    assert list(exported["y"]) == [2.5]
    assert Campaign.open(name, store=f"sqlite:///{db}").experiments()[0].results == {"y": 2.5}
    line = error_line(kiln(runner, "show", "Überprüfung-β", "--store", db))
    assert "did you mean 'Überprüfung-α'" in line


UNITS_SPEC = """\
name: pipettes
space:
  parameters:
    - {name: temperature, type: continuous, low: 20, high: 200, unit: °C, precision: 0.1}
  compositions:
    - {name: mix, parts: [A, B], total: 10, unit: µL, step: 0.5}
objective: {target: y, direction: max, unit: S/cm}
strategy: {kind: random}
"""


def test_units_head_the_tables_and_suggestions_are_rounded(runner: CliRunner, tmp_path: Path, db: Path) -> None:
    path = tmp_path / "units.yaml"
    path.write_text(UNITS_SPEC, encoding="utf-8")
    ok(kiln(runner, "create", path, "--store", db))
    table = ok(kiln(runner, "ask", "pipettes", "-n", 3, "--store", db)).stdout
    assert "temperature [°C]" in table and "A [µL]" in table and "B [µL]" in table
    for e in experiments(db, "pipettes"):
        assert round(e.params["temperature"] * 10) == pytest.approx(e.params["temperature"] * 10, abs=1e-9)
        assert round(e.params["A"] * 2) == pytest.approx(e.params["A"] * 2, abs=1e-9)
        assert e.params["A"] + e.params["B"] == pytest.approx(10.0, abs=1e-12)
        assert len(repr(e.params["temperature"]).split(".")[-1]) == 1
    first = experiments(db, "pipettes")[0]
    ok(kiln(runner, "tell", "pipettes", first.id, "1.5", "--store", db))
    shown = ok(kiln(runner, "show", "pipettes", "--store", db)).stdout
    assert "temperature [°C]" in shown and "A [µL]" in shown and "y [S/cm]" in shown
    assert "temperature from 20 to 200 °C in steps of 0.1" in " ".join(shown.split())
    assert "A + B = 10 µL in steps of 0.5" in " ".join(shown.split())
    header = ok(kiln(runner, "export", "pipettes", "--store", db)).stdout.splitlines()[0]
    assert ",temperature,A,B,y," in header  # exports keep the bare names, so they import back
