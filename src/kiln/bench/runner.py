"""Running a pool benchmark: loading the data, many seeded runs in parallel processes, and the results file.

Run r of every strategy starts from the same initial candidates: they derive from ``run_seed(seed, r)`` only (see
``kiln.bench.backtest``). Results do not depend on ``jobs`` or on scheduling: torch and BLAS use one thread everywhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.bench.backtest import PoolProblem, Trajectory, first_hit, run_seed, run_trajectory
from kiln.bench.hv_backtest import HVProblem, HVTrajectory, parse_constraint, run_hv_trajectory
from kiln.bench.mapping import MapProblem, MapTrajectory, run_map_trajectory
from kiln.bench.metrics import (
    FRACTIONS,
    HV_LEVELS,
    cycles_to_hv,
    median_cycles,
    median_interval,
    paired,
    quartile_band,
    random_top_percent,
    summarize,
)
from kiln.bench.registry import StrategyEntry
from kiln.core.errors import KilnError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from kiln.lab.datasets import DatasetInfo

DEFAULT_BUDGET = 150


class BenchRunError(KilnError):
    """A strategy failed during a benchmark run."""


@dataclass(frozen=True)
class DatasetMeta:
    """What the results file says about the data: where it came from and how the pool was set up."""

    name: str
    file: str | None
    rows: int
    target: str
    direction: str
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class BenchSettings:
    """Runs per strategy, initial random candidates, experiments per run (initial included), seed, processes,
    and experiments in flight per run (1: the literature's one experiment per cycle)."""

    runs: int = 50
    initial: int = 2
    budget: int = DEFAULT_BUDGET
    seed: int = 0
    jobs: int = 1
    in_flight: int = 1


def check_settings(
    size: int, *, runs: int, initial: int, budget: int | None, seed: int, jobs: int | None, in_flight: int = 1
) -> BenchSettings:
    """Validated settings for a pool of N = ``size``: budget defaults to min(N, 150) and is capped at N."""
    if runs < 1:
        raise ValidationError("--runs", runs, "at least 1 run is required", "e.g. --runs 50")
    if not 1 <= initial < size:
        raise ValidationError("--initial", initial, f"between 1 and N - 1 = {size - 1} is required", "e.g. 2")
    if budget is not None and budget < 1:
        raise ValidationError("--budget", budget, "at least 1 experiment is required", "e.g. --budget 100")
    effective = min(size, DEFAULT_BUDGET) if budget is None else min(budget, size)
    if effective < initial:
        raise ValidationError("--budget", budget, f"at least --initial = {initial} is required", "raise --budget")
    if seed < 0:
        raise ValidationError("--seed", seed, "a whole number >= 0 is required", "e.g. --seed 0")
    if jobs is not None and jobs < 1:
        raise ValidationError("--jobs", jobs, "at least 1 process is required", "e.g. --jobs 4")
    if in_flight < 1:
        raise ValidationError("--in-flight", in_flight, "at least 1 experiment is required", "e.g. --in-flight 4")
    return BenchSettings(runs, initial, effective, seed, jobs or os.cpu_count() or 1, in_flight)


def _columns_error(option: str, value: Any, frame: pd.DataFrame) -> ValidationError:
    return ValidationError(option, value, f"columns of the table are {[str(c) for c in frame.columns]}", None)


def _read_table(data: Path | None, dataset: str | None) -> tuple[pd.DataFrame, str, str | None, DatasetInfo | None]:
    """The rows of a CSV file or a built-in dataset: (frame, name, file or None, the dataset's info or None)."""
    import pandas as pd

    if (data is None) == (dataset is None):
        raise ValidationError("--data", data, "exactly one of --data FILE.csv or --dataset NAME is required", None)
    if dataset is not None:
        from kiln.lab.datasets import DATASETS, dataset_info, load_dataset

        if dataset not in DATASETS:
            raise ValidationError("--dataset", dataset, f"built-in datasets are {sorted(DATASETS)}", None)
        frame = load_dataset(dataset)
        frame.columns = [str(c) for c in frame.columns]
        return frame, dataset, None, dataset_info(dataset)
    assert data is not None
    try:
        frame = pd.read_csv(data)
    except FileNotFoundError:
        raise ValidationError("--data", str(data), "the file does not exist", "check the path") from None
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValidationError("--data", str(data), f"a readable CSV file is required ({error})", None) from None
    frame.columns = [str(c) for c in frame.columns]
    return frame, data.stem, str(data), None


def _check_measured(option: str, column: str, frame: pd.DataFrame) -> None:
    """ValidationError unless ``column`` is a numeric column of ``frame`` with a finite value in every row."""
    import pandas as pd

    if column not in frame.columns:
        raise _columns_error(option, column, frame)
    if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
        raise ValidationError(option, column, "a numeric column is required", "pick a measured column")
    count = int((~np.isfinite(frame[column].to_numpy(dtype=float))).sum())
    if count:
        raise ValidationError(option, column, f"{count} row(s) have no finite value", "remove those rows")


def _check_inputs(frame: pd.DataFrame, inputs: Sequence[str] | None, measured: Sequence[str]) -> list[str]:
    """The input columns: ``inputs``, or every column that is not measured; checked against ``frame``."""
    columns = list(inputs) if inputs else [c for c in frame.columns if c not in measured]
    unknown = [c for c in columns if c not in frame.columns]
    if unknown or not columns:
        raise _columns_error("--inputs", unknown or columns, frame)
    clash = [c for c in columns if c in measured]
    if clash:
        raise ValidationError(
            "--inputs", columns, f"{clash} are measured (a target or constrained column)", "remove them from --inputs"
        )
    if frame[columns].isna().any().any():
        raise ValidationError("--inputs", columns, "every input must have a value in every row", "fill the blanks")
    return columns


def load_problem(
    *,
    data: Path | None = None,
    dataset: str | None = None,
    target: str | None = None,
    direction: str | None = None,
    inputs: Sequence[str] | None = None,
    encoding: str = "auto",
) -> tuple[PoolProblem, DatasetMeta]:
    """The grouped pool of a CSV file (``data``) or a built-in ``dataset``, and its description.

    With a CSV, ``target`` and ``direction`` are required and ``inputs`` default to every other column; with a
    built-in dataset they default to the dataset's.
    """
    frame, name, file, info = _read_table(data, dataset)
    if info is not None:
        target, direction = target or info.target, direction or info.direction
        inputs = inputs or info.inputs
    else:
        if target is None:
            raise ValidationError("--target", None, "the objective column is required with --data", None)
        if direction is None:
            raise ValidationError("--direction", None, "max or min is required with --data", None)
    if direction not in ("max", "min"):
        raise ValidationError("--direction", direction, "max or min is required", None)
    _check_measured("--target", target, frame)
    if inputs and target in inputs:
        raise ValidationError("--inputs", list(inputs), "the target cannot be an input", "remove it from --inputs")
    columns = _check_inputs(frame, inputs, [target])
    try:
        problem = PoolProblem.from_frame(frame, columns, target, direction, encoding=encoding)
    except ValidationError as error:
        if error.field.startswith("pool"):
            raise ValidationError("--encoding", encoding, str(error), None) from None
        raise ValidationError("--inputs", columns, str(error), None) from None
    if problem.size < 2:
        raise ValidationError("--data", file or name, "at least 2 distinct candidates are required", None)
    return problem, DatasetMeta(name, file, len(frame), target, direction, tuple(columns))


def is_multi_target(dataset: str | None, targets: Sequence[str] | None, constraints: Sequence[str] | None) -> bool:
    """Whether a benchmark is measured by HV%: several targets (given, or a built-in dataset's) or a constraint."""
    if constraints or (targets and len(targets) > 1):
        return True
    if targets or dataset is None:
        return False
    from kiln.lab.datasets import DATASETS

    return dataset in DATASETS and len(DATASETS[dataset].measured) > 1


def load_hv_problem(
    *,
    data: Path | None = None,
    dataset: str | None = None,
    targets: Sequence[str] | None = None,
    directions: Sequence[str] | None = None,
    constraints: Sequence[str] = (),
    inputs: Sequence[str] | None = None,
    encoding: str = "auto",
) -> tuple[HVProblem, DatasetMeta]:
    """The grouped pool with several targets (``--target`` / ``--direction`` pairs, in order) and constraints.

    A built-in dataset's targets default to its measured columns with their directions, and a direction to the
    dataset's for a column it measures; with a CSV every target needs its direction.
    """
    frame, name, file, info = _read_table(data, dataset)
    known = dict(info.measured) if info is not None else {}
    if not targets:
        if info is None:
            raise ValidationError("--target", None, "the objective columns are required with --data", None)
        targets = info.columns
    given = list(directions or [])
    if given and len(given) != len(targets):
        raise ValidationError(
            "--direction",
            given,
            f"one direction per --target is required ({len(targets)} targets)",
            "give --direction after each --target",
        )
    if len(set(targets)) != len(targets):
        raise ValidationError("--target", list(targets), "each target may be given once", "remove the repeat")
    resolved: list[str] = []
    for index, column in enumerate(targets):
        direction = given[index] if given else known.get(column)
        if direction is None:
            raise ValidationError(
                "--direction", column, "max or min is required for each target", "give --direction after each --target"
            )
        if direction not in ("max", "min"):
            raise ValidationError("--direction", direction, "max or min is required", None)
        resolved.append(direction)
        _check_measured("--target", column, frame)
    bounds = [parse_constraint(text) for text in constraints]
    for bound in bounds:
        _check_measured("--constraint", bound.name, frame)
        if bound.name in targets:
            raise ValidationError(
                "--constraint", str(bound), "a target cannot also be constrained", "constrain a column not optimised"
            )
    measured = [*targets, *(b.name for b in bounds)]
    columns = _check_inputs(frame, inputs or (info.inputs if info is not None else None), measured)
    try:
        problem = HVProblem.from_frame(frame, columns, list(targets), resolved, bounds, encoding=encoding)
    except ValidationError as error:
        if error.field.startswith("pool"):
            raise ValidationError("--encoding", encoding, str(error), None) from None
        if error.field in ("inputs",):
            raise ValidationError("--inputs", columns, str(error), None) from None
        raise
    if problem.size < 2:
        raise ValidationError("--data", file or name, "at least 2 distinct candidates are required", None)
    meta = DatasetMeta(name, file, len(frame), ", ".join(targets), ", ".join(resolved), tuple(columns))
    return problem, meta


# ----------------------------------------------------------------------------------------------------- running
_WORKER_PROBLEM: PoolProblem | HVProblem | MapProblem | None = None


_NUMPY_ONLY = frozenset({"random", "sobol"})


def _needs_torch(entries: Sequence[StrategyEntry]) -> bool:
    """Whether a strategy may use torch (all but Kiln's model-free ones): then torch is limited to one thread."""
    return any(entry.peer or (entry.config or {}).get("kind") not in _NUMPY_ONLY for entry in entries)


def _init_worker(problem: PoolProblem | HVProblem | MapProblem, torch_threads: bool) -> None:
    global _WORKER_PROBLEM
    _WORKER_PROBLEM = problem
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if torch_threads:
        from kiln.models.gp import limit_threads

        limit_threads(1)  # the variables above come too late for the BLAS libraries loaded already


def _one_run(
    entry: StrategyEntry, run: int, settings: BenchSettings
) -> Trajectory | HVTrajectory | MapTrajectory | str:
    """Run ``run`` of ``entry`` on the worker's problem; a KilnError comes back as its message (picklable)."""
    assert _WORKER_PROBLEM is not None
    runner: Any = run_trajectory
    if isinstance(_WORKER_PROBLEM, HVProblem):
        runner = run_hv_trajectory
    elif isinstance(_WORKER_PROBLEM, MapProblem):
        runner = run_map_trajectory
    try:
        return runner(
            _WORKER_PROBLEM,  # type: ignore[arg-type]
            entry.build(),
            seed=run_seed(settings.seed, run),
            budget=settings.budget,
            initial=settings.initial,
            in_flight=settings.in_flight,
        )
    except KilnError as error:
        return str(error)


def check_strategies(entries: Sequence[StrategyEntry]) -> None:
    """Build every strategy once: a config that cannot be built fails here, before any run starts."""
    for entry in entries:
        entry.build()


def run_bench(
    problem: PoolProblem | HVProblem | MapProblem,
    entries: Sequence[StrategyEntry],
    settings: BenchSettings,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[Any]]:
    """``settings.runs`` runs of every strategy, in ``settings.jobs`` processes: name -> trajectories by run.

    Trajectories are ``Trajectory`` for a PoolProblem, ``HVTrajectory`` for an HVProblem. ``check_strategies``
    runs first. ``on_progress(done, total)`` is called after each finished run.
    """
    global _WORKER_PROBLEM
    check_strategies(entries)
    tasks = [(entry, run) for run in range(settings.runs) for entry in entries]
    results: dict[tuple[str, int], Trajectory | HVTrajectory | MapTrajectory] = {}

    def collect(entry: StrategyEntry, run: int, outcome: Trajectory | HVTrajectory | MapTrajectory | str) -> None:
        if isinstance(outcome, str):
            raise BenchRunError(f"strategy {entry.name!r}, run {run}: {outcome}")
        results[entry.name, run] = outcome
        if on_progress is not None:
            on_progress(len(results), len(tasks))

    jobs, torch_threads = min(settings.jobs, len(tasks)), _needs_torch(entries)
    if jobs <= 1:
        from kiln.models.gp import limit_threads

        restore, saved = limit_threads(1 if torch_threads else None), _WORKER_PROBLEM
        _WORKER_PROBLEM = problem
        try:
            for entry, run in tasks:
                collect(entry, run, _one_run(entry, run, settings))
        finally:
            _WORKER_PROBLEM = saved
            restore()
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch threads
        executor = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init_worker, initargs=(problem, torch_threads)
        )
        try:
            futures: dict[Future[Trajectory | HVTrajectory | MapTrajectory | str], tuple[StrategyEntry, int]] = {
                executor.submit(_one_run, entry, run, settings): (entry, run) for entry, run in tasks
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    collect(*futures[future], future.result())
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
    return {entry.name: [results[entry.name, run] for run in range(settings.runs)] for entry in entries}


# ----------------------------------------------------------------------------------------------------- results
def median_or_none(values: Sequence[int | None]) -> float | None:
    """Median of ``values`` counting None (not reached) as worse than any number; None if that median is None."""
    ordered = sorted(values, key=lambda v: math.inf if v is None else v)
    if not ordered:
        return None
    middle = len(ordered) // 2
    pair = ordered[middle - 1 : middle + 1] if len(ordered) % 2 == 0 else [ordered[middle]]
    if any(v is None for v in pair):
        return None
    return float(sum(v for v in pair if v is not None) / len(pair))


def seed_by_seed(
    per_run: Mapping[str, Mapping[int, float | None]], names: Sequence[str], metric: str
) -> dict[str, dict[str, Any]]:
    """Each strategy after the first against the first, on the runs of the same seeds (``paired``): in how many
    it needed ``fewer`` / ``more`` / the ``same`` cycles to ``metric`` (per run: seed -> cycles, None never), and
    the sign test's ``p_value``. Empty for one strategy."""
    out: dict[str, dict[str, Any]] = {}
    for name in names[1:]:
        result = paired(per_run[name], per_run[names[0]])
        out[name] = {
            "against": names[0],
            "metric": metric,
            "fewer": result.better,
            "more": result.worse,
            "same": result.same,
            "p_value": result.p_value,
        }
    return out


def _curve(values: Any) -> list[float]:
    return [float(v) for v in values]


def results_json(
    problem: PoolProblem,
    meta: DatasetMeta,
    settings: BenchSettings,
    entries: Sequence[StrategyEntry],
    trajectories: dict[str, list[Trajectory]],
) -> dict[str, Any]:
    """The results file's content (see docs/bench.md): dataset, settings, baseline and one block per strategy."""
    from kiln.bench.suite_summary import cycles_per_run, judged_metrics

    top_size = len(problem.top)
    best_1pct = problem.best(0.01)
    metric = judged_metrics(problem.size)[0]
    per_run: dict[str, dict[int, float | None]] = {}
    for entry in entries:
        runs = trajectories[entry.name]
        per_run[entry.name] = dict(zip((t.seed for t in runs), cycles_per_run(problem, runs)[metric], strict=True))
    versus = seed_by_seed(per_run, [e.name for e in entries], metric)
    strategies: dict[str, Any] = {}
    for entry in entries:
        runs = trajectories[entry.name]
        summary = summarize([t.found for t in runs], top_size, problem.size)
        hits = [first_hit([*t.initial, *t.chosen], best_1pct) for t in runs]
        strategies[entry.name] = {
            **entry.describe(),
            "cycles_to_top": {f"{a:.1f}": summary.cycles_to_top[a] for a in FRACTIONS},
            "cycles_to_top_interval": {f"{a:.1f}": summary.cycles_to_top_interval[a] for a in FRACTIONS},
            "reached": {f"{a:.1f}": summary.reached[a] for a in FRACTIONS},
            "cycles_to_top_mean_curve": {f"{a:.1f}": summary.mean_curve_cycles_to_top[a] for a in FRACTIONS},
            "ef_max": summary.ef_max,
            "af_at_0.8": summary.af_at_08,
            "cycles_to_best_1pct": median_or_none(hits),
            "cycles_to_best_1pct_interval": median_interval([math.inf if h is None else h for h in hits]),
            "reached_best_1pct": sum(h is not None for h in hits),
            "top_percent": {k: _curve(v) for k, v in summary.top_percent.items()},
            "enhancement": {k: _curve(v) for k, v in summary.enhancement.items()},
            "runs": [
                {"run": r, "seed": t.seed, "initial": list(t.initial), "found": list(t.found), "chosen": list(t.chosen)}
                for r, t in enumerate(runs)
            ],
            **({"seed_by_seed": versus[entry.name]} if entry.name in versus else {}),
        }
    return {
        "dataset": {
            "name": meta.name,
            "file": meta.file,
            "rows": meta.rows,
            "N": problem.size,
            "top_size": top_size,
            "threshold": problem.threshold,
            "target": meta.target,
            "direction": meta.direction,
            "inputs": list(meta.inputs),
            "encodings": problem.pool.describe_encodings(),
        },
        "settings": {
            "runs": settings.runs,
            "initial": settings.initial,
            "budget": settings.budget,
            "seed": settings.seed,
            "in_flight": settings.in_flight,
            "top_fraction": 0.05,
        },
        "random_baseline": {"top_percent": _curve(random_top_percent(settings.budget, problem.size))},
        "strategies": strategies,
    }


def hv_results_json(
    problem: HVProblem,
    meta: DatasetMeta,
    settings: BenchSettings,
    entries: Sequence[StrategyEntry],
    trajectories: dict[str, list[HVTrajectory]],
) -> dict[str, Any]:
    """The results file of a benchmark with several targets or constraints (see docs/bench.md)."""
    per_run: dict[str, dict[int, float | None]] = {}
    for entry in entries:
        runs = trajectories[entry.name]
        first = cycles_to_hv(np.array([t.hv_percent for t in runs], dtype=float).reshape(len(runs), -1), 0.95)
        per_run[entry.name] = {
            t.seed: (float(c) if math.isfinite(c) else None) for t, c in zip(runs, first, strict=True)
        }
    versus = seed_by_seed(per_run, [e.name for e in entries], "hv_0.95")
    strategies: dict[str, Any] = {}
    for entry in entries:
        runs = trajectories[entry.name]
        curves = np.array([t.hv_percent for t in runs], dtype=float).reshape(len(runs), -1)
        cycles = {level: cycles_to_hv(curves, level) for level in HV_LEVELS}
        band = quartile_band(curves)
        strategies[entry.name] = {
            **entry.describe(),
            "cycles_to_hv": {f"{a:g}": median_cycles(c) for a, c in cycles.items()},
            "cycles_to_hv_interval": {f"{a:g}": median_interval(c) for a, c in cycles.items()},
            "reached": {f"{a:g}": int(np.isfinite(c).sum()) for a, c in cycles.items()},
            "hv_percent": {k: _curve(v) for k, v in band.items()},
            "runs": [
                {
                    "run": r,
                    "seed": t.seed,
                    "initial": list(t.initial),
                    "chosen": list(t.chosen),
                    "hv_percent": list(t.hv_percent),
                }
                for r, t in enumerate(runs)
            ],
            **({"seed_by_seed": versus[entry.name]} if entry.name in versus else {}),
        }
    return {
        "metric": "hypervolume",
        "dataset": {
            "name": meta.name,
            "file": meta.file,
            "rows": meta.rows,
            "N": problem.size,
            "targets": list(problem.targets),
            "directions": list(problem.directions),
            "constraints": [str(c) for c in problem.constraints],
            "inputs": list(meta.inputs),
            "encodings": problem.pool.describe_encodings(),
            "feasible": int(problem.feasible.sum()),
            "pareto_size": len(problem.pareto()),
            "reference": {
                t: float(v if d == "max" else -v)
                for t, d, v in zip(problem.targets, problem.directions, problem.reference, strict=True)
            },
            "pool_hypervolume": problem.total,
        },
        "settings": {
            "runs": settings.runs,
            "initial": settings.initial,
            "budget": settings.budget,
            "seed": settings.seed,
            "in_flight": settings.in_flight,
            "hv_levels": list(HV_LEVELS),
        },
        "strategies": strategies,
    }
