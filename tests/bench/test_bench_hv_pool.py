"""``kiln bench pool`` with several targets and outcome constraints: the HV% problem, runs, results and errors."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kiln.bench.hv_backtest import HVProblem, parse_constraint, run_hv_trajectory
from kiln.bench.metrics import hypervolume
from kiln.bench.registry import resolve_strategies
from kiln.bench.runner import BenchSettings, hv_results_json, load_hv_problem, run_bench
from kiln.cli.app import app
from kiln.core.errors import ValidationError
from kiln.objective import OutcomeConstraint


def two_objective_frame() -> pd.DataFrame:
    """40 candidates (x in 0..39, a text column) with two conflicting targets, a cost, and 4 replicate rows."""
    x = np.arange(40, dtype=float)
    frame = pd.DataFrame(
        {
            "x": x,
            "kind": np.array(["a", "b"])[np.arange(40) % 2],
            "up": x + 0.5 * (np.arange(40) % 2),
            "down": x**1.5 / 10,
            "cost": (x % 7).astype(float),
        }
    )
    replicates = frame.iloc[:4].copy()
    replicates["up"] += 2.0
    return pd.concat([frame, replicates], ignore_index=True)


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "pareto.csv"
    two_objective_frame().to_csv(path, index=False)
    return path


def test_problem_orients_targets_and_measures_the_feasible_front() -> None:
    frame = two_objective_frame()
    problem = HVProblem.from_frame(frame, ["x", "kind"], ["up", "down"], ["max", "min"])
    assert problem.size == 40 and problem.values["up"][0] == pytest.approx(1.0)  # mean of 0 and 2
    assert problem.scores[5].tolist() == pytest.approx([problem.values["up"][5], -problem.values["down"][5]])
    assert problem.reference.tolist() == pytest.approx(problem.scores.min(axis=0).tolist())
    assert problem.objective.names == ["up", "down"] and problem.objective.is_multi
    # both grow with x: maximising "up" while minimising "down" is a trade-off, every candidate on the front
    assert problem.total == pytest.approx(hypervolume(problem.scores, problem.reference))
    assert len(problem.pareto()) > 30

    bounded = HVProblem.from_frame(frame, ["x", "kind"], ["up", "down"], ["max", "min"], [parse_constraint("cost<=3")])
    assert bounded.feasible.tolist() == (bounded.values["cost"] <= 3).tolist()
    assert bounded.objective.constraints == (OutcomeConstraint("cost", "<=", 3.0),)
    assert bounded.total < problem.total and set(bounded.pareto()) <= set(np.flatnonzero(bounded.feasible))
    assert bounded.results(3) == {"up": pytest.approx(4.5), "down": problem.values["down"][3], "cost": 3.0}


def test_a_run_records_hv_percent_of_what_it_measured() -> None:
    problem = HVProblem.from_frame(two_objective_frame(), ["x", "kind"], ["up", "down"], ["max", "min"])
    run = run_hv_trajectory(problem, "random", seed=7, budget=40)
    keys = [*run.initial, *run.chosen]
    assert sorted(keys) == list(range(40)) and len(run.hv_percent) == 40
    assert run.hv_percent[-1] == pytest.approx(1.0) and np.all(np.diff(run.hv_percent) >= 0)
    prefix = hypervolume(problem.scores[keys[:10]], problem.reference) / problem.total
    assert run.hv_percent[9] == pytest.approx(prefix)
    again = run_hv_trajectory(problem, "random", seed=7, budget=40)
    assert again == run


def test_constraint_text() -> None:
    assert parse_constraint("cost<=3") == OutcomeConstraint("cost", "<=", 3.0)
    assert parse_constraint(" turnover >= 1e1 ") == OutcomeConstraint("turnover", ">=", 10.0)
    for bad in ("cost<3", "cost>=", ">=3", "cost>=nan", "cost == 3"):
        with pytest.raises(ValidationError) as error:
            parse_constraint(bad)
        assert error.value.field == "--constraint"


def kiln(*args: Any) -> Any:
    return CliRunner().invoke(app, ["bench", "pool", *(str(a) for a in args)])


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def test_command_with_two_targets_and_a_constraint(csv: Path, tmp_path: Path) -> None:
    common = ["--data", csv, "--target", "up", "--direction", "max", "--target", "down", "--direction", "min"]
    common += ["--constraint", "cost<=4", "--inputs", "x", "--inputs", "kind", "--runs", 3, "--budget", 12]
    common += ["--strategy", "random", "--strategy", "sobol", "--seed", 2]
    first = ok(kiln(*common, "--jobs", 1, "--out", tmp_path / "one.json", "--plot", tmp_path / "one.html"))
    assert "HV% 0.95" in first.stdout and "bootstrap interval" in first.stdout and "random" in first.stdout
    assert "targets max up, min down, constraints cost <= 4" in first.stderr
    results = json.loads((tmp_path / "one.json").read_text())
    assert results["metric"] == "hypervolume"
    dataset = results["dataset"]
    assert dataset["targets"] == ["up", "down"] and dataset["directions"] == ["max", "min"]
    assert dataset["constraints"] == ["cost <= 4"] and dataset["N"] == 40 and dataset["rows"] == 44
    assert dataset["reference"]["down"] == pytest.approx(39**1.5 / 10)  # the worst (largest) of a minimised one
    assert dataset["feasible"] == sum(1 for x in range(40) if x % 7 <= 4)
    assert results["settings"]["hv_levels"] == [0.9, 0.95, 0.99] and results["settings"]["budget"] == 12
    for name in ("random", "sobol"):
        block = results["strategies"][name]
        assert set(block["cycles_to_hv"]) == {"0.9", "0.95", "0.99"}
        assert all(v is None or 1 <= v <= 12 for v in block["cycles_to_hv"].values())
        for level, median in block["cycles_to_hv"].items():  # the bootstrap interval holds the median
            low, high = block["cycles_to_hv_interval"][level]
            assert (low is None and median is None) or (low <= (math.inf if median is None else median))
            assert (high is None) or (median is not None and median <= high)
        assert len(block["runs"]) == 3 and all(len(r["hv_percent"]) == 12 for r in block["runs"])
        curves = np.array([r["hv_percent"] for r in block["runs"]])
        assert block["hv_percent"]["median"] == pytest.approx(np.median(curves, axis=0).tolist())
        assert set(block["hv_percent"]) == {"median", "p25", "p75"}
    versus = results["strategies"]["sobol"]["seed_by_seed"]
    per_run = {  # seed -> cycles to 95 % HV, None never
        name: [next((i + 1 for i, h in enumerate(r["hv_percent"]) if h >= 0.95 - 1e-9), None) for r in block["runs"]]
        for name, block in results["strategies"].items()
    }
    fewer = sum(
        (math.inf if s is None else s) < (math.inf if r is None else r)
        for s, r in zip(per_run["sobol"], per_run["random"], strict=True)
    )
    assert versus["against"] == "random" and versus["metric"] == "hv_0.95" and versus["fewer"] == fewer
    assert (
        versus["fewer"] + versus["more"] + versus["same"] == 3 and "seed_by_seed" not in results["strategies"]["random"]
    )
    same = [(r["seed"], r["initial"]) for r in results["strategies"]["random"]["runs"]]
    assert same == [(r["seed"], r["initial"]) for r in results["strategies"]["sobol"]["runs"]]
    page = (tmp_path / "one.html").read_text()
    assert "HV%" in page and "quartiles" in page

    ok(kiln(*common, "--jobs", 2, "--out", tmp_path / "two.json"))
    assert (tmp_path / "two.json").read_text() == (tmp_path / "one.json").read_text()


def test_a_builtin_two_objective_dataset_needs_no_targets(tmp_path: Path) -> None:
    ok(kiln("--dataset", "suzuki-ii", "--strategy", "random", "--runs", 1, "--budget", 6, "--out", tmp_path / "s.json"))
    results = json.loads((tmp_path / "s.json").read_text())
    assert results["dataset"]["targets"] == ["yield", "turnover"] and results["dataset"]["N"] == 75
    assert results["dataset"]["inputs"] == ["ligand", "res_time", "temperature", "catalyst_loading"]
    # one target of it: today's Top% benchmark, unchanged
    ok(kiln("--dataset", "suzuki-ii", "--target", "yield", "--strategy", "random", "--runs", 1, "--budget", 6))


def test_one_target_with_a_constraint_is_measured_by_hv() -> None:
    problem, meta = load_hv_problem(
        dataset="suzuki-b1", targets=["objective_conversion"], constraints=["objective_selectivity>=50"]
    )
    assert problem.targets == ("objective_conversion",) and problem.directions == ("max",)  # the dataset's
    selectivity = problem.values["objective_selectivity"]
    assert problem.feasible.tolist() == (selectivity >= 50).tolist()
    best = problem.values["objective_conversion"][problem.feasible].max()
    assert problem.total == pytest.approx(best - problem.values["objective_conversion"].min())
    assert meta.inputs == ("ligand", "base", "solvent", "ligand_equivalent")


def error_line(result: Any) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


TWO = ["--target", "up", "--target", "down"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ([*TWO, "--direction", "max"], "--direction"),
        (TWO, "--direction"),
        ([*TWO, "--direction", "max", "--direction", "min", "--constraint", "cost<3"], "--constraint"),
        ([*TWO, "--direction", "max", "--direction", "min", "--constraint", "nope>=1"], "--constraint"),
        ([*TWO, "--direction", "max", "--direction", "min", "--constraint", "kind>=1"], "--constraint"),
        ([*TWO, "--direction", "max", "--direction", "min", "--constraint", "up>=1"], "--constraint"),
        ([*TWO, "--direction", "max", "--direction", "min", "--constraint", "cost>=99"], "--constraint"),
        (["--target", "up", "--target", "up", "--direction", "max", "--direction", "max"], "--target"),
        (["--target", "up", "--target", "nope", "--direction", "max", "--direction", "max"], "--target"),
        (["--target", "up", "--direction", "max", "--direction", "min"], "--direction"),
        ([*TWO, "--direction", "max", "--direction", "min", "--inputs", "up"], "--inputs"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(csv: Path, args: list[str], field: str) -> None:
    line = error_line(kiln("--data", csv, "--runs", 1, *args))
    assert line.startswith(f"error: {field}"), line


def test_bench_settings_object() -> None:
    problem = HVProblem.from_frame(two_objective_frame(), ["x", "kind"], ["up", "down"], ["max", "min"])
    entries = resolve_strategies(["random"])
    settings = BenchSettings(runs=2, initial=2, budget=5, seed=1, jobs=1)
    runs = run_bench(problem, entries, settings)
    from kiln.bench.runner import DatasetMeta

    meta = DatasetMeta("t", None, 44, "up, down", "max, min", ("x", "kind"))
    results = hv_results_json(problem, meta, settings, entries, runs)
    assert [r["hv_percent"] for r in results["strategies"]["random"]["runs"]] == [
        list(t.hv_percent) for t in runs["random"]
    ]


@pytest.mark.parametrize("constrained", [False, True], ids=["two-targets", "with-constraint"])
def test_kilns_default_runs_on_several_targets(constrained: bool) -> None:
    bounds = [parse_constraint("cost<=4")] if constrained else []
    problem = HVProblem.from_frame(two_objective_frame(), ["x", "kind"], ["up", "down"], ["max", "min"], bounds)
    run = run_hv_trajectory(problem, "default", seed=4, budget=8)
    assert len(set([*run.initial, *run.chosen])) == 8 and 0 <= run.hv_percent[-1] <= 1
