"""The microscope search benchmark's log (kiln.bench.microscope): round trip, resume rule, map error, table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kiln.bench.backtest import PoolProblem
from kiln.bench.mapping import pool_error
from kiln.bench.microscope import (
    append_run,
    finished,
    markdown_table,
    pool_mean,
    read_runs,
    run_key,
    summary_rows,
)
from kiln.core.errors import ValidationError
from kiln.models.fit_error import rmse_r2
from kiln.models.gp import fit_gp
from kiln.strategies.image_map import ImageMap


def record(run: int, strategy: str = "dkl", *, share: float = 0.5, r2: float = 0.25, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "ferroelectric",
        "reward": "loop_area",
        "strategy": strategy,
        "run": run,
        "size": 32,
        "stride": 2,
        "budget": 4,
        "marks": [2, 4],
        "shares": [0.0, share / 2, share / 2, share],
        "map": [{"n": 2, "rmse": 1.0, "r2": r2 - 1}, {"n": 4, "rmse": 0.5, "r2": r2}],
        "seconds": 10.0 + run,
        "version": "0.1.0",
    }
    return {**base, **changes}


def test_the_log_round_trips_and_decides_what_is_run_again(tmp_path: Path) -> None:
    log = tmp_path / "results" / "runs.jsonl"
    assert read_runs(log) == []
    append_run(log, record(0))
    append_run(log, record(1))
    assert read_runs(log) == [record(0), record(1)]
    done = finished(read_runs(log))
    assert run_key(record(0)) in done and run_key(record(1)) in done
    assert run_key(record(2)) not in done  # another run index
    assert run_key(record(0, "random")) not in done  # another strategy
    assert run_key(record(0, marks=[2, 3])) not in done  # other marks
    assert run_key(record(0, size=64)) not in done
    assert run_key(record(0, version="0.2.0", seconds=1.0, shares=[1.0] * 4)) in done  # results are no setting


def test_a_line_cut_short_is_skipped_and_the_next_record_stays_whole(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    append_run(log, record(0))
    with log.open("a") as handle:
        handle.write('{"kind": "ferroelectric", "reward": "loop_ar')  # a run stopped while writing
    append_run(log, record(1))
    assert [r["run"] for r in read_runs(log)] == [0, 1]


def test_a_bad_line_in_the_log_is_named(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    log.write_text('{"kind": "blend"}\n')
    with pytest.raises(ValidationError, match="line 1"):
        read_runs(log)


def test_rmse_r2_of_a_fit_agrees_with_pool_error() -> None:
    X = np.random.default_rng(1).random((30, 2))
    problem = PoolProblem.from_frame(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": X[:, 0] ** 2}), ["a", "b"], "y")
    keys = [0, 3, 7, 11, 19]
    fitted = fit_gp(problem.pool.encoded[keys], problem.values[keys], seed=0, layout=problem.pool.kernel_layout)
    predicted, _ = fitted.posterior_mean_std(problem.pool.encoded)
    assert rmse_r2(predicted, problem.values) == pytest.approx(pool_error(problem, keys, seed=0))


def test_pool_mean_reads_the_grid_at_each_pool_pixel() -> None:
    found = ImageMap(
        target="r",
        width=4,
        height=4,
        step=1,
        image=[],
        xs=[0, 2],
        ys=[1, 3],
        mean=[[1.0, 2.0], [3.0, None]],
        std=None,
    )
    pixels = np.array([[2, 1], [0, 3], [0, 1], [2, 3]])
    np.testing.assert_array_equal(pool_mean(found, pixels), [2.0, 3.0, 1.0, np.nan])
    with pytest.raises(ValidationError, match="measure"):
        pool_mean(ImageMap("r", 4, 4, 1, [], [0], [0], None, None), pixels)


def test_summary_takes_medians_of_the_finished_runs_and_counts_them() -> None:
    runs = [record(0, share=0.2, r2=0.1), record(1, share=0.6, r2=0.5), record(2, share=1.0, r2=0.3)]
    runs += [record(0, "random", share=0.0, r2=0.0), record(9, "random", share=1.0)]
    (dkl, random) = summary_rows(runs, wanted=3)
    assert (dkl.strategy, dkl.runs, dkl.wanted) == ("dkl", 3, 3)
    assert dkl.shares == pytest.approx((0.3, 0.6)) and dkl.r2 == pytest.approx((-0.7, 0.3))
    assert dkl.seconds == 11.0
    assert (random.runs, random.wanted, random.shares) == (1, 3, (0.0, 0.0))  # run 9 is beyond --runs 3
    table = markdown_table([dkl, random])
    assert "| sample | reward | strategy | runs | top 1 % in 2 | top 1 % in 4 | map R^2 at 2 | map R^2 at 4 |" in table
    assert "| ferroelectric | loop_area | dkl | 3 of 3 | 30 % | 60 % | -0.70 | 0.30 | 11 |" in table
    assert "| random | 1 of 3 |" in table
    assert summary_rows(runs)[1].wanted == 2  # without --runs: every finished run counts
