"""The backtest procedure: grouping, the top set, shared initial candidates, determinism, the runner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kiln.bench.backtest import PoolProblem, initial_candidates, run_backtest, run_seed, run_trajectory
from kiln.bench.registry import StrategyEntry, resolve_strategies
from kiln.bench.runner import BenchSettings, check_settings, load_problem, results_json, run_bench
from kiln.core.errors import ValidationError


def frame(rows: int = 40) -> pd.DataFrame:
    """``rows`` distinct candidates (x numeric, s text) with y = x - (s == "b")."""
    x = np.arange(rows, dtype=float)
    s = np.where(x % 2 == 0, "a", "b")
    return pd.DataFrame({"x": x, "s": s, "y": x - (s == "b")})


def test_replicates_are_merged_as_the_mean_of_distinct_values() -> None:
    data = pd.DataFrame({"x": [1, 1, 1, 2, 3, 3], "s": ["a", "a", "a", "a", "b", "b"], "y": [2, 2, 5, 1, 7, 9]})
    problem = PoolProblem.from_frame(data, ["x", "s"], "y", "max")
    assert problem.size == 3
    np.testing.assert_allclose(problem.values, [3.5, 1.0, 8.0])  # (2 + 5) / 2: the repeated 2 counts once
    assert problem.top == frozenset({2}) and problem.threshold == 8.0


def test_top_set_is_the_best_ceil_5_percent() -> None:
    high = PoolProblem.from_frame(frame(41), ["x", "s"], "y", "max")
    assert len(high.top) == 3 and high.top == frozenset({38, 39, 40})  # ceil(2.05) = 3
    low = PoolProblem.from_frame(frame(41), ["x", "s"], "y", "min")
    assert low.top == frozenset({0, 1, 2}) and low.threshold == 2.0
    assert len(PoolProblem.from_frame(frame(40), ["x", "s"], "y").top) == 2  # 5 % of 40 is exactly 2


def test_initial_candidates_depend_on_seed_and_run_only() -> None:
    problem = PoolProblem.from_frame(frame(), ["x", "s"], "y")
    seed = run_seed(7, 3)
    assert seed == run_seed(7, 3) and seed != run_seed(7, 4) and seed != run_seed(8, 3)
    assert initial_candidates(40, 3, seed) == initial_candidates(40, 3, seed)
    runs = [run_trajectory(problem, config, seed=seed, budget=8, initial=3) for config in ("random", "sobol")]
    assert runs[0].initial == runs[1].initial == initial_candidates(40, 3, seed)
    for run in runs:
        assert len(run.found) == 8 and len(run.chosen) == 5
        assert len(set(run.initial + run.chosen)) == 8
        assert list(run.found) == list(np.cumsum([k in problem.top for k in run.initial + run.chosen]))
    assert run_backtest(problem, "random", seed=seed, budget=8, initial=3) == list(runs[0].found)
    with pytest.raises(ValidationError):
        initial_candidates(40, 40, seed)


def test_a_run_stops_when_the_pool_is_used_up() -> None:
    problem = PoolProblem.from_frame(frame(10), ["x", "s"], "y")
    run = run_trajectory(problem, {"kind": "random"}, seed=1, budget=50)
    assert len(run.found) == 10 and run.found[-1] == len(problem.top)


def test_runner_is_deterministic_and_independent_of_jobs() -> None:
    problem = PoolProblem.from_frame(frame(), ["x", "s"], "y")
    entries = [*resolve_strategies(["random"]), StrategyEntry("sobol-config", {"kind": "sobol"})]
    settings = BenchSettings(runs=3, initial=2, budget=10, seed=5, jobs=1)
    seen: list[tuple[int, int]] = []
    one = run_bench(problem, entries, settings, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (6, 6) and len(seen) == 6
    assert one == run_bench(problem, entries, settings)
    two = run_bench(problem, entries, BenchSettings(runs=3, initial=2, budget=10, seed=5, jobs=2))
    assert one == two
    for run in range(3):  # every strategy starts run r from the same candidates
        assert one["random"][run].initial == one["sobol-config"][run].initial
    assert one["random"][0].initial != one["random"][1].initial
    other = run_bench(problem, entries, BenchSettings(runs=3, initial=2, budget=10, seed=6, jobs=1))
    assert other != one


def test_results_json_structure() -> None:
    problem, meta = load_problem(dataset="p3ht")
    assert (problem.size, len(problem.top), problem.threshold) == (178, 9, 696.39)
    settings = check_settings(problem.size, runs=2, initial=2, budget=6, seed=0, jobs=1)
    entries = resolve_strategies(["random"])
    results = results_json(problem, meta, settings, entries, run_bench(problem, entries, settings))
    assert results["dataset"]["N"] == 178 and results["dataset"]["top_size"] == 9
    assert results["dataset"]["inputs"] == list(meta.inputs) and results["dataset"]["direction"] == "max"
    assert results["settings"] == {
        "runs": 2,
        "initial": 2,
        "budget": 6,
        "seed": 0,
        "in_flight": 1,
        "top_fraction": 0.05,
    }
    assert results["random_baseline"]["top_percent"][0] == pytest.approx(1 / 178)
    block = results["strategies"]["random"]
    assert set(block) >= {"cycles_to_top", "ef_max", "af_at_0.8", "top_percent", "runs", "config"}
    assert set(block["cycles_to_top"]) == {"0.5", "0.8", "1.0"}
    assert all(len(block["top_percent"][k]) == 6 for k in ("median", "p5", "p95"))
    assert [set(r) for r in block["runs"]] == [{"run", "seed", "initial", "found", "chosen"}] * 2
    assert len(block["runs"][0]["found"]) == 6 and len(block["runs"][0]["chosen"]) == 4


def test_settings_defaults_and_limits() -> None:
    assert check_settings(178, runs=1, initial=2, budget=None, seed=0, jobs=None).budget == 150
    assert check_settings(60, runs=1, initial=2, budget=None, seed=0, jobs=3).budget == 60
    assert check_settings(60, runs=1, initial=2, budget=500, seed=0, jobs=3).budget == 60
    for options, field in [
        ({"runs": 0}, "--runs"),
        ({"initial": 0}, "--initial"),
        ({"initial": 60}, "--initial"),
        ({"budget": 0}, "--budget"),
        ({"budget": 1}, "--budget"),
        ({"seed": -1}, "--seed"),
        ({"jobs": 0}, "--jobs"),
    ]:
        settings = {"runs": 1, "initial": 2, "budget": None, "seed": 0, "jobs": 1, **options}
        with pytest.raises(ValidationError) as error:
            check_settings(60, **settings)
        assert error.value.field == field


class PendingRecorder:
    """Proposes the lowest unused row and records how many experiments were running when asked."""

    kind = "recorder"

    def __init__(self) -> None:
        self.running: list[int] = []

    def propose(self, domain, objective, history, n, *, seed):  # type: ignore[no-untyped-def]
        from kiln.strategies.base import Proposal, available_candidates

        self.running.append(len(history.pending))
        taken = {e.candidate for e in history.pending}
        key = next(int(k) for k in available_candidates(domain, history) if int(k) not in taken)
        return [Proposal(domain.row(key), key)]

    def to_config(self) -> dict[str, str]:
        return {"kind": self.kind}


def test_experiments_in_flight_are_pending_when_the_next_is_chosen() -> None:
    problem = PoolProblem.from_frame(frame(), ["x", "s"], "y")
    recorder = PendingRecorder()
    run = run_trajectory(problem, recorder, seed=3, budget=12, initial=2, in_flight=4)  # type: ignore[arg-type]
    assert len(run.found) == 12 and len(set(run.initial + run.chosen)) == 12
    assert recorder.running == [0, 1, 2, 3, 3, 3, 3, 3, 3, 3]  # fills to 4, then one new per result
    assert list(run.found) == list(np.cumsum([k in problem.top for k in run.initial + run.chosen]))
    sequential = run_trajectory(problem, "random", seed=3, budget=12)
    assert run_trajectory(problem, "random", seed=3, budget=12, in_flight=1) == sequential
    with pytest.raises(ValidationError, match="--in-flight"):
        check_settings(40, runs=1, initial=2, budget=10, seed=0, jobs=1, in_flight=0)


def test_first_of_the_best_percent() -> None:
    from kiln.bench.backtest import first_hit
    from kiln.bench.runner import median_or_none

    problem = PoolProblem.from_frame(frame(200), ["x", "s"], "y", "max")
    assert problem.best(0.01) == frozenset({198, 199})  # ceil(2.0) = 2 best of 200
    assert first_hit([5, 7, 199, 198], problem.best(0.01)) == 3
    assert first_hit([5, 7], problem.best(0.01)) is None
    assert median_or_none([3, 5, None]) == 5.0
    assert median_or_none([3, None, None]) is None
    assert median_or_none([2, 4, 6, None]) == 5.0
    assert median_or_none([]) is None
