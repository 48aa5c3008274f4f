"""Seconds per phase of one multi-objective ask on the latency benchmark's multi-target cases.

The phases of ``MultiObjectiveStrategy`` on a search space, run one after another as its ``propose`` runs them:
fitting the GPs, building the acquisition (pruning the baseline, box decompositions), scoring the raw samples, and
the local optimisation from the best of them, wall-clock (``time.perf_counter``; CPU time would count the idle
spinning of BLAS threads). Prints a Markdown table of medians over ``--asks`` asks (seeds 0, 1, ...).

    .venv/bin/python benchmarks/mo_phases.py --targets 2 --targets 3 --asks 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kiln.bench.latency import TARGETS_OBSERVATIONS, Case, build_case
from kiln.models.gp import torch_threads
from kiln.models.model_list import fit_model_list
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.mo_acquisition import score_points
from kiln.strategies.multi_objective import OPTIMISER_FTOL, AcquisitionChooser, MultiObjectiveStrategy, build_problem
from kiln.strategies.space_points import maximise

PHASES = ("fitting the GPs", "building the acquisition", "scoring the raw samples", "optimising from the best")


def one_ask(targets: int, seed: int) -> dict[str, float]:
    """CPU seconds of each phase of one ask (n = TARGETS_OBSERVATIONS, 6-d space), keyed by PHASES."""
    strategy = MultiObjectiveStrategy()
    case = Case(TARGETS_OBSERVATIONS, 0, targets)
    space, history = build_case(case, seed)
    assert isinstance(space, SearchSpace)
    seconds: dict[str, float] = {}

    def timed(phase: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = work()
        seconds[phase] = time.perf_counter() - start
        return out

    with torch_threads():
        problem = build_problem(space, case.objective, history)
        fitted = timed(PHASES[0], lambda: fit_model_list(problem.columns, problem.names, seed=seed))
        chooser = AcquisitionChooser(strategy.acquisition, fitted, problem)
        acquisition = timed(PHASES[1], lambda: chooser.acquisition(problem.pending, seed))
        X = space.encode(sample_points(space, strategy.raw_samples, seed=seed, method="random"))
        X = np.asarray(X).reshape(-1, space.dim)
        values = timed(PHASES[2], lambda: score_points(acquisition, X))
        starts = X[np.argsort(-values)[: strategy.restarts]]
        timed(PHASES[3], lambda: maximise(space, acquisition, starts, seed, ftol=OPTIMISER_FTOL))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, action="append", help="targets of a case (repeat); default 2 and 3")
    parser.add_argument("--asks", type=int, default=5, help="asks per case (seeds 0, 1, ...)")
    args = parser.parse_args()
    counts = args.targets or [2, 3]
    one_ask(counts[0], 0)  # imports and first compilation, untimed
    medians = {}
    for targets in counts:
        asks = [one_ask(targets, seed) for seed in range(args.asks)]
        medians[targets] = {phase: statistics.median(a[phase] for a in asks) for phase in PHASES}
        medians[targets]["total"] = statistics.median(sum(a.values()) for a in asks)
    print("| phase (s, median) | " + " | ".join(f"{t} targets" for t in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for phase in (*PHASES, "total"):
        print(f"| {phase} | " + " | ".join(f"{medians[t][phase]:.3f}" for t in counts) + " |")


if __name__ == "__main__":
    main()
