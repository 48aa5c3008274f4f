"""Pool-based backtests with several targets and outcome constraints, measured by HV% (EDBO+, Garrido Torres et
al., JACS 2022).

The pool procedure is that of ``kiln.bench.backtest`` (replicates merged, ``initial`` random candidates, then one
experiment per cycle, the same seeds); after each experiment i the run records
HV%(i) = HV(feasible points measured within the first i experiments) / HV(every feasible candidate of the pool),
both against one reference point: each objective's worst value over the whole pool, objectives oriented so that
larger is better (a minimised column is negated).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.bench.backtest import run_order
from kiln.bench.metrics import hv_percent_curve, hypervolume
from kiln.core.errors import ValidationError
from kiln.objective import Direction, Objective, OutcomeConstraint, Target
from kiln.space.pool import CandidatePool
from kiln.strategies.base import Strategy

if TYPE_CHECKING:
    import pandas as pd

_CONSTRAINT = re.compile(r"^\s*(?P<name>.+?)\s*(?P<op>>=|<=)\s*(?P<bound>\S+)\s*$")


def parse_constraint(text: str) -> OutcomeConstraint:
    """``"COL>=X"`` or ``"COL <= X"`` -> OutcomeConstraint; ValidationError naming ``--constraint`` otherwise."""
    match = _CONSTRAINT.match(text)
    bound = math.nan
    if match is not None:
        with contextlib.suppress(ValueError):
            bound = float(match["bound"])
    if match is None or not math.isfinite(bound):
        raise ValidationError(
            "--constraint", text, "COLUMN>=NUMBER or COLUMN<=NUMBER is required", 'e.g. --constraint "turnover>=5"'
        )
    try:
        return OutcomeConstraint(match["name"], match["op"], bound)
    except ValidationError as error:
        raise ValidationError("--constraint", text, str(error), None) from None


def build_objective(
    targets: Sequence[str], directions: Sequence[str], constraints: Sequence[OutcomeConstraint]
) -> Objective:
    """The campaign's Objective: one Target per column with its direction ("max" / "min"), and the constraints."""
    return Objective(
        tuple(Target(name, Direction(direction)) for name, direction in zip(targets, directions, strict=True)),
        constraints=tuple(constraints),
    )


@dataclass(frozen=True)
class HVProblem:
    """A grouped pool with several measured columns, its feasible candidates and the pool's hypervolume.

    Attributes:
        pool: the N unique candidates; row key k is row k of the grouped table.
        values: column -> (N,) mean of the distinct replicate values, for every target and constrained column.
        targets, directions: the optimised columns and "max" / "min" for each.
        constraints: the outcome constraints.
        objective: the Objective strategies are given.
        scores: (N, m) each target's value, negated where it is minimised (larger is better).
        feasible: (N,) whether each candidate meets every constraint.
        reference: (m,) the worst score of each target over the whole pool.
        total: the hypervolume of the feasible candidates against ``reference`` (> 0).
    """

    pool: CandidatePool
    values: Mapping[str, np.ndarray]
    targets: tuple[str, ...]
    directions: tuple[str, ...]
    constraints: tuple[OutcomeConstraint, ...]
    objective: Objective
    scores: np.ndarray
    feasible: np.ndarray
    reference: np.ndarray
    total: float

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        inputs: Sequence[str],
        targets: Sequence[str],
        directions: Sequence[str],
        constraints: Sequence[OutcomeConstraint] = (),
        objective: Objective | None = None,
        encoding: str = "auto",
    ) -> HVProblem:
        """Group ``frame`` by ``inputs`` (each measured column's replicates merged) and measure the pool's front.

        ``objective`` defaults to ``build_objective(targets, directions, constraints)``; ``encoding`` applies to
        every text column (``kiln.space.encodings``).
        """
        from kiln.lab.datasets import grouped

        measured = list(dict.fromkeys([*targets, *(c.name for c in constraints)]))
        table = grouped(frame, list(inputs), measured)
        pool = CandidatePool.from_dataframe(table, list(inputs), encoding=encoding)
        if len(pool) != len(table):  # CandidatePool merged rows that pandas kept apart (e.g. 1 and "1")
            raise ValidationError(
                "inputs", list(inputs), "each input column must hold one type of value", "clean the table"
            )
        values = {name: np.asarray(table[name], dtype=float) for name in measured}
        scores = np.column_stack(
            [values[t] if d == "max" else -values[t] for t, d in zip(targets, directions, strict=True)]
        )
        feasible = np.ones(len(table), dtype=bool)
        for constraint in constraints:
            feasible &= np.asarray(constraint.slack(values[constraint.name])) <= 0
        if not feasible.any():
            raise ValidationError(
                "--constraint", [str(c) for c in constraints], "no candidate of the pool meets them", "loosen them"
            )
        reference = scores.min(axis=0)
        total = hypervolume(scores[feasible], reference)
        if total <= 0:
            raise ValidationError(
                "--target",
                list(targets),
                "the feasible candidates span no hypervolume (each objective's best is also its worst)",
                "pick targets that vary over the pool",
            )
        return cls(
            pool,
            values,
            tuple(targets),
            tuple(directions),
            tuple(constraints),
            objective or build_objective(targets, directions, constraints),
            scores,
            feasible,
            reference,
            total,
        )

    @property
    def size(self) -> int:
        """N, the number of unique candidates."""
        return len(self.pool)

    def results(self, key: int) -> dict[str, float]:
        """What measuring row ``key`` reports: every target and constrained column."""
        return {name: float(column[key]) for name, column in self.values.items()}

    def pareto(self) -> list[int]:
        """Row keys of the pool's front: the feasible candidates no other feasible one dominates, ascending."""
        keys = np.flatnonzero(self.feasible)
        points = self.scores[keys]
        return [
            int(k)
            for k, p in zip(keys, points, strict=True)
            if not ((points >= p).all(axis=1) & (points > p).any(axis=1)).any()
        ]

    def curve(self, keys: Sequence[int]) -> np.ndarray:
        """HV%(i) for i = 1..len(keys) of a run that measured ``keys`` in this order."""
        order = list(keys)
        return hv_percent_curve(self.scores[order], self.feasible[order], self.reference, self.total)


@dataclass(frozen=True)
class HVTrajectory:
    """One run: the initial candidates, the strategy's choices (arrival order) and HV% after each experiment."""

    seed: int
    initial: tuple[int, ...]
    chosen: tuple[int, ...]
    hv_percent: tuple[float, ...]


def run_hv_trajectory(
    problem: HVProblem,
    strategy: Strategy | Mapping[str, Any] | str,
    *,
    seed: int,
    budget: int,
    initial: int = 2,
    in_flight: int = 1,
) -> HVTrajectory:
    """One run of ``min(budget, N)`` experiments (``kiln.bench.backtest.run_order``) and its HV% curve."""
    start, chosen = run_order(
        problem.pool,
        problem.objective,
        problem.results,
        strategy,
        seed=seed,
        budget=budget,
        initial=initial,
        in_flight=in_flight,
    )
    curve = problem.curve([*start, *chosen])
    return HVTrajectory(seed, start, chosen, tuple(float(v) for v in curve))
