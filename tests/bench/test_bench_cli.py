"""``kiln bench pool`` end to end on a small synthetic CSV: summary, JSON results, plot, determinism, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kiln.cli.app import app


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    """60 rows: 2 numeric inputs and a text input; the last 6 rows repeat earlier inputs (54 candidates)."""
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 1, 54), rng.integers(1, 5, 54)
    solvent = np.array(["water", "ethanol", "toluene"])[np.arange(54) % 3]
    frame = pd.DataFrame({"a": a, "b": b, "solvent": solvent})
    frame = pd.concat([frame, frame.iloc[:6]], ignore_index=True)
    frame["y"] = (
        -((frame["a"] - 0.7) ** 2) + 0.1 * frame["b"] + (frame["solvent"] == "ethanol") + rng.normal(0, 0.01, 60)
    )
    path = tmp_path / "pool.csv"
    frame.to_csv(path, index=False)
    return path


def kiln(*args: Any) -> Any:
    return CliRunner().invoke(app, ["bench", "pool", *(str(a) for a in args)])


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def error_line(result: Any) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_pool_command_end_to_end(csv: Path, tmp_path: Path) -> None:
    common = ["--data", csv, "--target", "y", "--direction", "max", "--runs", 2, "--budget", 8, "--seed", 3]
    common += ["--strategy", "kiln", "--strategy", "random"]
    first = ok(kiln(*common, "--jobs", 1, "--out", tmp_path / "one.json", "--plot", tmp_path / "one.html"))
    assert "kiln" in first.stdout and "random" in first.stdout and "Top% 0.8" in first.stdout
    assert "90 % bootstrap interval" in first.stdout and "best 1 %" in first.stdout
    assert "N = 54 candidates (60 rows)" in first.stderr
    assert "runs: 2/4 done after" in first.stderr and "runs: 4/4 done after" in first.stderr  # not a terminal

    results = json.loads((tmp_path / "one.json").read_text())
    assert results["dataset"] | {"threshold": None} == {
        "name": "pool",
        "file": str(csv),
        "rows": 60,
        "N": 54,
        "top_size": 3,
        "threshold": None,
        "target": "y",
        "direction": "max",
        "inputs": ["a", "b", "solvent"],
        "encodings": {"solvent": "one-hot: 3 columns (auto: not all molecules or formulas)"},
    }
    assert results["settings"] == {
        "runs": 2,
        "initial": 2,
        "budget": 8,
        "seed": 3,
        "in_flight": 1,
        "top_fraction": 0.05,
    }
    assert list(results["strategies"]) == ["kiln", "random"]
    kiln_runs, random_runs = (results["strategies"][n]["runs"] for n in ("kiln", "random"))
    for mine, theirs in zip(kiln_runs, random_runs, strict=True):
        assert mine["initial"] == theirs["initial"] and mine["seed"] == theirs["seed"]
        assert len(mine["found"]) == 8 and len(mine["chosen"]) == 6
    block = results["strategies"]["kiln"]
    assert block["config"] == {"kind": "default"}
    assert all(v is None or 1 <= v <= 8 for v in block["cycles_to_top"].values())
    assert block["af_at_0.8"] is None or block["af_at_0.8"] > 0
    assert set(block["cycles_to_top_interval"]) == {"0.5", "0.8", "1.0"}
    for low, high in [*block["cycles_to_top_interval"].values(), block["cycles_to_best_1pct_interval"]]:
        assert low is None or high is None or low <= high
    assert "seed_by_seed" not in block  # the first strategy is the one the others are compared with
    versus = results["strategies"]["random"]["seed_by_seed"]
    assert versus["against"] == "kiln" and versus["metric"] == "top_0.5" and 0 < versus["p_value"] <= 1
    assert versus["fewer"] + versus["more"] + versus["same"] == 2 and "seed by seed against kiln" in first.stdout
    best = block["cycles_to_best_1pct"]
    low, high = block["cycles_to_best_1pct_interval"]
    assert best is None or (low is not None and low <= best and (high is None or best <= high))

    page = (tmp_path / "one.html").read_text()
    assert "<html>" in page[:100] and "kiln" in page and "random baseline" in page and "Top%" in page
    assert len(page) > 1_000_000  # plotly.js is inlined: the page opens offline

    # Same command, same results: also with two processes instead of one.
    ok(kiln(*common, "--jobs", 2, "--out", tmp_path / "two.json"))
    assert (tmp_path / "two.json").read_text() == (tmp_path / "one.json").read_text()


def test_builtin_dataset_and_minimisation(csv: Path, tmp_path: Path) -> None:
    ok(
        kiln(
            "--dataset",
            "p3ht",
            "-s",  # as kiln bench latency takes it
            "random",
            "--runs",
            2,
            "--budget",
            5,
            "--jobs",
            1,
            "--out",
            tmp_path / "p.json",
        )
    )
    results = json.loads((tmp_path / "p.json").read_text())
    assert results["dataset"]["N"] == 178 and results["dataset"]["top_size"] == 9
    ok(
        kiln(
            "--data",
            csv,
            "--target",
            "y",
            "--direction",
            "min",
            "--inputs",
            "a",
            "--inputs",
            "solvent",
            "--strategy",
            '{"kind": "sobol"}',
            "--runs",
            1,
            "--budget",
            4,
            "--jobs",
            1,
            "--out",
            tmp_path / "m.json",
        )
    )
    results = json.loads((tmp_path / "m.json").read_text())
    assert results["dataset"]["inputs"] == ["a", "solvent"] and results["dataset"]["N"] <= 54
    assert list(results["strategies"]) == ['{"kind":"sobol"}']


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--data", "missing.csv", "--target", "y", "--direction", "max"], "--data"),
        (["--target", "y", "--direction", "max"], "--data"),
        (["--dataset", "p3ht", "--data", "CSV"], "--data"),
        (["--dataset", "nope"], "--dataset"),
        (["--data", "CSV", "--target", "nope", "--direction", "max"], "--target"),
        (["--data", "CSV", "--target", "solvent", "--direction", "max"], "--target"),
        (["--data", "CSV", "--direction", "max"], "--target"),
        (["--data", "CSV", "--target", "y"], "--direction"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--inputs", "zz"], "--inputs"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--runs", "0"], "--runs"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--budget", "0"], "--budget"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--initial", "0"], "--initial"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--initial", "54"], "--initial"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--strategy", "gp-magic"], "--strategy"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--strategy", '{"kind": "nope"}'], "--strategy"),
        (["--data", "CSV", "--target", "y", "--direction", "max", "--out", "no/such/dir/r.json"], "--out"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(csv: Path, args: list[str], field: str) -> None:
    line = error_line(kiln(*(str(csv) if a == "CSV" else a for a in args)))
    assert line.startswith(f"error: {field}"), line


def test_strategies_are_listed_and_help_is_light() -> None:
    listing = CliRunner().invoke(app, ["bench", "strategies"])
    assert listing.exit_code == 0 and "gp-ard-ei" in listing.stdout and "kiln" in listing.stdout
    code = (
        "import sys\nsys.argv = ['kiln', 'bench', 'pool', '--help']\nfrom kiln.cli.app import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'pandas', 'plotly') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "--dataset" in result.stdout and result.stdout.strip().endswith("[]"), result.stdout + result.stderr


def test_pool_command_encodes_smiles_columns_as_asked(tmp_path: Path) -> None:
    """--encoding applies to every text column: SMILES columns become descriptors (auto) or fingerprints, and the
    results file says how each column was seen; a column that is not a molecule is refused for descriptors."""
    solvents = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "Cc1ccccc1", "CC#N"]
    frame = pd.DataFrame({"solvent": solvents * 2, "T": [20.0] * 6 + [40.0] * 6})
    frame["y"] = np.arange(12, dtype=float)
    frame.to_csv(tmp_path / "mol.csv", index=False)
    common = ["--data", tmp_path / "mol.csv", "--target", "y", "--direction", "max", "--runs", 1, "--budget", 4]
    common += ["--strategy", "random", "--jobs", 1]
    for encoding, kind in (("auto", "descriptors, chosen by auto"), ("fingerprints", "fingerprints")):
        shown = ok(kiln(*common, "--encoding", encoding, "--out", tmp_path / f"{encoding}.json"))
        assert f"solvent: {kind}" in shown.stderr
        encodings = json.loads((tmp_path / f"{encoding}.json").read_text())["dataset"]["encodings"]
        assert encodings["solvent"].startswith(kind)
    frame.assign(solvent=["water", *solvents[1:], *solvents]).to_csv(tmp_path / "bad.csv", index=False)
    bad = kiln(*common[:1], tmp_path / "bad.csv", *common[2:], "--encoding", "descriptors")
    assert bad.exit_code != 0 and "--encoding" in bad.stderr and "water" in bad.stderr
