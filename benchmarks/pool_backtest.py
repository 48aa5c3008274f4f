"""Pool-based backtests of several strategies on several built-in datasets, as one markdown table.

A thin wrapper of ``kiln bench pool`` (kiln.bench.runner), which runs one dataset at a time and also writes JSON
results and a plot; this script loops over datasets for the tables of docs/benchmarks.md. Strategies are names
(``kiln bench strategies``) or JSON configs.

    .venv/bin/python benchmarks/pool_backtest.py --datasets p3ht crossed-barrel --runs 10 --budget 60 \
        --strategy kiln --strategy random --strategy '{"kind": "default", "kernel": "rbf"}'
"""

from __future__ import annotations

import argparse

from kiln.bench.registry import resolve_strategies
from kiln.bench.runner import check_settings, load_problem, results_json, run_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["p3ht", "crossed-barrel"])
    parser.add_argument("--strategy", action="append", default=None, help="name or JSON config; repeatable")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--initial", type=int, default=2)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    entries = resolve_strategies(args.strategy or ["kiln"])
    print("| dataset | strategy | cycles to Top% 0.5 | cycles to Top% 0.8 | share of top found at budget |")
    print("|---|---|---|---|---|")
    for dataset in args.datasets:
        problem, meta = load_problem(dataset=dataset)
        settings = check_settings(
            problem.size, runs=args.runs, initial=args.initial, budget=args.budget, seed=args.seed, jobs=args.jobs
        )
        results = results_json(problem, meta, settings, entries, run_bench(problem, entries, settings))
        for name, block in results["strategies"].items():
            cycles = [block["cycles_to_top"][a] for a in ("0.5", "0.8")]
            shown = [f">{settings.budget}" if c is None else f"{c:g}" for c in cycles]
            share = block["top_percent"]["median"][-1]
            print(f"| {dataset} | {name} | {shown[0]} | {shown[1]} | {share:.2f} |", flush=True)


if __name__ == "__main__":
    main()
