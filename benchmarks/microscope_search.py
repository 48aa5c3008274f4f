"""How fast does a strategy find a simulated sample's best pixels, and how good is its map of the reward?

For each sample (kind and reward) and run r, the microscope (noise and drift as by default, instant) loads the
sample of seed r, scans its overview, and the pool is every ``stride``-th pixel with the overview attached. A
strategy then chooses one pixel at a time; each spectrum is measured with noise and drift and its reward told to
the campaign (``raster``: a regular k x k grid, k the ceiling of the budget's square root, taken line by line
instead of a strategy, its spectra measured the same way). Two scores, medians over the runs:

- the share of the pool's top 1 % pixels (by the noise-free reward at every pixel,
  ``kiln.lab.microscope.rewards.reward_map``) measured after each of ``--marks`` spectra;
- the error of the reward map after that many spectra: the model of ``kiln.strategies.image_map`` predicts every
  pool pixel (the deep-kernel GP on the image patches for ``dkl``, Kiln's GP on the pixel coordinates otherwise)
  and is compared with the noise-free reward over the pool (RMSE and R^2, ``kiln.models.fit_error.rmse_r2``).
  ``random`` and ``raster`` have no model of their own: their map is that GP on (x, y) fitted to the spectra they
  measured, as for ``default``. The map is fitted only at the marks.

With ``--log FILE`` every finished run is appended to a JSON-lines log as it finishes, and a run already in the
log with the same settings is not run again: stop the benchmark at any time and rerun the same command to resume.
``--table-only`` prints the table from the log alone. ``--jobs N`` runs N runs at a time in separate processes
(each run is independent and seeded by its index; only this process writes the log).

    nice .venv/bin/python benchmarks/microscope_search.py [--size 64] [--stride 2] [--marks 10,20,30]
        [--budget N] [--runs 3] [--strategies dkl,default,random,raster]
        [--samples ferroelectric:loop_area,blend:peak_width] [--log FILE] [--jobs 1] [--table-only]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import kiln
from kiln import Campaign, Objective
from kiln.bench.microscope import (
    append_run,
    finished,
    markdown_table,
    pool_mean,
    read_runs,
    run_key,
    summary_rows,
)
from kiln.lab.microscope.instrument import MicroscopeInstrument
from kiln.lab.microscope.rewards import BUILTIN_REWARDS, reward_map
from kiln.lab.microscope.samples import make_sample
from kiln.lab.microscope.settings import MicroscopeSettings
from kiln.models.fit_error import rmse_r2
from kiln.space.pool_image import pixel_pool
from kiln.strategies.base import History
from kiln.strategies.image_map import image_map

Settings = dict[str, Any]
"""One run's settings: kind, reward, strategy, run, size, stride, budget, marks (the log's key fields)."""


def one_run(settings: Settings) -> dict[str, Any]:
    """Run one search and return its log record (the settings, shares, map errors at the marks, seconds)."""
    started = time.perf_counter()
    kind, reward, strategy, run = settings["kind"], settings["reward"], settings["strategy"], settings["run"]
    stride, budget, marks = settings["stride"], settings["budget"], settings["marks"]
    function = BUILTIN_REWARDS[reward]
    sample = make_sample(kind, run, settings["size"])
    truth = reward_map(sample, function)[::stride, ::stride].ravel()  # the pool's row order
    top = set(np.flatnonzero(truth >= np.quantile(truth, 0.99)).tolist())
    microscope = MicroscopeInstrument(
        {"kind": kind, "seed": run, "size": settings["size"]},
        {reward: function},
        settings=MicroscopeSettings(time_scale=0.0),
        seed=run,
    )
    pool = pixel_pool(microscope.overview_scan_now(), stride=stride, patch=9)
    assert pool.image is not None and pool.image.pixels is not None
    order = raster_order(len(truth), budget) if strategy == "raster" else None
    found: set[int] = set()
    shares: list[float] = []
    errors: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        campaign = Campaign.create(
            f"{kind}-{strategy}-{run}",
            space=pool,
            objective=Objective.maximize(reward),
            strategy={"kind": "random" if order is not None else strategy},
            seed=run,
            store=f"sqlite:///{Path(folder) / 'bench.db'}",
        )
        for n in range(1, budget + 1):
            if order is None:
                (experiment,) = campaign.ask(1)
                key = int(experiment.candidate)
                reading = microscope.spectrum_now(experiment.params["x"], experiment.params["y"])
                campaign.tell(experiment.id, function(reading.values, reading.axis))
            elif n <= len(order):
                key = order[n - 1]
                x, y = (int(v) for v in pool.image.pixels[key])
                reading = microscope.spectrum_now(x, y)
                campaign.add_data([{"x": x, "y": y, reward: function(reading.values, reading.axis)}])
            else:
                key = -1  # the grid is done: nothing more is measured
            if key in top:
                found.add(key)
            shares.append(len(found) / len(top))
            if n in marks:
                history = History.from_experiments(campaign.experiments())
                mapped = image_map(campaign.strategy, campaign.domain, campaign.objective, history, seed=run)
                rmse, r2 = rmse_r2(pool_mean(mapped, pool.image.pixels), truth)
                errors.append({"n": n, "rmse": rmse, "r2": r2})
    return {
        **settings,
        "shares": shares,
        "map": errors,
        "seconds": time.perf_counter() - started,
        "version": kiln.__version__,
    }


def raster_order(pool_size: int, budget: int) -> list[int]:
    """Pool rows of the raster baseline: a k x k grid over the square pool (k = ceil(sqrt(budget))), line by line,
    at most ``budget`` of them."""
    side = math.isqrt(pool_size)
    k = int(np.ceil(np.sqrt(budget)))
    ticks = np.unique(np.linspace(0, side - 1, k).round().astype(int))
    return [int(y * side + x) for y in ticks for x in ticks][:budget]


def one_thread() -> None:
    """Worker start: one torch thread, so that N jobs share the cores instead of fighting over them."""
    import torch

    torch.set_num_threads(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="pixels a side of each sample")
    parser.add_argument("--stride", type=int, default=2, help="the pool is every stride-th pixel")
    parser.add_argument("--marks", default="10,20,30", help="spectra counts reported, e.g. 50,100,200")
    parser.add_argument("--budget", type=int, default=None, help="spectra per run (default: the largest mark)")
    parser.add_argument("--runs", type=int, default=None, help="runs per row, seeds 0..runs-1 (default 3)")
    parser.add_argument("--strategies", default="dkl,default,random,raster")
    parser.add_argument("--samples", default="ferroelectric:loop_area,blend:peak_width")
    parser.add_argument("--log", type=Path, default=None, help="JSON-lines log of finished runs (resumed)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own process")
    parser.add_argument("--table-only", action="store_true", help="print the table of the log's runs and stop")
    args = parser.parse_args()
    if args.table_only:
        if args.log is None:
            parser.error("--table-only reads the runs from --log FILE")
        print(markdown_table(summary_rows(read_runs(args.log), wanted=args.runs)), end="")
        return
    try:
        marks = sorted({int(n) for n in args.marks.split(",")})
    except ValueError:
        parser.error(f"--marks: got {args.marks!r}; comma-separated whole numbers, e.g. 50,100,200")
    budget = args.budget if args.budget is not None else marks[-1]
    if marks[0] < 1 or marks[-1] > budget:
        parser.error(f"--marks: got {args.marks!r}; each between 1 and the budget ({budget})")
    runs = args.runs if args.runs is not None else 3
    if args.jobs < 1:
        parser.error(f"--jobs: got {args.jobs}; 1 or more")
    samples = [tuple(pair.split(":")) for pair in args.samples.split(",")]
    wanted = [
        {
            "kind": kind,
            "reward": reward,
            "strategy": strategy,
            "run": run,
            "size": args.size,
            "stride": args.stride,
            "budget": budget,
            "marks": marks,
        }
        for kind, reward in samples
        for strategy in args.strategies.split(",")
        for run in range(runs)
    ]
    logged = read_runs(args.log) if args.log is not None else []
    done = finished(logged)
    todo = [settings for settings in wanted if run_key(settings) not in done]
    print(f"{len(wanted) - len(todo)} of {len(wanted)} runs already in the log; running {len(todo)}", file=sys.stderr)
    records: list[dict[str, Any]] = []
    failed: list[str] = []

    def keep(record: dict[str, Any]) -> None:
        records.append(record)
        if args.log is not None:
            append_run(args.log, record)
        print(
            f"done {record['kind']} {record['strategy']} run {record['run']} in {record['seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    if args.jobs == 1:
        for settings in todo:
            keep(one_run(settings))
    else:
        with concurrent.futures.ProcessPoolExecutor(
            max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn"), initializer=one_thread
        ) as executor:
            futures = {executor.submit(one_run, settings): settings for settings in todo}
            for future in concurrent.futures.as_completed(futures):
                try:
                    keep(future.result())
                except Exception as error:  # one failed run must not lose the others: they are logged
                    failed.append(f"{futures[future]}: {type(error).__name__}: {error}")
    keys = {run_key(settings) for settings in wanted}
    shown = [record for record in [*logged, *records] if run_key(record) in keys]
    print(markdown_table(summary_rows(shown, wanted=runs)), end="")
    if failed:
        sys.exit("runs that failed (not logged; rerun to retry):\n" + "\n".join(failed))


if __name__ == "__main__":
    main()
