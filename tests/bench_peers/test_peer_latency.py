"""The latency runner and ``kiln bench latency`` on tiny sizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from kiln.bench.latency import Case, LatencyResult, build_case, default_cases, estimate, run_latency
from kiln.core.errors import ValidationError
from kiln.space import CandidatePool

pytest.importorskip("optuna")


def test_runner_gives_a_row_per_strategy_and_case() -> None:
    cases = default_cases([10], [200], pool_n=10, targets=[0], reaction_n=0)
    assert cases == [Case(10), Case(10, 200)]
    strategies = ["kiln", "botorch-defaults", "optuna-tpe"]
    results = run_latency(strategies, cases, repeats=1, max_seconds=120, isolate=False)
    assert [(r.strategy, r.case) for r in results] == [(s, c) for s in strategies for c in cases]
    assert all(r.status == "ok" and r.seconds is not None and r.seconds > 0 and r.repeats == 1 for r in results)


def test_cases_over_the_limit_are_skipped() -> None:
    results = run_latency(["optuna-tpe"], [Case(10), Case(20), Case(40)], repeats=2, max_seconds=1e-9, isolate=False)
    assert [r.status for r in results] == ["ok", "skipped", "skipped"]
    assert results[0].repeats == 1  # the first repeat already used up the time
    assert results[1].cell == "skipped (> limit)"


def test_a_child_process_is_stopped_at_the_limit() -> None:
    stopped = run_latency(["kiln"], [Case(60), Case(10, 100)], repeats=1, max_seconds=1e-6)
    assert [r.status for r in stopped] == ["skipped", "skipped"]
    assert all("stopped at the" in r.message for r in stopped)  # a fresh child started for the pool case


def test_estimates_follow_the_measured_growth() -> None:
    one = [(Case(100), 1.0)]
    assert estimate(Case(200), one) == pytest.approx(4.0)  # one point: quadratic in n
    two = [(Case(50), 1.0), (Case(100), 1.0)]
    assert estimate(Case(200), two) == pytest.approx(2.0)  # flat so far: at least linear
    steep = [(Case(50), 1.0), (Case(100), 16.0)]
    assert estimate(Case(200), steep) == pytest.approx(128.0)  # at most cubic
    with_pool = [*one, (Case(100, 10_000), 2.0)]
    assert estimate(Case(100, 100_000), with_pool) == pytest.approx(20.0)  # linear in rows
    assert estimate(Case(100, 10_000), one) == pytest.approx(1.0)  # first pool case: the space case at its n
    assert estimate(Case(20), one) is None


def test_cases_hold_hartmann_values_and_pool_keys() -> None:
    pool, history = build_case(Case(15, 100))
    assert isinstance(pool, CandidatePool) and len(pool) == 100
    assert len(history.completed) == 15 and len(history.used_candidates()) == 15
    assert all(0 < e.results["y"] < 3.33 for e in history.completed)
    with pytest.raises(ValidationError):
        default_cases([10], [5], pool_n=10)
    with pytest.raises(ValidationError, match="known strategies"):
        run_latency(["nope"], [Case(10)])


def test_the_command_prints_a_table_and_writes_json(tmp_path: Path) -> None:
    from kiln.cli.app import reports_errors
    from kiln.cli.latency_command import latency

    app = typer.Typer()
    app.command("latency")(reports_errors(latency))
    app.command("other")(lambda: None)  # two commands, so "latency" is a sub-command as in kiln bench
    out = tmp_path / "latency.json"
    args = ["latency", "-s", "optuna-tpe", "--n", "10", "--pool", "0", "--targets", "0", "--reaction-n", "0"]
    args += ["--repeats", "1"]
    args += ["--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "optuna-tpe" in result.output and "Seconds per recommendation" in result.output
    report = json.loads(out.read_text())
    assert report["torch_threads"] == 1
    assert [(r["strategy"], r["observations"], r["status"]) for r in report["results"]] == [("optuna-tpe", 10, "ok")]
    failed = CliRunner().invoke(app, ["latency", "-s", "nope"])
    assert failed.exit_code == 1 and "known strategies" in failed.output


def test_multi_target_cases_time_kiln_on_conflicting_targets() -> None:
    cases = default_cases([10], [0], targets=[3, 2], targets_n=12, reaction_n=0)
    assert cases == [Case(10), Case(12, 0, 2), Case(12, 0, 3)]
    assert default_cases([10], [0])[1:] == [Case(100, 0, 2), Case(100, 0, 3), Case(100, dataset="suzuki")]
    assert Case(12, 0, 2).label == "6-d continuous, 2 targets" and Case(12, 0, 2).objective.names == ["y0", "y1"]
    _, history = build_case(Case(12, 0, 3))
    values = [[e.results[f"y{i}"] for i in range(3)] for e in history.completed]
    assert len(values) == 12 and all(0 < v < 3.33 for row in values for v in row)
    assert len({tuple(row) for row in values}) == 12 and len({row[0] for row in values}) == 12
    with pytest.raises(ValidationError, match="--targets"):
        default_cases([10], [0], targets=[1])
    results = run_latency(["kiln"], cases[1:2], repeats=1, max_seconds=120, isolate=False)
    assert [(r.status, r.case.targets, r.repeats) for r in results] == [("ok", 2, 1)], results
    assert results[0].to_json()["targets"] == 2


def test_result_cells() -> None:
    assert LatencyResult("x", Case(10), "ok", 0.12345, 3).cell == "0.123"
    assert LatencyResult("x", Case(10), "error", message="boom").cell == "error"


def test_reaction_case_is_the_suzuki_pool_with_descriptors() -> None:
    """The reaction case: the built-in Suzuki pool, its SMILES columns encoded by descriptors, n measured rows."""
    case = default_cases([10], [0], targets=[0], reaction_n=12)[-1]
    assert case == Case(12, dataset="suzuki") and case.is_pool and case.label == "suzuki pool, descriptors"
    domain, history = build_case(case)
    assert isinstance(domain, CandidatePool) and len(domain) == 3696
    assert {e.kind for e in domain.encodings.values()} == {"descriptors"}
    assert len(history.completed) == 12 and len({e.candidate for e in history.completed}) == 12
    assert estimate(case, [(Case(10), 0.1)]) == pytest.approx(0.1 * (12 / 10) ** 2)
    with pytest.raises(ValidationError, match="--reaction-n"):
        default_cases([10], [0], reaction_n=1)
