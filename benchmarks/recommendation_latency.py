"""Seconds per recommendation of Kiln's default strategy (GP fit + acquisition optimisation).

Cases: a 6-d continuous space with n = 20, 100, 500 observations of the Hartmann-6 function, and a 10,000-row
candidate pool (6 numeric columns) with n = 100 and 500 observations. Prints a Markdown table of medians over repeats.

    .venv/bin/python benchmarks/recommendation_latency.py [--repeats 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np

from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space import CandidatePool, Continuous, SearchSpace
from kiln.space.config import Domain
from kiln.strategies.base import History
from kiln.strategies.default import DefaultStrategy

_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(X: np.ndarray) -> np.ndarray:
    """The Hartmann-6 test function on [0, 1]^6 (n x 6 -> n), maximum about 3.32."""
    inner = ((X[:, None, :] - _P[None]) ** 2 * _A[None]).sum(-1)
    return np.asarray((_ALPHA * np.exp(-inner)).sum(-1))


def history_for(domain: Domain, X: np.ndarray) -> History:
    names = domain.names
    experiments = [
        Experiment(
            id=f"exp-{i}",
            seq=i + 1,
            params=dict(zip(names, map(float, x), strict=True)),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(v)},
        )
        for i, (x, v) in enumerate(zip(X, hartmann6(X), strict=True))
    ]
    return History(completed=experiments)


def time_case(domain: Domain, n: int, repeats: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    if isinstance(domain, CandidatePool):
        X = domain.encoded[rng.choice(len(domain), size=n, replace=False)]
    else:
        X = rng.random((n, 6))
    history = history_for(domain, X)
    strategy = DefaultStrategy()
    objective = Objective.maximize("y")
    strategy.propose(domain, objective, history, 1, seed=0)  # warm-up: imports and first compilation
    seconds = []
    for r in range(repeats):
        start = time.perf_counter()
        strategy.propose(domain, objective, history, 1, seed=r)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    import torch

    space = SearchSpace([Continuous(f"x{i}", 0.0, 1.0) for i in range(6)])
    rows = np.random.default_rng(1).random((10_000, 6))
    pool = CandidatePool([f"x{i}" for i in range(6)], rows.tolist())
    cases: list[tuple[str, Domain, int]] = [
        ("6-d continuous", space, 20),
        ("6-d continuous", space, 100),
        ("6-d continuous", space, 500),
        ("10,000-row pool", pool, 100),
        ("10,000-row pool", pool, 500),
    ]
    results: list[dict[str, Any]] = []
    print(f"torch threads: {torch.get_num_threads()}; median of {args.repeats} recommendations each\n")
    print("| case | observations | seconds per recommendation |")
    print("|---|---|---|")
    for label, domain, n in cases:
        seconds = time_case(domain, n, args.repeats, seed=n)
        results.append({"case": label, "n": n, "seconds": seconds})
        print(f"| {label} | {n} | {seconds:.3f} |", flush=True)
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
