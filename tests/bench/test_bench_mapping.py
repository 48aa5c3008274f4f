"""Map backtests (kiln.bench.mapping) and ``kiln bench pool --goal map``: R^2 and RMSE trajectories, cycles_to_r2,
the plot, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kiln.bench.backtest import PoolProblem
from kiln.bench.mapping import (
    MapProblem,
    evaluation_points,
    experiments_to_r2,
    pool_error,
    run_map_trajectory,
)
from kiln.cli.app import app
from kiln.core.errors import KilnError


def frame() -> pd.DataFrame:
    X = np.random.default_rng(4).random((80, 2))
    return pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": np.sin(3 * X[:, 0]) + X[:, 1] ** 2})


@pytest.fixture
def csv(tmp_path: Path) -> Path:
    path = tmp_path / "pool.csv"
    frame().to_csv(path, index=False)
    return path


def test_pool_error_is_exact_on_the_measured_pool() -> None:
    problem = PoolProblem.from_frame(frame(), ["a", "b"], "y")
    rmse, r2 = pool_error(problem, list(range(problem.size)), seed=0)
    assert r2 > 0.99 and rmse < 0.05 * float(problem.values.std())
    few_rmse, few_r2 = pool_error(problem, [0, 1], seed=0)
    assert few_r2 < r2 and few_rmse > rmse
    same = pool_error(problem, [0, 0], seed=0)  # no spread: the mean predicts, R^2 <= 0
    assert same[1] <= 0.0


def test_trajectory_and_levels() -> None:
    problem = MapProblem(PoolProblem.from_frame(frame(), ["a", "b"], "y"), every=3)
    assert problem.problem.objective.is_map
    run = run_map_trajectory(problem, "default", seed=5, budget=14, initial=2)
    assert run.experiments == (3, 6, 9, 12, 14) == tuple(evaluation_points(14, 3))
    assert len(run.r2) == len(run.rmse) == 5 and len(run.chosen) == 12 and len(set(run.chosen + run.initial)) == 14
    assert run.r2[-1] > 0.8  # a smooth 2-D function is mapped well by 14 points
    assert run == run_map_trajectory(problem, "default", seed=5, budget=14, initial=2)  # deterministic
    assert experiments_to_r2([3, 6, 9], [0.1, 0.85, 0.95], 0.8) == 6
    assert experiments_to_r2([3, 6, 9], [0.1, 0.85, 0.95], 0.9) == 9
    assert experiments_to_r2([3, 6, 9], [0.1, 0.2, 0.3], 0.8) is None
    with pytest.raises(KilnError, match="--every"):
        MapProblem(problem.problem, every=0)


def kiln(*args: Any) -> Any:
    return CliRunner().invoke(app, ["bench", "pool", *(str(a) for a in args)])


def test_cli_goal_map(csv: Path, tmp_path: Path) -> None:
    result = kiln(
        "--data", csv, "--target", "y", "--goal", "map", "--runs", 2, "--budget", 10, "--jobs", 1, "--every", 2,
        "--out", tmp_path / "map.json", "--plot", tmp_path / "map.html",
    )  # fmt: skip
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "R^2 at budget" in result.stdout and "map of y" in result.stderr
    results = json.loads((tmp_path / "map.json").read_text())
    assert results["goal"] == "map" and results["experiments"] == [2, 4, 6, 8, 10]
    assert list(results["strategies"]) == ["kiln", "random", "sobol"]
    for block in results["strategies"].values():
        assert set(block["cycles_to_r2"]) == {"0.8", "0.9"}
        assert len(block["runs"]) == 2 and all(len(r["r2"]) == 5 and len(r["rmse"]) == 5 for r in block["runs"])
        assert len(block["r2"]["median"]) == 5
    assert "R^2" in (tmp_path / "map.html").read_text()


def test_cli_goal_map_bad_input(csv: Path) -> None:
    result = kiln("--data", csv, "--target", "y", "--target", "a", "--goal", "map", "--runs", 1)
    assert result.exit_code == 1 and "--goal map" in result.stderr and "one --target" in result.stderr
    result = kiln("--data", csv, "--target", "y", "--goal", "explore")
    assert result.exit_code != 0 and "explore" in result.stderr
