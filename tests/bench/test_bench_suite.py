"""``kiln bench suite``: the suite file, results saved per run and skipped when done, equality with ``kiln bench
pool``'s runs, the summary files and bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from kiln.bench.registry import resolve_strategies
from kiln.bench.runner import BenchRunError, check_settings, load_problem, run_bench
from kiln.bench.suite import SuiteProgress, run_suite
from kiln.bench.suite_spec import load_suite, parse_suite
from kiln.cli.app import app
from kiln.core.errors import SpecError, ValidationError
from kiln.strategies.simple import RandomStrategy


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    """48 candidates on a 2-D grid with a smooth target peaked at (0.7, 0.3)."""
    grid = [(a, b) for a in np.linspace(0, 1, 8) for b in np.linspace(0, 1, 6)]
    frame = pd.DataFrame(grid, columns=["a", "b"])
    frame["y"] = -((frame["a"] - 0.7) ** 2) - (frame["b"] - 0.3) ** 2
    path = tmp_path / "data" / "grid.csv"
    path.parent.mkdir()
    frame.to_csv(path, index=False)
    return path


def write_suite(folder: Path, body: dict[str, Any]) -> Path:
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def small_suite(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "runs": 2,
        "budget": 5,
        "seed": 4,
        "strategies": ["random", "gp-iso-ucb"],
        "datasets": [
            {"name": "grid", "csv": "data/grid.csv", "target": "y", "direction": "max"},
            {"name": "p3ht", "runs": 1, "strategies": ["random"]},
        ],
    }
    body.update(overrides)
    return body


def record_files(folder: Path) -> dict[str, str]:
    """Each run file's record without its wall-clock ``seconds`` (the one field that differs between equal runs)."""
    records = {}
    for path in sorted((folder / "runs").rglob("run-*.json")):
        record = json.loads(path.read_text())
        assert record["seconds"] >= 0
        records[str(path.relative_to(folder))] = json.dumps({k: v for k, v in record.items() if k != "seconds"})
    return records


def test_suite_file_defaults_overrides_and_paths(tmp_path: Path, csv: Path) -> None:
    suite = load_suite(write_suite(tmp_path, small_suite()))
    grid, p3ht = suite.datasets
    assert grid.csv == csv.resolve() and grid.digest.startswith("sha256:") and grid.encoding == "auto"
    assert (grid.runs, grid.budget, grid.strategies) == (2, 5, ("random", "gp-iso-ucb"))
    assert (
        p3ht.csv is None
        and p3ht.digest.startswith("builtin:p3ht:sha256:")
        and (p3ht.runs, p3ht.strategies) == (1, ("random",))
    )
    assert (suite.seed, suite.initial) == (4, 2)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"budgets": 3}, "budgets", "known keys"),
        ({"runs": 0}, "runs", ">= 1"),
        ({"datasets": []}, "datasets", "non-empty"),
        ({"datasets": [{"name": "nowhere"}]}, "datasets[0].name", "built-in datasets"),
        ({"datasets": [{"name": "g", "csv": "data/grid.csv", "direction": "max"}]}, "datasets[0].target", "target"),
        (
            {"datasets": [{"name": "g", "csv": "missing.csv", "target": "y", "direction": "max"}]},
            "datasets[0].csv",
            "exist",
        ),
        ({"datasets": [{"name": "p3ht", "encoding": "morgan"}]}, "datasets[0].encoding", "onehot"),
        ({"datasets": [{"name": "p3ht"}, {"name": "p3ht"}]}, "datasets", "once"),
        ({"datasets": [{"name": "../up"}]}, "datasets[0].name", "letters"),
        ({"strategies": ["kiln", "nonsense"]}, "strategies[1]", "known strategies"),
    ],
)
def test_bad_suite_files_are_named(tmp_path: Path, csv: Path, change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_suite(small_suite(**change), tmp_path)
    assert caught.value.field == field and words in str(caught.value)


def test_runs_are_saved_skipped_when_done_and_equal_bench_pool(tmp_path: Path, csv: Path) -> None:
    suite = load_suite(write_suite(tmp_path, small_suite()))
    out = tmp_path / "results"
    starts: list[SuiteProgress] = []
    results = run_suite(suite, out, jobs=1, on_start=lambda p: starts.append(SuiteProgress(p.total, p.skipped)))
    assert (starts[0].total, starts[0].skipped) == (5, 0)
    saved = record_files(out)
    assert len(saved) == 5 and "runs/grid/gp-iso-ucb/run-1.json" in saved

    # the same runs as kiln bench pool with the suite's seed: same initial points, same choices
    problem, _ = load_problem(data=csv, target="y", direction="max")
    settings = check_settings(problem.size, runs=2, initial=2, budget=5, seed=4, jobs=1)
    direct = run_bench(problem, resolve_strategies(["random", "gp-iso-ucb"]), settings)
    for strategy, trajectories in direct.items():
        for run, trajectory in enumerate(trajectories):
            record = json.loads(saved[f"runs/grid/{strategy}/run-{run}.json"])
            assert (record["initial"], record["chosen"]) == (list(trajectory.initial), list(trajectory.chosen))

    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"grid", "p3ht"} and set(summary["grid"]) == {"random", "gp-iso-ucb"}
    assert summary["grid"]["random"]["runs_done"] == 2 and "cycles_to_best_1pct" in summary["grid"]["random"]
    timed = [json.loads((out / "runs/grid/random" / f"run-{run}.json").read_text())["seconds"] for run in (0, 1)]
    assert summary["grid"]["random"]["runs_timed"] == 2
    assert summary["grid"]["random"]["seconds_per_run"] == pytest.approx(sum(timed) / 2)
    assert (
        results["grid"]["strategies"]["random"]["runs"][0]["chosen"]
        == json.loads(saved["runs/grid/random/run-0.json"])["chosen"]
    )
    table = (out / "summary.md").read_text()
    assert "| grid | 48 | Top% 0.5 | 2 |" in table and "## p3ht (N = 178, budget 5)" in table
    grid_random = summary["grid"]["random"]
    assert len(grid_random["cycles_to_best_1pct_interval"]) == 2 and set(grid_random["cycles_to_top_interval"]) == {
        "0.5",
        "0.8",
        "1.0",
    }
    random_row = next(line for line in table.splitlines() if line.startswith("| random | 2 |"))
    assert random_row.count(" [") == 2  # the two judged metrics, each with its bootstrap interval
    page = (out / "index.html").read_text()
    assert page.count("<section") == 2 and "plotly" in page
    assert json.loads((out / "datasets" / "grid.json").read_text())["dataset"]["N"] == 48

    # a second run skips everything; a lost file is the only one run again, with the same result
    again: list[SuiteProgress] = []
    run_suite(suite, out, jobs=1, on_start=lambda p: again.append(SuiteProgress(p.total, p.skipped)))
    assert again[0].skipped == 5 and record_files(out) == saved
    (out / "runs/grid/gp-iso-ucb/run-1.json").unlink()
    finished: list[int] = []
    run_suite(suite, out, jobs=2, on_progress=lambda p: finished.append(p.finished))
    assert finished == [1] and record_files(out) == saved


def test_a_strategy_may_have_its_own_runs(tmp_path: Path, csv: Path) -> None:
    body = small_suite(strategies=["random", {"name": "gp-iso-ucb", "runs": 1}])
    body["datasets"][1].pop("strategies")
    suite = load_suite(write_suite(tmp_path, body))
    assert [d.runs_of("gp-iso-ucb") for d in suite.datasets] == [1, 1]
    assert [d.runs_of("random") for d in suite.datasets] == [2, 1]
    run_suite(suite, tmp_path / "out")
    assert sorted(record_files(tmp_path / "out")) == [
        "runs/grid/gp-iso-ucb/run-0.json",
        "runs/grid/random/run-0.json",
        "runs/grid/random/run-1.json",
        "runs/p3ht/gp-iso-ucb/run-0.json",
        "runs/p3ht/random/run-0.json",
    ]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["grid"]["gp-iso-ucb"]["runs_planned"] == 1 and summary["grid"]["random"]["runs_planned"] == 2
    with pytest.raises(SpecError) as caught:
        parse_suite(small_suite(strategies=[{"name": "random", "runs": 0}]), tmp_path)
    assert caught.value.field == "strategies[0].runs"
    with pytest.raises(SpecError) as caught:
        parse_suite(small_suite(strategies=[{"name": "random", "repeats": 2}]), tmp_path)
    assert caught.value.field == "strategies[0].repeats"


def test_the_summary_takes_in_other_suites_runs_of_the_same_data_and_settings(tmp_path: Path, csv: Path) -> None:
    out = tmp_path / "out"
    grid_only = small_suite(strategies=["gp-iso-ucb", "rf-ucb"])
    grid_only["datasets"] = grid_only["datasets"][:1]
    run_suite(load_suite(write_suite(tmp_path, grid_only)), out)
    other_budget = small_suite(budget=4, strategies=["gp-iso-ei"])
    other_budget["datasets"] = other_budget["datasets"][:1]
    run_suite(load_suite(write_suite(tmp_path, other_budget)), tmp_path / "elsewhere")
    (out / "runs" / "grid" / "gp-iso-ei").mkdir()  # a result of another budget, moved in by hand: left out
    for path in (tmp_path / "elsewhere" / "runs" / "grid" / "gp-iso-ei").glob("*.json"):
        path.rename(out / "runs" / "grid" / "gp-iso-ei" / path.name)

    peers = small_suite(strategies=["kiln", "random"])
    peers["datasets"] = peers["datasets"][:1]
    results = run_suite(load_suite(write_suite(tmp_path, peers)), out)
    assert list(results["grid"]["strategies"]) == ["kiln", "random", "gp-iso-ucb", "rf-ucb"]
    assert set(json.loads((out / "summary.json").read_text())["grid"]) == {"kiln", "random", "gp-iso-ucb", "rf-ucb"}
    row = next(line for line in (out / "summary.md").read_text().splitlines() if line.startswith("| grid |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert (
        cells[5].startswith("random: ") and "(of 2)" in cells[7] and cells[7].split(":")[0] in ("gp-iso-ucb", "rf-ucb")
    )
    better, worse, same = (int(part) for part in cells[9].split(" (p ")[0].split(" / "))
    assert better + worse + same == 2 and 0 < float(cells[9].split(" (p ")[1].rstrip(")")) <= 1


def test_processes_equal_one_process_and_json_configs_are_named_as_the_registry_does(tmp_path: Path, csv: Path) -> None:
    body = small_suite(strategies=["random", '{"kind": "bayes", "ard": false,  "acquisition": "ucb"}'])
    body["datasets"] = body["datasets"][:1]
    suite = load_suite(write_suite(tmp_path, body))
    assert suite.datasets[0].strategies[1] == '{"kind":"bayes","ard":false,"acquisition":"ucb"}'
    run_suite(suite, tmp_path / "one", jobs=1)
    results = run_suite(suite, tmp_path / "two", jobs=2)
    assert len(record_files(tmp_path / "one")) == 4 and record_files(tmp_path / "two") == record_files(tmp_path / "one")
    assert list(results["grid"]["strategies"]) == ["random", '{"kind":"bayes","ard":false,"acquisition":"ucb"}']


def test_changed_data_or_strategy_settings_are_other_results(tmp_path: Path, csv: Path) -> None:
    from kiln.bench.suite_runs import strategy_identity

    body = small_suite(runs=1, strategies=["kiln"])
    body["datasets"] = body["datasets"][:1]
    run_suite(load_suite(write_suite(tmp_path, body)), tmp_path / "out")
    key = json.loads(next(iter(record_files(tmp_path / "out").values())))["key"]
    assert key["resolved"] == strategy_identity("kiln")["resolved"] and key["resolved"]["kind"] == "default"
    assert "kiln" in key and key["data"].startswith("sha256:")
    csv.write_text(csv.read_text().replace("0.0,", "0.001,", 1))  # the data changed: its runs are not these
    with pytest.raises(ValidationError) as caught:
        run_suite(load_suite(write_suite(tmp_path, body)), tmp_path / "out")
    assert "other settings or data" in str(caught.value)


def test_results_of_other_settings_are_never_reused(tmp_path: Path, csv: Path) -> None:
    out = tmp_path / "results"
    run_suite(load_suite(write_suite(tmp_path, small_suite(runs=1, strategies=["random"]))), out)
    before = record_files(out)
    changed = load_suite(write_suite(tmp_path, small_suite(runs=1, budget=6, strategies=["random"])))
    with pytest.raises(ValidationError) as caught:
        run_suite(changed, out)
    assert "other settings or data" in str(caught.value) and "run-0.json" in str(caught.value)
    assert record_files(out) == before
    # more runs of the same settings reuse what is there
    more: list[SuiteProgress] = []
    run_suite(load_suite(write_suite(tmp_path, small_suite(runs=2, strategies=["random"]))), out, on_start=more.append)
    assert (more[0].total, more[0].skipped) == (3, 2)


class FailsLater(RandomStrategy):
    """Random choices until four experiments exist, then a library-style failure (not a KilnError)."""

    def propose(self, domain: Any, objective: Any, history: Any, n: int, *, seed: int) -> Any:
        if len(history.completed) >= 4:
            raise FloatingPointError("the model diverged")
        return super().propose(domain, objective, history, n, seed=seed)


def test_a_failing_run_does_not_stop_the_others(tmp_path: Path, csv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln.strategies import registry

    monkeypatch.setitem(registry.STRATEGY_KINDS, "fails-later", lambda options: FailsLater(**options))
    body = small_suite(strategies=["random", '{"kind": "fails-later"}'])
    body["datasets"] = body["datasets"][:1]
    with pytest.raises(BenchRunError) as caught:
        run_suite(load_suite(write_suite(tmp_path, body)), tmp_path / "out", jobs=1)
    message = str(caught.value)
    assert message.startswith("2 run(s) failed") and "FloatingPointError: the model diverged" in message
    assert 'grid, strategy \'{"kind":"fails-later"}\', run 1' in message
    assert sorted(record_files(tmp_path / "out")) == ["runs/grid/random/run-0.json", "runs/grid/random/run-1.json"]
    assert set(json.loads((tmp_path / "out" / "summary.json").read_text())["grid"]) == {"random"}


def test_bad_data_and_unbuildable_strategies_fail_before_any_run(tmp_path: Path, csv: Path) -> None:
    body = small_suite(datasets=[{"name": "grid", "csv": "data/grid.csv", "target": "nope", "direction": "max"}])
    with pytest.raises(ValidationError) as caught:
        run_suite(load_suite(write_suite(tmp_path, body)), tmp_path / "a")
    assert caught.value.field == "datasets[grid]" and "nope" in str(caught.value)
    body = small_suite(strategies=['{"kind": "bayes", "model": "nonsense"}'])
    with pytest.raises(ValidationError):
        run_suite(load_suite(write_suite(tmp_path, body)), tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_suite_command(tmp_path: Path, csv: Path) -> None:
    path = write_suite(tmp_path, small_suite(runs=1, strategies=["random"]))
    result = CliRunner().invoke(app, ["bench", "suite", str(path), "--jobs", "1"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "2 datasets, 2 runs, 0 already in" in result.stderr
    assert (tmp_path / "suite-results" / "summary.md").exists()
    bad = CliRunner().invoke(app, ["bench", "suite", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 1 and "does not exist" in bad.stderr


@pytest.mark.parametrize("name", ["dev", "dev-hindsight"])
def test_development_suites_hold_the_eleven_datasets(name: str) -> None:
    from kiln.bench.registry import HINDSIGHT_GRID
    from kiln.bench.suite import plan_units

    suite = load_suite(Path(__file__).parents[2] / "benchmarks" / "suites" / f"{name}.yaml")
    units, problems = plan_units(suite)
    sizes = {dataset: problem.size for dataset, (problem, _) in problems.items()}
    assert sizes == {
        "p3ht": 178,
        "crossed-barrel": 600,
        "suzuki-edbo": 3696,
        "alkox": 104,
        "benzylation": 72,
        "fullerenes": 216,
        "colors_bob": 161,
        "photo_pce10": 1020,
        "suzuki": 247,
        "buchwald_b": 792,
        "oer_plate_3851": 2119,
    }
    assert all((d.runs, d.budget) == (20, 100) for d in suite.datasets) and suite.initial == 2
    strategies = set(suite.datasets[0].strategies)
    if name == "dev":
        assert {"kiln", "random", "botorch-defaults", "baybe", "ax", "optuna-gp", "optuna-tpe", "skopt-gp"} < strategies
    else:
        assert strategies == {"kiln", *HINDSIGHT_GRID}
    if name == "dev":  # the peers slower than 1 s a recommendation run 10 times
        assert len(units) == 11 * (20 * (len(strategies) - 2) + 10 * 2)
        assert suite.datasets[0].runs_of("baybe") == suite.datasets[0].runs_of("ax") == 10
    else:
        assert len(units) == 11 * 20 * len(strategies)


def test_the_suite_writes_its_report_and_report_only_rewrites_it(tmp_path: Path, csv: Path) -> None:
    from kiln.bench.suite_summary import metric_value
    from kiln.core.version import VERSION
    from kiln.report.suite import quantile

    path = write_suite(tmp_path, small_suite(runs=3, strategies=["random", "sobol"]))
    result = CliRunner().invoke(app, ["bench", "suite", str(path), "--jobs", "1"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    folder = tmp_path / "suite-results"
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Benchmark report: suite" in page and "<h3>grid</h3>" in page and "<h3>p3ht</h3>" in page
    assert "report.html" in result.stderr and f"kiln bench suite {path} --out {folder}" in page

    # each run's cycles are saved; their medians are the summary's
    for name in ("grid", "p3ht"):
        results = json.loads((folder / "datasets" / f"{name}.json").read_text())
        for block in results["strategies"].values():
            for metric in ("cycles_to_best_1pct", "top_0.5", "top_0.8"):
                runs = block["cycles_per_run"][metric]
                assert len(runs) == block["runs_done"] and quantile(runs, 0.5) == metric_value(block, metric)
            assert block["versions"] == [f"Kiln {VERSION}"]  # as the runs' keys record it
    assert "Versions behind the numbers of random (as its runs recorded them): Kiln " in page

    (folder / "report.html").unlink()
    again = CliRunner().invoke(app, ["bench", "suite", str(path), "--report-only"])
    assert again.exit_code == 0, (again.stdout, again.stderr, again.exception)
    ids = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # plotly's random div ids
    rewritten = (folder / "report.html").read_text(encoding="utf-8")
    assert ids.sub("ID", rewritten) == ids.sub("ID", page)  # nothing ran: the same page
    empty = CliRunner().invoke(app, ["bench", "suite", str(path), "--report-only", "--out", str(tmp_path / "none")])
    assert empty.exit_code == 1 and "finished runs of this suite" in empty.stderr
    assert not (tmp_path / "none").exists()


def test_a_peer_with_too_few_of_its_runs_cannot_be_the_best(tmp_path: Path, csv: Path) -> None:
    body = small_suite(runs=4, strategies=["kiln", "random", "sobol"])
    body["datasets"] = body["datasets"][:1]
    path = write_suite(tmp_path, body)
    out = tmp_path / "out"
    run_suite(load_suite(path), out, jobs=1)

    def best_peer() -> str:
        row = next(line for line in (out / "summary.md").read_text().splitlines() if line.startswith("| grid |"))
        return row.split(" | ")[5]

    for run in (1, 2, 3):  # random keeps one run of its four: below half the default's four
        (out / "runs" / "grid" / "random" / f"run-{run}.json").unlink()
    (out / "runs" / "grid" / "sobol" / "run-3.json").unlink()  # three of four: enough
    result = CliRunner().invoke(app, ["bench", "suite", str(path), "--out", str(out), "--report-only"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert best_peer().startswith("sobol: ")
    table = (out / "summary.md").read_text()
    assert next(line for line in table.splitlines() if line.startswith("| random | 1 |"))  # still in its table
    for run in (0, 1, 2):
        (out / "runs" / "grid" / "sobol" / f"run-{run}.json").unlink()
    CliRunner().invoke(app, ["bench", "suite", str(path), "--out", str(out), "--report-only"])
    assert best_peer() == "-"  # no peer has enough runs; a lone lucky run is never the best
