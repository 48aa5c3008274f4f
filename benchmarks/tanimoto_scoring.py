"""Seconds to fit and score a GP whose fingerprint columns have a Tanimoto kernel (``kiln.models.kernels``).

A pool of ``--rows`` candidates, each 4 continuous columns and a ``--bits``-bit fingerprint (5 % of bits set),
modelled with the kernel layout ScaleKernel(Matern 5/2 on the 4 columns x Tanimoto on the bits); the GP is fitted
on ``--n`` of them. Timed, median of 3: the fit, the posterior mean and std of every row, and ``score`` of the
whole pool with LogEI (analytic, no pending experiments), with LogEI and 2 pending experiments (Monte Carlo: each
row scored jointly with them) and with UCB and 2 pending experiments (kriging believer).

    .venv/bin/python benchmarks/tanimoto_scoring.py [--rows 3696] [--bits 2048] [--n 100]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kiln.models import fit_gp
from kiln.space.kernel_layout import FeatureBlock, KernelLayout
from kiln.strategies.acquisition import UCB, LogEI, build_acquisition, score


def _median_seconds(work: Callable[[], Any]) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=3696)
    parser.add_argument("--bits", type=int, default=2048)
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    bits = (rng.random((args.rows, args.bits)) < 0.05).astype(float)
    pool = np.hstack([rng.random((args.rows, 4)), bits])
    layout = KernelLayout(pool.shape[1], (FeatureBlock("tanimoto", tuple(range(4, 4 + args.bits))),))
    rows = rng.choice(args.rows, size=args.n, replace=False)
    y = np.sin(3 * pool[rows, 0]) + pool[rows, 1] + bits[rows, :64].sum(1) / 4
    fitted = fit_gp(pool[rows], y, seed=0, layout=layout)
    pending = pool[rng.choice(args.rows, size=2, replace=False)]
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("fit", lambda: fit_gp(pool[rows], y, seed=0, layout=layout)),
        ("posterior mean and std of every row", lambda: fitted.posterior_mean_std(pool)),
        ("score, logei", lambda: score(build_acquisition(LogEI(), fitted, seed=0), pool)),
        ("score, logei, 2 pending", lambda: score(build_acquisition(LogEI(), fitted, pending=pending, seed=0), pool)),
        ("score, ucb, 2 pending", lambda: score(build_acquisition(UCB(), fitted, pending=pending, seed=0), pool)),
    ]
    print(f"| {args.rows} rows, {args.bits} bits, n = {args.n} | seconds |")
    print("|---|---|")
    for name, work in cases:
        print(f"| {name} | {_median_seconds(work):.2f} |")


if __name__ == "__main__":
    main()
