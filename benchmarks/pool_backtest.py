"""Pool-based backtests of strategies on the built-in datasets (Liang et al. 2021 procedure).

Prints, per dataset and strategy, the median cycles to find 50 % and 80 % of the top-5 % set and the median share
of the top set found within the budget, over ``--runs`` seeded runs in parallel processes.

    .venv/bin/python benchmarks/pool_backtest.py --datasets p3ht crossed-barrel --runs 10 --budget 60 \
        --strategy '{"kind": "default"}' --strategy '{"kind": "random"}'
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from kiln.bench.backtest import PoolProblem, cycles_to_fraction, run_backtest
from kiln.lab.datasets import dataset_info, load_dataset


def one_run(dataset: str, strategy: dict[str, Any], seed: int, budget: int) -> list[int]:
    import torch

    torch.set_num_threads(1)
    info = dataset_info(dataset)
    problem = PoolProblem.from_frame(load_dataset(dataset), info.inputs, info.target, info.direction)
    return run_backtest(problem, strategy, seed=seed, budget=budget)


def median_or_none(values: list[int | None], budget: int) -> str:
    reached = [v for v in values if v is not None]
    if len(reached) * 2 <= len(values):
        return f">{budget}"
    padded = sorted(v if v is not None else budget + 1 for v in values)
    return f"{statistics.median(padded):g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["p3ht", "crossed-barrel"])
    parser.add_argument("--strategy", action="append", default=None, help="JSON strategy config; repeatable")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    strategies = [json.loads(s) for s in (args.strategy or ['{"kind": "default"}'])]
    print("| dataset | strategy | cycles to Top% 0.5 | cycles to Top% 0.8 | share of top found at budget |")
    print("|---|---|---|---|---|")
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for dataset in args.datasets:
            info = dataset_info(dataset)
            top_size = len(PoolProblem.from_frame(load_dataset(dataset), info.inputs, info.target).top)
            for strategy in strategies:
                futures = [pool.submit(one_run, dataset, strategy, seed, args.budget) for seed in range(args.runs)]
                runs = [f.result() for f in futures]
                half = [cycles_to_fraction(r, top_size, 0.5) for r in runs]
                most = [cycles_to_fraction(r, top_size, 0.8) for r in runs]
                share = statistics.median(r[-1] / top_size for r in runs)
                print(
                    f"| {dataset} | {json.dumps(strategy)} | {median_or_none(half, args.budget)} | "
                    f"{median_or_none(most, args.budget)} | {share:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
