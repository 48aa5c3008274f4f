"""kiln run checks a spec against its instrument before it stores anything; database errors are one line."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from kiln.cli.app import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _spec(tmp_path: Path, old: str, new: str) -> Path:
    text = (EXAMPLES / "p3ht.yaml").read_text()
    assert old in text
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_a_target_the_emulator_does_not_measure_stores_nothing(tmp_path: Path) -> None:
    spec = _spec(tmp_path, 'target: "Conductivity (measured) (S/cm)"', "target: conductivity")
    db = tmp_path / "k.db"
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(db), "--budget", "3"])
    assert result.exit_code == 1
    assert "objective: target" in result.stderr and "Conductivity (measured) (S/cm)" in result.stderr
    assert not db.exists()


def test_a_pool_of_another_dataset_stores_nothing(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "pool:\n  dataset: p3ht", "pool:\n  dataset: crossed-barrel")
    db = tmp_path / "k.db"
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(db), "--budget", "3"])
    assert result.exit_code == 1
    assert "space/pool" in result.stderr
    assert not db.exists()


def test_minimising_reports_the_lowest_five_percent(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "direction: max", "direction: min")
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(tmp_path / "k.db"), "--budget", "12"])
    assert result.exit_code == 0, result.stderr
    assert "top-5 % candidates of the dataset found" in result.stdout
    # the lowest conductivities are found quickly when minimising; the highest ones would not be
    found = int(result.stdout.split("found: ")[1].split(" of ")[0])
    assert found >= 1


def test_a_file_that_is_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("not a database")
    result = CliRunner().invoke(app, ["list", "--store", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: store: the database could not be used")
    assert len(result.stderr.strip().splitlines()) == 1
    assert bad.read_text() == "not a database"


SUZUKI_II = """\
name: two
pool: {dataset: suzuki-ii}
objective:
OBJECTIVE
strategy: {kind: random}
instrument: {kind: emulator, dataset: suzuki-ii}
seed: 0
"""


def _suzuki_ii(tmp_path: Path, objective: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SUZUKI_II.replace("OBJECTIVE", objective))
    return path


def test_a_constrained_quantity_the_emulator_does_not_measure_stores_nothing(tmp_path: Path) -> None:
    spec = _suzuki_ii(tmp_path, "  targets: [{name: yield, direction: max}]\n  constraints: ['stability >= 0.9']")
    db = tmp_path / "k.db"
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(db), "--budget", "2"])
    assert result.exit_code == 1
    assert "objective: target" in result.stderr and "stability" in result.stderr and "turnover" in result.stderr
    assert not db.exists()


def test_a_scalarised_run_ends_with_its_best_result(tmp_path: Path) -> None:
    spec = _suzuki_ii(
        tmp_path,
        "  targets: [{name: yield, direction: max}, {name: turnover, direction: max}]\n  scalarisation: desirability",
    )
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(tmp_path / "k.db"), "--budget", "3"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "best found" in result.stdout and "error" not in result.stderr
    assert "top-5 %" not in result.stdout  # one column's top 5 % says nothing of a trade-off
    last = result.stdout.splitlines()[
        [i for i, line in enumerate(result.stdout.splitlines()) if "3/3 done" in line][-1]
    ]
    assert re.search(r"best yield=[0-9.]+ turnover=[0-9.]+,", last), last  # the progress names both targets


def test_a_window_target_reports_no_top_five_percent(tmp_path: Path) -> None:
    spec = _suzuki_ii(tmp_path, "  targets: [{name: yield, target: [20, 60]}]")
    result = CliRunner().invoke(app, ["run", str(spec), "--store", str(tmp_path / "k.db"), "--budget", "3"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert "best found" in result.stdout and "top-5 %" not in result.stdout


def _top_found(stdout: str) -> int:
    return int(stdout.split("top-5 % candidates of the dataset found: ")[1].split(" of ")[0])


def test_the_top_five_percent_ranks_by_the_campaigns_target_within_its_constraints(tmp_path: Path) -> None:
    """turnover is the emulator's second column; the top 5 % are the pool's highest turnovers among the rows whose
    yield keeps the constraint, and the count found is checked against the stored experiments."""
    from kiln import Campaign
    from kiln.lab.emulator import DatasetEmulator

    spec = _suzuki_ii(tmp_path, "  targets: [{name: turnover, direction: max}]\n  constraints: ['yield >= 10']")
    db = f"sqlite:///{tmp_path / 'k.db'}"
    result = CliRunner().invoke(app, ["run", str(spec), "--store", db, "--budget", "30"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    emulator = DatasetEmulator.builtin("suzuki-ii")
    turnover, yields = emulator.measured["turnover"], emulator.measured["yield"]
    allowed = sorted((k for k in range(len(turnover)) if yields[k] >= 10), key=lambda k: -turnover[k])
    top = set(allowed[: -(-len(allowed) // 20)])
    found = {emulator.pool.key_of(e.params) for e in Campaign.open("two", store=db).experiments()} & top
    assert f"found: {len(found)} of {len(top)} " in result.stdout, result.stdout
