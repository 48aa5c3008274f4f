"""Seconds to fit the deep-kernel GP (``kiln.models.dkl``) and to score every pixel of an overview with it.

A synthetic overview (bright discs on a noisy background; the reward is high on their edges) as a pixel pool with
9 x 9 patches (``kiln.space.pool_image.pixel_pool``). Timed, median of ``--repeats``, one torch thread (as Kiln
runs its models), wall-clock and CPU seconds: the fit (Adam on the exact marginal likelihood, the strategy's
default settings) on n = 50 and n = 200 measured pixels; the embedding (CNN) and UCB scoring of every pixel of a
128 x 128 (16,384) and a 256 x 256 (65,536) overview; one whole step of strategy ``dkl`` (train on 50 pixels +
score all the others) for a batch of 1 and of 4 with UCB (kriging believer) and log EI (each pixel scored jointly
with the batch so far).

    .venv/bin/python benchmarks/dkl_latency.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kiln.core.records import Experiment, ExperimentStatus
from kiln.models.gp import torch_threads
from kiln.objective import Objective
from kiln.space.pool import CandidatePool
from kiln.space.pool_image import pixel_pool
from kiln.strategies.acquisition import UCB, build_acquisition, score
from kiln.strategies.base import History
from kiln.strategies.dkl import DKLStrategy


def overview(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(image, reward), size x size: discs of radius 2.5 to 4 (one per 85 pixels), reward high on their edges."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    image, distance = np.zeros((size, size)), np.full((size, size), np.inf)
    for _ in range(size * size // 85):
        cx, cy, radius = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(2.5, 4)
        centre = np.hypot(xx - cx, yy - cy)
        image = np.maximum(image, 1.0 / (1.0 + np.exp(-(radius - centre) / 0.7)))
        distance = np.minimum(distance, np.abs(centre - radius))
    return image + rng.normal(0.0, 0.05, image.shape), np.exp(-0.5 * distance**2).reshape(-1)


def median_seconds(work: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Medians of (wall-clock seconds, CPU seconds of this process) over ``repeats`` runs of ``work``. With one
    torch thread the CPU seconds are what the work takes on an idle core, even on a machine shared with others."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def history(pool: CandidatePool, truth: np.ndarray, keys: np.ndarray) -> History:
    return History.from_experiments(
        [
            Experiment(
                id=f"e{i}",
                seq=i,
                params=pool.row(int(k)),
                status=ExperimentStatus.COMPLETED,
                results={"r": float(truth[k])},
                candidate=int(k),
            )
            for i, k in enumerate(keys)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    strategy = DKLStrategy()
    rows: list[tuple[str, tuple[float, float]]] = []
    pools = {}
    for size in (128, 256):
        image, truth = overview(size)
        pools[size] = (pixel_pool(image, patch=9), truth)
        pools[size][0].encoded  # noqa: B018 - the pool's model coordinates, computed once per pool
    pool, truth = pools[128]
    rng = np.random.default_rng(1)
    with torch_threads():
        for n in (50, 200):
            keys = rng.choice(len(pool), n, replace=False)
            fitted = strategy.fit(pool, keys, truth[keys], seed=0)
            seconds = median_seconds(lambda k=keys: strategy.fit(pool, k, truth[k], seed=0), args.repeats)
            rows.append((f"fit, n = {n} ({fitted.iterations} Adam steps)", seconds))
        fitted = strategy.fit(pool, keys[:50], truth[keys[:50]], seed=0)
        for size in (128, 256):
            big, _ = pools[size]
            every = np.arange(len(big))

            def embed_and_score(big: CandidatePool = big, every: np.ndarray = every) -> None:
                Z = strategy.embed(big, fitted, every)
                score(build_acquisition(UCB(), fitted.gp), Z)

            embed = median_seconds(lambda big=big, every=every: strategy.embed(big, fitted, every), args.repeats)
            rows.append((f"embed every pixel, {size} x {size} ({len(big):,})", embed))
            rows.append(
                (f"embed + UCB score every pixel, {size} x {size}", median_seconds(embed_and_score, args.repeats))
            )
    objective = Objective.maximize("r")
    measured = history(pool, truth, keys[:50])
    for acquisition, batch in (("ucb", 1), ("ucb", 4), ("ei", 4)):
        step = DKLStrategy(acquisition=acquisition)
        seconds = median_seconds(lambda s=step, b=batch: s.propose(pool, objective, measured, b, seed=0), args.repeats)
        rows.append((f"strategy step, 128 x 128, n = 50, {acquisition}, batch {batch}", seconds))
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores, medians of {args.repeats}")
    print("| seconds | wall-clock | CPU (1 thread) |\n|---|---|---|")
    for name, (wall, cpu) in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
