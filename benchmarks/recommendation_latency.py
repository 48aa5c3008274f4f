"""Seconds per recommendation: a thin wrapper around ``kiln bench latency`` (see ``kiln.bench.latency``).

Times Kiln's default strategy unless ``--strategy`` is given; every other option is the command's.

    .venv/bin/python benchmarks/recommendation_latency.py [--repeats 5] [--out FILE] [--strategy NAME ...]
"""

from __future__ import annotations

import sys

import typer

from kiln.cli.latency_command import latency

if __name__ == "__main__":
    if not any(arg in ("--strategy", "-s") or arg.startswith("--strategy=") for arg in sys.argv[1:]):
        sys.argv += ["--strategy", "kiln"]
    typer.run(latency)
