"""How long the everyday ``kiln`` commands take, start-up included: median wall time of N runs of each.

Prepares a SQLite store with the Crossed-barrel campaign of ``examples/crossed-barrel.yaml`` (600-candidate pool)
holding 40 completed experiments and enough pending ones for every ``kiln tell``, then runs ``kiln list``,
``show``, ``tell`` and ``export`` (and ``kiln --help`` and a bare ``python -c pass`` for scale) as fresh
processes, and prints a markdown table of medians in seconds: wall time, and CPU time (user + system), which a
busy machine disturbs less.

``--src LABEL=PATH`` (repeatable) runs the commands with ``PYTHONPATH=PATH`` for each tree in turn, run by run,
so that a before/after comparison sees the same machine load; the table gets a wall and a CPU column per label.
Each command runs once unmeasured first, and bytecode is written (``PYTHONDONTWRITEBYTECODE`` is dropped), so
kiln's modules are compiled once, as an installed package's are, not at every run.

    .venv/bin/python benchmarks/startup.py [--runs 9] [--src before=../old/src --src after=src]
"""

from __future__ import annotations

import argparse
import math
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


def commands_of(store: str, name: str, pending: list[str]) -> dict[str, list[list[str]]]:
    """Label -> the command lines to time (one per run; ``kiln tell`` tells a different experiment each run)."""
    runs = len(pending)
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "kiln --help": [*KILN, "--help"],
        "kiln list": [*KILN, "list", "--store", store],
        "kiln show": [*KILN, "show", name, "--store", store],
        "kiln export": [*KILN, "export", name, "--store", store],
    }
    lines = {label: [command] * runs for label, command in commands.items()}
    lines["kiln tell"] = [[*KILN, "tell", name, experiment_id, "12.5", "--store", store] for experiment_id in pending]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each command (the median is reported)")
    parser.add_argument("--src", action="append", default=[], help="LABEL=PATH: a source tree to time (repeatable)")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COLUMNS": "80"}
    trees = [tuple(item.split("=", 1)) for item in args.src] or [("", "")]
    envs = {label: {**base, "PYTHONPATH": str(Path(path).resolve())} if path else base for label, path in trees}
    with tempfile.TemporaryDirectory() as tmp:
        store, name, pending = prepare(Path(tmp), (args.runs + 1) * len(envs))
        per_tree = {label: commands_of(store, name, pending[number :: len(envs)]) for number, label in enumerate(envs)}
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for run in range(args.runs + 1):  # run 0 warms up (bytecode, file cache) and is not counted
            for label, env in envs.items():
                for command, lines in per_tree[label].items():
                    measured = timed(lines[run], env)
                    if run:
                        times.setdefault((label, command), []).append(measured)
    header = " | ".join(
        f"{label + ': ' if label else ''}wall (s) | {label + ': ' if label else ''}CPU (s)" for label in envs
    )
    print(f"medians of {args.runs} runs\n")
    print(f"| command | {header} |")
    print("|---|" + "---:|---:|" * len(envs))
    for command in per_tree[next(iter(envs))]:
        cells = []
        for label in envs:
            walls, cpus = zip(*times[(label, command)], strict=True)
            cells += [f"{statistics.median(walls):.2f}", f"{statistics.median(cpus):.2f}"]
        print(f"| `{command}` | " + " | ".join(cells) + " |")
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    print(f"\n{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end")


if __name__ == "__main__":
    main()
