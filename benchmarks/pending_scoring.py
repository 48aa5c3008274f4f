"""Seconds to score a candidate pool with a Monte Carlo acquisition that knows of pending experiments.

Fits the GP on 500 observations of a smooth 6-d function, builds ``logei`` with k pending points (the Monte Carlo
qLogEI, which scores each candidate jointly with the pending ones) and times ``score`` on a 10,000-row pool:
median of 3. UCB, the default, folds pending points in by the kriging believer and is not affected.

    .venv/bin/python benchmarks/pending_scoring.py [--rows 10000] [--pending 4 16]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from kiln.models import fit_gp
from kiln.strategies.acquisition import build_acquisition, score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pending", type=int, nargs="+", default=[4, 16])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    X = rng.random((500, 6))
    fitted = fit_gp(X, np.sin(X.sum(1)) + 0.1 * rng.random(500), seed=0)
    pool = rng.random((args.rows, 6))
    print("| pending points | seconds per scoring of the pool | best row |")
    print("|---|---|---|")
    for k in args.pending:
        acquisition = build_acquisition("logei", fitted, pending=rng.random((k, 6)), seed=1)
        times, values = [], np.zeros(0)
        for _ in range(3):
            start = time.perf_counter()
            values = score(acquisition, pool)
            times.append(time.perf_counter() - start)
        print(f"| {k} | {statistics.median(times):.2f} | {int(np.argmax(values))} |")


if __name__ == "__main__":
    main()
