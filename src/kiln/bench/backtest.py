"""Pool-based backtests on real data, as in Liang et al. (2021).

Identical input rows are merged (mean of the distinct replicate values); the top set is the best ceil(5 % of N)
candidates; each run starts from ``initial`` random candidates, then one experiment per cycle is chosen by the
strategy from the unmeasured pool. The trajectory records how many top candidates were found after each experiment.

This module is the one place the procedure lives: the ``kiln bench pool`` command, its runner and the benchmark
scripts all call ``PoolProblem`` and ``run_trajectory``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Direction, Objective, Target
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, Strategy
from kiln.strategies.registry import strategy_from_config

if TYPE_CHECKING:
    import pandas as pd

TOP_FRACTION = 0.05


@dataclass(frozen=True)
class PoolProblem:
    """A grouped pool with its measured values and its top set.

    Attributes:
        pool: the N unique candidates; row key k is row k of the grouped table.
        values: (N,) objective value of each candidate (mean of its distinct replicate values).
        objective: the target and its direction.
        top: row keys of the best ceil(top_fraction * N) candidates (ties broken by row order).
    """

    pool: CandidatePool
    values: np.ndarray
    objective: Objective
    top: frozenset[int]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        inputs: Sequence[str],
        target: str,
        direction: str = "max",
        top_fraction: float = TOP_FRACTION,
        encoding: str = "auto",
    ) -> PoolProblem:
        """Group ``frame`` by ``inputs`` (replicates merged) and mark its top set; ``encoding`` applies to every
        text column (``kiln.space.encodings``)."""
        from kiln.lab.datasets import grouped

        table = grouped(frame, list(inputs), target)
        pool = CandidatePool.from_dataframe(table, list(inputs), encoding=encoding)
        values = np.asarray(table[target], dtype=float)
        if len(pool) != len(values):  # CandidatePool merged rows that pandas kept apart (e.g. 1 and "1")
            raise ValidationError(
                "inputs", list(inputs), "each input column must hold one type of value", "clean the table"
            )
        count = math.ceil(top_fraction * len(values) - 1e-9)
        order = np.argsort(-values if direction == "max" else values, kind="stable")
        return cls(
            pool, values, Objective((Target(target, Direction(direction)),)), frozenset(int(k) for k in order[:count])
        )

    @property
    def size(self) -> int:
        """N, the number of unique candidates."""
        return len(self.values)

    def best(self, fraction: float) -> frozenset[int]:
        """Row keys of the best ceil(fraction * N) candidates (ties broken by row order)."""
        count = math.ceil(fraction * self.size - 1e-9)
        maximise = self.objective.target.direction is Direction.MAXIMIZE
        order = np.argsort(-self.values if maximise else self.values, kind="stable")
        return frozenset(int(k) for k in order[:count])

    @property
    def threshold(self) -> float:
        """The value of the worst member of the top set (a candidate at least this good is in it, ties aside)."""
        top = self.values[sorted(self.top)]
        return float(top.min() if self.objective.target.direction is Direction.MAXIMIZE else top.max())


@dataclass(frozen=True)
class Trajectory:
    """One run: the initial candidates, the strategy's choices, and the top candidates found so far.

    Attributes:
        seed: the run seed (see ``run_seed``).
        initial: row keys of the random initial candidates.
        chosen: row keys the strategy chose, one per cycle, in order.
        found: (len(initial) + len(chosen),) number of top candidates found after each experiment.
    """

    seed: int
    initial: tuple[int, ...]
    chosen: tuple[int, ...]
    found: tuple[int, ...]


def run_seed(seed: int, run: int) -> int:
    """The seed of run ``run`` of a benchmark seeded with ``seed``: a 32-bit integer from SeedSequence([seed, run]).

    Everything random in a run (its initial candidates, the strategy's seeds) derives from it alone, so every
    strategy of the same benchmark starts run ``run`` from the same candidates.
    """
    if seed < 0 or run < 0:
        raise ValidationError("seed", seed, "a whole number >= 0 is required", "e.g. 0")
    return int(np.random.SeedSequence([seed, run]).generate_state(1)[0])


def initial_candidates(size: int, initial: int, seed: int) -> tuple[int, ...]:
    """``initial`` distinct random row keys out of ``size``, from the run seed ``seed`` only."""
    if not 1 <= initial < size:
        raise ValidationError("initial", initial, f"between 1 and N - 1 = {size - 1} is required", "e.g. 2")
    rng = np.random.default_rng(seed)
    return tuple(int(k) for k in rng.choice(size, size=initial, replace=False))


def build_strategy(strategy: Strategy | Mapping[str, Any] | str) -> Strategy:
    """A strategy object from itself, a ``{kind: ..., **options}`` config, or a kind name."""
    if isinstance(strategy, str | Mapping):
        return strategy_from_config(strategy)
    return strategy


def run_order(
    pool: CandidatePool,
    objective: Objective,
    results_of: Callable[[int], dict[str, float]],
    strategy: Strategy | Mapping[str, Any] | str,
    *,
    seed: int,
    budget: int,
    initial: int = 2,
    in_flight: int = 1,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The closed loop of one run: its initial row keys, then the rows the strategy chose in arrival order.

    ``results_of(key)`` is what measuring row ``key`` reports (every quantity of ``objective``). The run has
    ``min(budget, N)`` experiments: ``initial`` random ones (``initial_candidates(N, initial, seed)``), then one
    chosen per cycle, the strategy asked with seed ``seed * 100_003 + experiments so far``. With ``in_flight``
    k > 1, k experiments run at once: each cycle the oldest one's result arrives and one new experiment is chosen
    knowing the k - 1 still running (as pending).
    """
    chooser = build_strategy(strategy)
    start = initial_candidates(len(pool), initial, seed)
    measured: list[Experiment] = []
    chosen: list[int] = []

    def measure(key: int) -> None:
        measured.append(
            Experiment(
                id=f"exp-{len(measured)}",
                seq=len(measured) + 1,
                params=pool.row(key),
                status=ExperimentStatus.COMPLETED,
                results=results_of(key),
                candidate=key,
            )
        )

    for key in start:
        measure(key)
    total = min(budget, len(pool))
    running: list[int] = []
    while len(measured) < total:
        while len(running) < in_flight and len(measured) + len(running) < total:
            pending = tuple(Experiment(id=f"run-{k}", seq=0, params=pool.row(k), candidate=k) for k in running)
            history = History(completed=tuple(measured), pending=pending)
            asked = len(measured) + len(running)
            proposals = chooser.propose(pool, objective, history, 1, seed=seed * 100_003 + asked)
            if not proposals or proposals[0].candidate is None:
                raise ValidationError(
                    "strategy", chooser.to_config(), "a pool row must be proposed each cycle", "use a pool strategy"
                )
            key = int(proposals[0].candidate)
            if key in chosen or key in start or key in running:
                raise ValidationError(
                    "strategy", chooser.to_config(), f"proposed row {key} again", "propose unmeasured rows only"
                )
            running.append(key)
        key = running.pop(0)
        chosen.append(key)
        measure(key)
    return start, tuple(chosen)


def run_trajectory(
    problem: PoolProblem,
    strategy: Strategy | Mapping[str, Any] | str,
    *,
    seed: int,
    budget: int,
    initial: int = 2,
    in_flight: int = 1,
) -> Trajectory:
    """One run of ``min(budget, N)`` experiments (``run_order``) and the top candidates found after each.

    With ``in_flight`` > 1, ``found`` counts in the order results arrive, and ``chosen`` lists experiments in that
    order too.
    """
    target = problem.objective.target.name
    start, chosen = run_order(
        problem.pool,
        problem.objective,
        lambda key: {target: float(problem.values[key])},
        strategy,
        seed=seed,
        budget=budget,
        initial=initial,
        in_flight=in_flight,
    )
    found = np.cumsum([key in problem.top for key in (*start, *chosen)])
    return Trajectory(seed, start, chosen, tuple(int(count) for count in found))


def run_backtest(
    problem: PoolProblem,
    strategy: Strategy | Mapping[str, Any] | str,
    *,
    seed: int,
    budget: int,
    initial: int = 2,
) -> list[int]:
    """One run: the number of top candidates found after each of ``budget`` experiments (initial ones included)."""
    return list(run_trajectory(problem, strategy, seed=seed, budget=budget, initial=initial).found)


def first_hit(keys: Sequence[int], wanted: frozenset[int]) -> int | None:
    """1-based position of the first key in ``wanted``, or None if there is none."""
    return next((i for i, key in enumerate(keys, start=1) if key in wanted), None)


def cycles_to_fraction(found: Sequence[int], top_size: int, fraction: float) -> int | None:
    """Experiments needed until ``fraction`` of the top set was found, or None if not within the run."""
    needed = math.ceil(fraction * top_size - 1e-9)
    for cycle, count in enumerate(found, start=1):
        if count >= needed:
            return cycle
    return None
