"""Map backtests (active learning) for the "Mapping" table of docs/benchmarks.md.

A thin wrapper of the procedure of ``kiln bench pool --goal map`` (kiln.bench.mapping): the same runs, then the
table of the issue's targets: the median R^2 over the pool that random sampling reaches at ``--reference``
experiments, and the median experiments every strategy needs to reach it (and R^2 0.8 / 0.9).

    nice -n 10 .venv/bin/python benchmarks/mapping.py --data benchmarks/suites/data/olympus_oer_plate_3851.csv \
        --target overpotential --direction min --runs 10 --budget 200 --reference 200 --out oer-map.json
    nice -n 10 .venv/bin/python benchmarks/mapping.py --dataset p3ht --runs 10 --budget 60 --reference 60

With ``--log FILE`` every finished run is appended to FILE (JSON lines) as it finishes, and runs already there are
not run again: a long benchmark can be stopped and resumed, and ``--runs`` lowered to the runs that finished.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kiln.bench.backtest import run_seed
from kiln.bench.mapping import (
    MapProblem,
    MapTrajectory,
    experiments_to_r2,
    experiments_to_reach,
    map_results_json,
    r2_at,
    run_map_trajectory,
)
from kiln.bench.registry import MAP_STRATEGIES, StrategyEntry, resolve_strategies
from kiln.bench.runner import BenchSettings, check_settings, load_problem, median_or_none, run_bench

_PROBLEM: MapProblem | None = None


def _init(problem: MapProblem) -> None:
    global _PROBLEM
    import torch

    torch.set_num_threads(1)
    _PROBLEM = problem


def _run(entry: StrategyEntry, run: int, settings: BenchSettings) -> tuple[str, int, MapTrajectory]:
    assert _PROBLEM is not None
    seed = run_seed(settings.seed, run)
    trajectory = run_map_trajectory(
        _PROBLEM, entry.build(), seed=seed, budget=settings.budget, initial=settings.initial
    )
    return entry.name, run, trajectory


def run_logged(
    problem: MapProblem, entries: list[StrategyEntry], settings: BenchSettings, log: Path
) -> dict[str, list[MapTrajectory]]:
    """The runs of ``run_bench``, each appended to ``log`` as it finishes; runs already in ``log`` are reused."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    done: dict[tuple[str, int], MapTrajectory] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            row = json.loads(line)
            done[row["strategy"], row["run"]] = MapTrajectory(
                row["seed"], tuple(row["initial"]), tuple(row["chosen"]), tuple(row["experiments"]),
                tuple(row["rmse"]), tuple(row["r2"]),
            )  # fmt: skip
    tasks = [(e, r) for r in range(settings.runs) for e in entries if (e.name, r) not in done]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(settings.jobs, mp_context=context, initializer=_init, initargs=(problem,)) as pool:
        futures = [pool.submit(_run, e, r, settings) for e, r in tasks]
        for future in as_completed(futures):
            name, run, t = future.result()
            done[name, run] = t
            row = {"strategy": name, "run": run, "seed": t.seed, "initial": list(t.initial), "chosen": list(t.chosen),
                   "experiments": list(t.experiments), "rmse": list(t.rmse), "r2": list(t.r2)}  # fmt: skip
            with log.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
            print(f"  {name} run {run}: R^2 at budget {t.r2[-1]:.3f}", flush=True)
    return {e.name: [done[e.name, r] for r in range(settings.runs)] for e in entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default=None, help="built-in dataset (e.g. p3ht)")
    parser.add_argument("--data", type=Path, default=None, help="CSV file instead of --dataset")
    parser.add_argument("--target", default=None)
    parser.add_argument("--direction", default=None)
    parser.add_argument("--strategy", action="append", default=None, help="name or JSON config; repeatable")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--reference", type=int, default=None, help="random's R^2 at this many experiments")
    parser.add_argument("--initial", type=int, default=2)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--log", type=Path, default=None, help="JSON lines of finished runs (resumable)")
    args = parser.parse_args()

    pool, meta = load_problem(data=args.data, dataset=args.dataset, target=args.target, direction=args.direction)
    problem = MapProblem(pool, every=args.every)
    settings = check_settings(
        problem.size, runs=args.runs, initial=args.initial, budget=args.budget, seed=args.seed, jobs=args.jobs
    )
    entries = resolve_strategies(args.strategy or list(MAP_STRATEGIES))
    started = time.perf_counter()
    if args.log is not None:
        trajectories = run_logged(problem, entries, settings, args.log)
    else:
        trajectories = run_bench(problem, entries, settings)
    results = map_results_json(problem, meta, settings, entries, trajectories)
    seconds = time.perf_counter() - started
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    reference = args.reference or settings.budget
    level = r2_at(results, "random", reference) if "random" in results["strategies"] else None
    print(f"{meta.name}: N = {problem.size}, {settings.runs} runs, budget {settings.budget}, {seconds:.0f} s")
    if level is not None:
        print(f"median R^2 of random at {reference} experiments: {level:.3f}")
    print("| strategy | R^2 at budget | to random's R^2 | to R^2 0.8 | to R^2 0.9 |")
    print("|---|---|---|---|---|")
    budget = settings.budget
    for name, block in results["strategies"].items():
        reach = "-" if level is None else _shown(experiments_to_reach(results, name, level), budget)
        cycles = block["cycles_to_r2"]
        print(
            f"| {name} | {block['r2']['median'][-1]:.3f} | {reach} | {_shown(cycles['0.8'], budget)} | "
            f"{_shown(cycles['0.9'], budget)} |"
        )
    if level is not None:  # per run, for the record
        for name in results["strategies"]:
            runs = results["strategies"][name]["runs"]
            each = [experiments_to_r2(results["experiments"], run["r2"], level) for run in runs]
            print(f"  {name}: runs to random's R^2: {each} (median {median_or_none(each)})")


def _shown(value: float | None, budget: int) -> str:
    return f">{budget}" if value is None else f"{value:g}"


if __name__ == "__main__":
    main()
