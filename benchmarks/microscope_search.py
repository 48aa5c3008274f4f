"""How fast does a strategy find a simulated sample's best pixels? A small search on the microscope's samples.

For each sample (kind and reward) and run r, the microscope (noise and drift as by default, instant) loads the
sample of seed r, scans its overview, and the pool is every ``stride``-th pixel with the overview attached. A
strategy then chooses one pixel at a time; each spectrum is measured with noise and drift and its reward told to
the campaign (``raster``: a regular grid taken line by line instead of a strategy). The score is the share of the
pool's top 1 % pixels (by the noise-free reward at every pixel, ``kiln.lab.microscope.rewards.reward_map``)
measured after 10, 20, ... spectra; medians over the runs.

    nice .venv/bin/python benchmarks/microscope_search.py [--size 64] [--stride 2] [--budget 40] [--runs 3]
        [--strategies dkl,default,random,raster] [--samples ferroelectric:loop_area,blend:peak_width]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from kiln import Campaign, Objective
from kiln.lab.microscope.instrument import MicroscopeInstrument
from kiln.lab.microscope.rewards import BUILTIN_REWARDS, reward_map
from kiln.lab.microscope.samples import make_sample
from kiln.lab.microscope.settings import MicroscopeSettings
from kiln.space.pool_image import pixel_pool


def one_run(kind: str, reward: str, strategy: str, run: int, args: argparse.Namespace, folder: Path) -> list[float]:
    """Share of the top-1 % pixels measured after each spectrum (budget values)."""
    function = BUILTIN_REWARDS[reward]
    sample = make_sample(kind, run, args.size)
    truth = reward_map(sample, function)[:: args.stride, :: args.stride].ravel()  # the pool's row order
    top = set(np.flatnonzero(truth >= np.quantile(truth, 0.99)).tolist())
    microscope = MicroscopeInstrument(
        {"kind": kind, "seed": run, "size": args.size},
        {reward: function},
        settings=MicroscopeSettings(time_scale=0.0),
        seed=run,
    )
    pool = pixel_pool(microscope.overview_scan_now(), stride=args.stride, patch=9)
    if strategy == "raster":
        return raster(truth, top, args)
    campaign = Campaign.create(
        f"{kind}-{strategy}-{run}",
        space=pool,
        objective=Objective.maximize(reward),
        strategy={"kind": strategy},
        seed=run,
        store=f"sqlite:///{folder / 'bench.db'}",
    )
    found: set[int] = set()
    shares = []
    for _ in range(args.budget):
        (experiment,) = campaign.ask(1)
        reading = microscope.spectrum_now(experiment.params["x"], experiment.params["y"])
        campaign.tell(experiment.id, function(reading.values, reading.axis))
        if experiment.candidate in top:
            found.add(experiment.candidate)
        shares.append(len(found) / len(top))
    return shares


def raster(truth: np.ndarray, top: set[int], args: argparse.Namespace) -> list[float]:
    """The raster baseline: a k x k grid over the pool (k = ceil(sqrt(budget))), taken line by line."""
    side = math.isqrt(truth.size)
    k = int(np.ceil(np.sqrt(args.budget)))
    ticks = np.unique(np.linspace(0, side - 1, k).round().astype(int))
    order = [int(y * side + x) for y in ticks for x in ticks][: args.budget]
    found: set[int] = set()
    shares = []
    for key in order:
        if key in top:
            found.add(key)
        shares.append(len(found) / len(top))
    return shares + [shares[-1]] * (args.budget - len(shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--stride", type=int, default=2)
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--strategies", default="dkl,default,random,raster")
    parser.add_argument("--samples", default="ferroelectric:loop_area,blend:peak_width")
    args = parser.parse_args()
    marks = [n for n in range(10, args.budget + 1, 10)]
    print(f"| sample | reward | strategy | {' | '.join(f'top 1 % found in {n}' for n in marks)} | s per run |")
    print("|---" * (4 + len(marks)) + "|")
    with tempfile.TemporaryDirectory() as name:
        for pair in args.samples.split(","):
            kind, reward = pair.split(":")
            for strategy in args.strategies.split(","):
                started = time.perf_counter()
                runs = [one_run(kind, reward, strategy, r, args, Path(name)) for r in range(args.runs)]
                seconds = (time.perf_counter() - started) / args.runs
                medians = [statistics.median(shares[n - 1] for shares in runs) for n in marks]
                cells = " | ".join(f"{m:.0%}" for m in medians)
                print(f"| {kind} | {reward} | {strategy} | {cells} | {seconds:.0f} |", flush=True)


if __name__ == "__main__":
    main()
