"""How long the everyday ``kiln`` commands take, start-up included: median wall time of N runs of each.

Prepares a SQLite store with the Crossed-barrel campaign of ``examples/crossed-barrel.yaml`` (600-candidate pool)
holding 40 completed experiments and enough pending ones for every ``kiln tell``, then runs ``kiln list``,
``show``, ``tell`` and ``export`` (and ``kiln --help`` and a bare ``python -c pass`` for scale) as fresh
processes, and prints a markdown table of medians in seconds: wall time, and CPU time (user + system), which a
busy machine disturbs less.

    .venv/bin/python benchmarks/startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kiln import Campaign
from kiln.lab.spec import load_spec

SPEC = Path(__file__).resolve().parents[1] / "examples" / "crossed-barrel.yaml"
KILN = [str(Path(sys.executable).parent / "kiln")]
COMPLETED = 40


def prepare(folder: Path, runs: int) -> tuple[str, str, list[str]]:
    """The store URL, the campaign's name and ``runs`` ids of pending experiments to tell."""
    spec = load_spec(SPEC)
    config = spec.config
    store = f"sqlite:///{folder / 'startup.db'}"
    campaign = Campaign.create(
        spec.name, space=config.domain, objective=config.objective, strategy="random", store=store, seed=0
    )
    rng = random.Random(0)
    for experiment in campaign.ask(COMPLETED):
        campaign.tell(experiment.id, rng.uniform(0, 40))
    pending = [experiment.id for experiment in campaign.ask(runs)]
    campaign.store.close()
    return store, spec.name, pending


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``command``, in seconds; it must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def medians(commands: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Median wall time and median CPU time over one run of each command."""
    times = [timed(command, env) for command in commands]
    return statistics.median(t[0] for t in times), statistics.median(t[1] for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (the median is reported)")
    args = parser.parse_args()
    env = {**os.environ, "COLUMNS": "80"}
    with tempfile.TemporaryDirectory() as tmp:
        store, name, pending = prepare(Path(tmp), args.runs)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "kiln --help": [*KILN, "--help"],
            "kiln list": [*KILN, "list", "--store", store],
            "kiln show": [*KILN, "show", name, "--store", store],
            "kiln export": [*KILN, "export", name, "--store", store],
        }
        rows = [(label, medians([command] * args.runs, env)) for label, command in commands.items()]
        tells = [[*KILN, "tell", name, experiment_id, "12.5", "--store", store] for experiment_id in pending]
        rows.append(("kiln tell", medians(tells, env)))
    print(f"| command | wall, median of {args.runs} (s) | CPU, median (s) |")
    print("|---|---:|---:|")
    for label, (wall, cpu) in rows:
        print(f"| `{label}` | {wall:.2f} | {cpu:.2f} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{os.cpu_count()} CPUs, load average {load:.2f} at the end")


if __name__ == "__main__":
    main()
