"""Pool-based backtests of several strategies on several built-in datasets, as one markdown table.

A thin wrapper of ``kiln bench pool`` (kiln.bench.runner), which runs one dataset at a time and also writes JSON
results and a plot; this script loops over datasets for the tables of docs/benchmarks.md. Strategies are names
(``kiln bench strategies``) or JSON configs. A dataset with several measured columns (suzuki-ii, suzuki-b1), or
any ``--target``/``--constraint`` given here, gives the HV% table (cycles to 90 / 95 / 99 % of the pool's
hypervolume) instead of the Top% one.

    .venv/bin/python benchmarks/pool_backtest.py --datasets p3ht crossed-barrel --runs 10 --budget 60 \
        --strategy kiln --strategy random --strategy '{"kind": "default", "kernel": "rbf"}'
    .venv/bin/python benchmarks/pool_backtest.py --datasets suzuki-ii suzuki-b1 --runs 20 --budget 100 \
        --strategy kiln --strategy random --strategy botorch-defaults
"""

from __future__ import annotations

import argparse

from kiln.bench.registry import resolve_strategies
from kiln.bench.runner import (
    check_settings,
    hv_results_json,
    is_multi_target,
    load_hv_problem,
    load_problem,
    results_json,
    run_bench,
)


def _shown(value: float | None, budget: int) -> str:
    return f">{budget}" if value is None else f"{value:g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["p3ht", "crossed-barrel"])
    parser.add_argument("--strategy", action="append", default=None, help="name or JSON config; repeatable")
    parser.add_argument("--target", action="append", default=None, help="target column; repeatable")
    parser.add_argument("--direction", action="append", default=None, help="max or min per --target")
    parser.add_argument("--constraint", action="append", default=None, help='"COL>=X" or "COL<=X"; repeatable')
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--initial", type=int, default=2)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    entries = resolve_strategies(args.strategy or ["kiln"])
    top_header = False
    for dataset in args.datasets:
        if is_multi_target(dataset, args.target, args.constraint):
            problem, meta = load_hv_problem(
                dataset=dataset, targets=args.target, directions=args.direction, constraints=args.constraint or []
            )
            settings = check_settings(
                problem.size, runs=args.runs, initial=args.initial, budget=args.budget, seed=args.seed, jobs=args.jobs
            )
            results = hv_results_json(problem, meta, settings, entries, run_bench(problem, entries, settings))
            bounds = ", ".join(results["dataset"]["constraints"]) or "none"
            print(f"\n{dataset}: targets {meta.target} ({meta.direction}), constraints {bounds}")
            levels = " | ".join(f"cycles to HV% {a}" for a in ("0.9", "0.95", "0.99"))
            print(f"| dataset | strategy | runs | {levels} | HV% at budget |")
            print("|---|---|---|---|---|---|---|")
            for name, block in results["strategies"].items():
                cycles = [_shown(block["cycles_to_hv"][a], settings.budget) for a in ("0.9", "0.95", "0.99")]
                final = block["hv_percent"]["median"][-1]
                print(f"| {dataset} | {name} | {settings.runs} | {' | '.join(cycles)} | {final:.3f} |", flush=True)
            continue
        one, meta = load_problem(
            dataset=dataset,
            target=(args.target or [None])[0],
            direction=(args.direction or [None])[0],
        )
        settings = check_settings(
            one.size, runs=args.runs, initial=args.initial, budget=args.budget, seed=args.seed, jobs=args.jobs
        )
        results = results_json(one, meta, settings, entries, run_bench(one, entries, settings))
        if not top_header:
            print("| dataset | strategy | cycles to Top% 0.5 | cycles to Top% 0.8 | share of top found at budget |")
            print("|---|---|---|---|---|")
            top_header = True
        for name, block in results["strategies"].items():
            cycles = [_shown(block["cycles_to_top"][a], settings.budget) for a in ("0.5", "0.8")]
            share = block["top_percent"]["median"][-1]
            print(f"| {dataset} | {name} | {cycles[0]} | {cycles[1]} | {share:.2f} |", flush=True)


if __name__ == "__main__":
    main()
