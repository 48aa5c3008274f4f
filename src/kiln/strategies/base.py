"""The Strategy protocol and what strategies receive and return.

A strategy is configured once (constructor settings, JSON-able through ``to_config``) and gets the data in each
``propose`` call. It never touches the store: the campaign gives it the history and stores what it proposes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Proposal:
    """One proposed experiment: parameters in lab units, and the pool row key in pool mode."""

    params: Mapping[str, Any]
    candidate: int | None = None


@dataclass(frozen=True)
class History:
    """What a campaign knows when it asks: finished and running experiments, in creation order.

    Retracted and discarded experiments are not part of it: nothing learns from them (their pool rows may be
    suggested again).
    """

    completed: Sequence[Experiment] = ()
    pending: Sequence[Experiment] = ()
    failed: Sequence[Experiment] = ()

    @classmethod
    def from_experiments(cls, experiments: Sequence[Experiment]) -> History:
        by_status: dict[ExperimentStatus, list[Experiment]] = {s: [] for s in ExperimentStatus}
        for experiment in experiments:
            if not experiment.retracted:
                by_status[experiment.status].append(experiment)
        return cls(
            completed=tuple(by_status[ExperimentStatus.COMPLETED]),
            pending=tuple(by_status[ExperimentStatus.PENDING]),
            failed=tuple(by_status[ExperimentStatus.FAILED]),
        )

    @property
    def size(self) -> int:
        """Number of experiments of every status."""
        return len(self.completed) + len(self.pending) + len(self.failed)

    def used_candidates(self) -> set[int]:
        """Pool row keys already suggested or measured (any status)."""
        return {e.candidate for e in (*self.completed, *self.pending, *self.failed) if e.candidate is not None}


@dataclass(frozen=True)
class TrainingData:
    """Completed experiments in model coordinates: X (n x d) in [0, 1], y (n,) utility to maximise."""

    X: np.ndarray
    y: np.ndarray
    pending: np.ndarray = field(default_factory=lambda: _no_rows())


def training_data(domain: Domain, objective: Objective, history: History) -> TrainingData:
    """Encode the completed (and pending) experiments of ``history`` for a model; y is each completed
    experiment's utility (a scalarised one over the score bounds of all completed experiments)."""
    import numpy as np

    X = domain.encode([e.params for e in history.completed]).reshape(-1, domain.dim)
    y = np.array(objective.utilities([e.results for e in history.completed]), dtype=float)
    pending = domain.encode([e.params for e in history.pending]).reshape(-1, domain.dim)
    return TrainingData(X, y, pending)


def pool_row(pool: CandidatePool, experiment: Experiment) -> int | None:
    """The pool row of an experiment: its candidate key, else the row equal to its parameters (prior data added
    without a key); None when it is no row of the pool."""
    if experiment.candidate is not None and 0 <= experiment.candidate < len(pool):
        return int(experiment.candidate)
    return pool.key_of(experiment.params)


def available_candidates(pool: CandidatePool, history: History) -> np.ndarray:
    """Row keys of the pool that may still be suggested, ascending."""
    import numpy as np

    if pool.allow_repeats:
        return np.arange(len(pool))
    used = history.used_candidates()
    return np.array([k for k in range(len(pool)) if k not in used], dtype=int)


@runtime_checkable
class Strategy(Protocol):
    """Proposes experiments.

    Contract: ``propose`` is deterministic for a given seed and inputs; it returns at most ``n`` proposals (fewer
    only when a pool runs out), each valid in the domain, distinct from each other and, in pool mode without
    repeats, from every candidate in the history. Instances are immutable and safe to share between threads.
    A strategy that cannot optimise some objectives may also have ``check_objective(objective)``, raising a
    SpecError that says why; a campaign calls it before anything is stored.
    """

    kind: ClassVar[str]

    def propose(
        self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int
    ) -> list[Proposal]: ...

    def to_config(self) -> dict[str, Any]: ...


def _no_rows() -> np.ndarray:
    """An empty 0 x 0 matrix (no pending points)."""
    import numpy as np

    return np.zeros((0, 0))
