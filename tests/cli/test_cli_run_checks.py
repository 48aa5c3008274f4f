"""kiln run checks a spec against its instrument before it stores anything; database errors are one line."""

from __future__ import annotations

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
