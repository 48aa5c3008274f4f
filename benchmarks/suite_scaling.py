"""Runs per minute of ``kiln bench suite`` on Ray with 1 and 2 worker nodes of one CPU each (docs/benchmarks.md).

Each measurement starts a local cluster (a head without CPUs and the workers, ``kiln.bench.suite_ray``), then
times ``run_suite`` on a fresh results folder: the same suite every time (Kiln's default on the built-in P3HT/CNT
pool). Cluster start-up is not timed; the driver's first connection is.

    .venv/bin/python benchmarks/suite_scaling.py [--runs 8] [--budget 30] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from kiln.bench.suite import run_suite
from kiln.bench.suite_ray import LocalRayCluster
from kiln.bench.suite_spec import load_suite


def measure(workers: int, runs: int, budget: int, folder: Path) -> float:
    """Runs per minute with ``workers`` one-CPU worker nodes."""
    path = folder / f"suite-{workers}.yaml"
    body = {"runs": runs, "budget": budget, "strategies": ["kiln"], "datasets": [{"name": "p3ht"}]}
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    suite = load_suite(path)
    with LocalRayCluster(head_cpus=0, workers=workers, log_folder=folder) as cluster:
        start = time.perf_counter()
        run_suite(suite, folder / f"results-{workers}", ray_address=cluster.address)
        seconds = time.perf_counter() - start
    return runs / (seconds / 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        rates = {w: measure(w, arguments.runs, arguments.budget, Path(scratch)) for w in arguments.workers}
    base = rates[arguments.workers[0]]
    print(json.dumps({"runs": arguments.runs, "budget": arguments.budget, "runs_per_minute": rates}, indent=1))
    for workers, rate in rates.items():
        print(f"{workers} worker(s): {rate:.2f} runs/min, {rate / base:.2f} x")


if __name__ == "__main__":
    main()
