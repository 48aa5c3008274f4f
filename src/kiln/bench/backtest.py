"""Pool-based backtests on real data, as in Liang et al. (2021).

Identical input rows are merged (mean of the distinct replicate values); the top set is the best ceil(5 % of N)
candidates; each run starts from ``initial`` random candidates, then one experiment per cycle is chosen by the
strategy from the unmeasured pool. The trajectory records how many top candidates were found after each experiment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Direction, Objective, Target
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History
from kiln.strategies.registry import strategy_from_config

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class PoolProblem:
    """A grouped pool with its measured values and its top set."""

    pool: CandidatePool
    values: np.ndarray
    objective: Objective
    top: frozenset[int]

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, inputs: Sequence[str], target: str, direction: str = "max", top_fraction: float = 0.05
    ) -> PoolProblem:
        from kiln.lab.datasets import grouped

        table = grouped(frame, list(inputs), target)
        pool = CandidatePool.from_dataframe(table, list(inputs))
        values = np.asarray(table[target], dtype=float)
        count = math.ceil(top_fraction * len(values))
        order = np.argsort(-values if direction == "max" else values, kind="stable")
        return cls(
            pool, values, Objective((Target(target, Direction(direction)),)), frozenset(int(k) for k in order[:count])
        )


def run_backtest(
    problem: PoolProblem,
    strategy: Mapping[str, Any] | str,
    *,
    seed: int,
    budget: int,
    initial: int = 2,
) -> list[int]:
    """One run: the number of top candidates found after each of ``budget`` experiments (initial ones included)."""
    rng = np.random.default_rng(seed)
    chooser = strategy_from_config(strategy)
    target = problem.objective.target.name
    start = rng.choice(len(problem.pool), size=initial, replace=False)
    measured: list[Experiment] = []
    found: list[int] = []
    top_found = 0

    def measure(key: int) -> None:
        nonlocal top_found
        measured.append(
            Experiment(
                id=f"exp-{len(measured)}",
                seq=len(measured) + 1,
                params=problem.pool.row(key),
                status=ExperimentStatus.COMPLETED,
                results={target: float(problem.values[key])},
                candidate=key,
            )
        )
        top_found += key in problem.top
        found.append(top_found)

    for key in start:
        measure(int(key))
    while len(measured) < min(budget, len(problem.pool)):
        proposals = chooser.propose(
            problem.pool, problem.objective, History(completed=tuple(measured)), 1, seed=seed * 100_003 + len(measured)
        )
        assert proposals and proposals[0].candidate is not None
        measure(proposals[0].candidate)
    return found


def cycles_to_fraction(found: Sequence[int], top_size: int, fraction: float) -> int | None:
    """Experiments needed until ``fraction`` of the top set was found, or None if not within the run."""
    needed = math.ceil(fraction * top_size - 1e-9)
    for cycle, count in enumerate(found, start=1):
        if count >= needed:
            return cycle
    return None
