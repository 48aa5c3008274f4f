"""Experiments per minute of the closed loop itself: random strategy, instant simulated instrument, SQLite.

Every experiment goes through the full crash-safe path (suggestion stored, dispatch recorded before and after the
instrument accepts it, result stored), on the Suzuki pool (3,696 candidates) and a fresh SQLite file.

    .venv/bin/python benchmarks/loop_overhead.py [--experiments 1000] [--in-flight 1 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kiln import Campaign
from kiln.lab.adapters.simulated import SimulatedInstrument
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.spec import spec_from_dict
from kiln.lab.stopping import StopRules


def experiments_per_minute(experiments: int, in_flight: int, seed: int) -> float:
    """One run: ``experiments`` through the loop with ``in_flight`` at once; experiments per minute."""
    spec = spec_from_dict(
        {
            "name": "overhead",
            "pool": {"dataset": "suzuki"},
            "objective": {"target": "yield", "direction": "max"},
            "strategy": {"kind": "random"},
            "seed": seed,
        }
    )
    emulator = DatasetEmulator.builtin("suzuki")
    with tempfile.TemporaryDirectory() as folder:
        campaign, _ = Campaign.open_or_create(spec.name, spec.config, store=f"sqlite:///{Path(folder) / 'loop.db'}")
        instrument = SimulatedInstrument(emulator.measure, name="instant")
        orchestrator = Orchestrator(campaign, [instrument], in_flight=in_flight, stop=StopRules(budget=experiments))
        start = time.perf_counter()
        summary = orchestrator.run_sync()
        elapsed = time.perf_counter() - start
        campaign.store.close()
    assert summary.finished == experiments, summary
    return 60.0 * experiments / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| experiments in flight | experiments | experiments per minute (median) |")
    print("|---|---|---|")
    for k in args.in_flight:
        rates = [experiments_per_minute(args.experiments, k, seed) for seed in range(args.repeats)]
        print(f"| {k} | {args.experiments} | {statistics.median(rates):,.0f} |")


if __name__ == "__main__":
    main()
