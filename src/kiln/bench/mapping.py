"""Map backtests (``kiln bench pool --goal map``): how fast a strategy learns a model of the whole pool.

Each run is the closed loop of ``kiln.bench.backtest.run_order`` on the pool with the objective's goal set to map
(so the default strategy does active learning). After each experiment (or every ``every`` experiments, and after
the last) the evaluation model, Kiln's GP (``fit_gp``, the same for every strategy: a fair judge), is fitted to
the measured rows and predicts every row of the pool; the metrics are its RMSE and R^2 over the whole pool
(measured rows included) against the number of experiments, and the experiments a run needed to reach
R^2 >= 0.8 and 0.9 (``cycles_to_r2``, medians over runs; runs that never got there count as worse than any).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.bench.backtest import PoolProblem, run_order
from kiln.core.errors import ValidationError
from kiln.objective import Objective
from kiln.strategies.base import Strategy

if TYPE_CHECKING:
    from kiln.bench.registry import StrategyEntry
    from kiln.bench.runner import BenchSettings, DatasetMeta

R2_LEVELS: tuple[float, ...] = (0.8, 0.9)
"""The R^2 levels reported as "experiments to R^2 a"."""


@dataclass(frozen=True)
class MapProblem:
    """A pool problem judged by the error of a model of the whole pool.

    Attributes:
        problem: the grouped pool and its measured values (its objective's goal is set to map here).
        every: the evaluation model is fitted after every ``every``-th experiment (and after the last).
    """

    problem: PoolProblem
    every: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValidationError("--every", self.every, "a whole number >= 1 is required", "e.g. --every 1")
        mapped = Objective(self.problem.objective.targets, goal="map")
        object.__setattr__(self, "problem", replace(self.problem, objective=mapped))

    @property
    def size(self) -> int:
        return self.problem.size

    @property
    def pool(self) -> Any:
        return self.problem.pool


@dataclass(frozen=True)
class MapTrajectory:
    """One run: its initial and chosen rows, and the evaluation model's error after ``experiments[i]`` experiments.

    Attributes:
        seed: the run seed.
        initial / chosen: row keys, as in ``kiln.bench.backtest.Trajectory``.
        experiments: the numbers of experiments at which the model was evaluated, ascending.
        rmse / r2: the model's RMSE (target units) and R^2 over the whole pool at each of them.
    """

    seed: int
    initial: tuple[int, ...]
    chosen: tuple[int, ...]
    experiments: tuple[int, ...]
    rmse: tuple[float, ...]
    r2: tuple[float, ...]


def evaluation_points(total: int, every: int) -> list[int]:
    """The experiment counts at which a run of ``total`` experiments is evaluated: every ``every``-th from 2 on,
    and ``total``."""
    counts = [n for n in range(2, total + 1) if n % every == 0]
    if total >= 2 and (not counts or counts[-1] != total):
        counts.append(total)
    return counts


def pool_error(problem: PoolProblem, keys: Sequence[int], *, seed: int) -> tuple[float, float]:
    """(RMSE, R^2) over every row of the pool of Kiln's GP fitted to the rows ``keys`` (their values)."""
    from kiln.models.fit_error import rmse_r2
    from kiln.models.gp import fit_gp

    keys = list(keys)
    values = problem.values
    measured = values[keys]
    if float(np.ptp(measured)) > 0.0:
        fitted = fit_gp(problem.pool.encoded[keys], measured, seed=seed, layout=problem.pool.kernel_layout)
        predicted, _ = fitted.posterior_mean_std(problem.pool.encoded)
    else:
        predicted = np.full(len(values), float(measured.mean()))
    return rmse_r2(predicted, values)


def run_map_trajectory(
    problem: MapProblem,
    strategy: Strategy | Mapping[str, Any] | str,
    *,
    seed: int,
    budget: int,
    initial: int = 2,
    in_flight: int = 1,
) -> MapTrajectory:
    """One run of ``min(budget, N)`` experiments and the evaluation model's error along it."""
    pool = problem.problem
    target = pool.objective.target.name
    start, chosen = run_order(
        pool.pool,
        pool.objective,
        lambda key: {target: float(pool.values[key])},
        strategy,
        seed=seed,
        budget=budget,
        initial=initial,
        in_flight=in_flight,
    )
    order = [*start, *chosen]
    counts = evaluation_points(len(order), problem.every)
    errors = [pool_error(pool, order[:count], seed=seed) for count in counts]
    return MapTrajectory(seed, start, chosen, tuple(counts), tuple(e[0] for e in errors), tuple(e[1] for e in errors))


def experiments_to_r2(experiments: Sequence[int], r2: Sequence[float], level: float) -> int | None:
    """The first evaluated number of experiments with R^2 >= ``level``; None if the run never got there."""
    return next((n for n, value in zip(experiments, r2, strict=True) if value >= level - 1e-12), None)


def _bands(curves: np.ndarray) -> dict[str, list[float]]:
    """Median and quartiles over runs of an (R, k) array of curves."""
    return {
        name: [float(v) for v in np.quantile(curves, q, axis=0)]
        for name, q in (("median", 0.5), ("q25", 0.25), ("q75", 0.75))
    }


def map_results_json(
    problem: MapProblem,
    meta: DatasetMeta,
    settings: BenchSettings,
    entries: Sequence[StrategyEntry],
    trajectories: dict[str, list[MapTrajectory]],
) -> dict[str, Any]:
    """The results file of a map benchmark (see docs/bench.md): dataset, settings and per strategy
    ``cycles_to_r2`` (medians), the R^2 and RMSE bands over runs and every run's trajectory."""
    from kiln.bench.runner import median_or_none

    strategies: dict[str, Any] = {}
    experiments: list[int] = []
    for entry in entries:
        runs = trajectories[entry.name]
        experiments = list(runs[0].experiments)
        r2 = np.array([t.r2 for t in runs], dtype=float)
        rmse = np.array([t.rmse for t in runs], dtype=float)
        reached = {level: [experiments_to_r2(t.experiments, t.r2, level) for t in runs] for level in R2_LEVELS}
        strategies[entry.name] = {
            **entry.describe(),
            "cycles_to_r2": {f"{a:g}": median_or_none(reached[a]) for a in R2_LEVELS},
            "reached_r2": {f"{a:g}": sum(v is not None for v in reached[a]) for a in R2_LEVELS},
            "r2": _bands(r2),
            "rmse": _bands(rmse),
            "runs": [
                {
                    "run": i,
                    "seed": t.seed,
                    "initial": list(t.initial),
                    "chosen": list(t.chosen),
                    "r2": list(t.r2),
                    "rmse": list(t.rmse),
                }
                for i, t in enumerate(runs)
            ],
        }
    values = problem.problem.values
    return {
        "goal": "map",
        "dataset": {
            "name": meta.name,
            "file": meta.file,
            "rows": meta.rows,
            "N": problem.size,
            "target": meta.target,
            "inputs": list(meta.inputs),
            "std": float(values.std()),
            "encodings": problem.pool.describe_encodings(),
        },
        "settings": {
            "runs": settings.runs,
            "initial": settings.initial,
            "budget": settings.budget,
            "seed": settings.seed,
            "in_flight": settings.in_flight,
            "every": problem.every,
        },
        "experiments": experiments,
        "strategies": strategies,
    }


def r2_at(results: Mapping[str, Any], strategy: str, experiments: int) -> float:
    """The median R^2 of ``strategy`` at the evaluated count nearest below or at ``experiments``."""
    counts = results["experiments"]
    index = max(i for i, n in enumerate(counts) if n <= experiments)
    return float(results["strategies"][strategy]["r2"]["median"][index])


def experiments_to_reach(results: Mapping[str, Any], strategy: str, level: float) -> float | None:
    """The median over runs of the experiments ``strategy`` needed to reach R^2 >= ``level`` (None: the median run
    never did)."""
    from kiln.bench.runner import median_or_none

    counts = results["experiments"]
    runs = results["strategies"][strategy]["runs"]
    return median_or_none([experiments_to_r2(counts, run["r2"], level) for run in runs])
