"""What every peer adapter shares: the peer's view of a Kiln domain, telling history, and mapping answers back.

A peer sees one dimension per free parameter, named ``x0, x1, ...`` (so every library accepts the names):

* search space (all continuous, no constraints): each parameter as a real range [low, high], log-scaled when the
  parameter is;
* candidate pool: each numeric column as a real range [min, max] over the pool, each text column as an unordered
  categorical with the pool's distinct values; columns with a single value are held fixed and not shown.

The peer's answers come back through ``to_proposals``: in a pool, each answer becomes the nearest still-available
row in Kiln's model coordinates (``pool.encoded``: numeric columns min-max scaled, text columns one-hot); in a space,
the point itself (clipped to the bounds). Answers that collide are replaced by random ones (seeded).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError
from kiln.objective import Objective, OutcomeConstraint
from kiln.space.config import Domain
from kiln.space.parameters import Continuous
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, Proposal, available_candidates


@dataclass(frozen=True)
class PeerDim:
    """One dimension as a peer sees it: a real range, or a categorical when ``choices`` is set."""

    key: str
    name: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[str, ...] | None = None

    def to_peer(self, value: Any) -> Any:
        """A Kiln value (lab units) -> the peer's value."""
        if self.choices is not None:
            return str(value)
        return min(max(float(value), self.low), self.high)


@dataclass(frozen=True)
class PeerProblem:
    """A domain and its history in the peer's terms: dims, fixed columns, told points and what they measured.

    Attributes:
        X: the completed experiments' points (keys x0, x1, ...).
        y: (n,) their utilities, when the objective has one (one target, or a scalarisation); else empty.
        free: pool row keys that may still be proposed (empty for a search space).
        Y: (n, m) each target's score (larger is better), in target order.
        C: (n, c) each constrained quantity's measured value (raw units), in constraint order.
        objective: the campaign's objective.
    """

    domain: Domain
    dims: tuple[PeerDim, ...]
    fixed: Mapping[str, Any]
    X: tuple[dict[str, Any], ...]
    y: np.ndarray
    free: np.ndarray
    Y: np.ndarray
    C: np.ndarray
    objective: Objective

    @property
    def is_pool(self) -> bool:
        return isinstance(self.domain, CandidatePool)

    @property
    def several(self) -> bool:
        """Whether the objective has several targets and no scalarisation (a Pareto front is sought)."""
        return self.objective.is_multi

    @property
    def constraints(self) -> tuple[OutcomeConstraint, ...]:
        return self.objective.constraints

    @property
    def slacks(self) -> np.ndarray:
        """(n, c) each constraint's slack on each told point: <= 0 where it holds (BoTorch's and Optuna's sign)."""
        columns = [np.asarray(c.slack(self.C[:, j]), dtype=float) for j, c in enumerate(self.constraints)]
        return np.column_stack(columns) if columns else np.zeros((len(self.X), 0))

    def to_lab(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A peer's point (keys x0, x1, ...) -> Kiln parameters in lab units, in domain order."""
        point = dict(self.fixed)
        for dim in self.dims:
            value = values[dim.key]
            point[dim.name] = str(value) if dim.choices is not None else min(max(float(value), dim.low), dim.high)
        return {name: point[name] for name in self.domain.names}


def check_supported(domain: Domain, who: str) -> None:
    """Raise ValidationError unless ``domain`` is a pool or an all-continuous search space without constraints."""
    if isinstance(domain, CandidatePool):
        return
    if (
        not isinstance(domain, SearchSpace)
        or not all(isinstance(p, Continuous) for p in domain.parameters)
        or domain.constraints
        or domain.compositions
    ):
        raise ValidationError(
            f"strategy '{who}'",
            repr(domain),
            "peer adapters work on candidate pools and on all-continuous search spaces without constraints",
            "use a pool, or Kiln's own strategies for this space",
        )


def peer_dims(domain: Domain) -> tuple[tuple[PeerDim, ...], dict[str, Any]]:
    """The dimensions a peer sees, and the pool columns held fixed (single-valued)."""
    dims: list[PeerDim] = []
    fixed: dict[str, Any] = {}
    if isinstance(domain, SearchSpace):
        for parameter in domain.parameters:
            assert isinstance(parameter, Continuous)
            dims.append(PeerDim(f"x{len(dims)}", parameter.name, parameter.low, parameter.high, parameter.log))
        return tuple(dims), fixed
    for j, (column, numeric) in enumerate(zip(domain.columns, domain.numeric, strict=True)):
        values = [row[j] for row in domain.rows]
        if numeric:
            low, high = float(min(values)), float(max(values))
            if low == high:
                fixed[column] = values[0]
            else:
                dims.append(PeerDim(f"x{len(dims)}", column, low, high))
        else:
            choices = tuple(sorted(set(values)))
            if len(choices) == 1:
                fixed[column] = choices[0]
            else:
                dims.append(PeerDim(f"x{len(dims)}", column, choices=choices))
    return tuple(dims), fixed


def peer_problem(domain: Domain, objective: Objective, history: History, who: str) -> PeerProblem:
    """The peer's view of ``domain`` with every completed experiment (failed and pending ones are not told)."""
    check_supported(domain, who)
    dims, fixed = peer_dims(domain)
    done = [e for e in history.completed if objective.is_complete(e.results)]
    X = tuple({d.key: d.to_peer(e.params[d.name]) for d in dims} for e in done)
    results = [e.results for e in done]
    y = np.zeros(0) if objective.is_multi else np.array(objective.utilities(results), dtype=float)
    Y = np.array([objective.scores(r) for r in results], dtype=float).reshape(len(done), len(objective.targets))
    C = np.array([[r[c.name] for c in objective.constraints] for r in results], dtype=float)
    free = available_candidates(domain, history) if isinstance(domain, CandidatePool) else np.zeros(0, dtype=int)
    return PeerProblem(domain, dims, fixed, X, y, free, Y, C.reshape(len(done), len(objective.constraints)), objective)


def single_objective(problem: PeerProblem, who: str) -> None:
    """ValidationError when a peer that optimises one utility without constraints is given more."""
    if problem.several or problem.constraints:
        raise ValidationError(
            f"strategy '{who}'",
            problem.objective.to_config(),
            "this peer optimises one target without outcome constraints",
            "use it on one-target benchmarks, or pick a multi-objective peer",
        )


def to_proposals(problem: PeerProblem, suggested: Sequence[Mapping[str, Any]], n: int, seed: int) -> list[Proposal]:
    """The peer's answers as Kiln proposals: nearest available pool rows, or points of the space.

    Returns ``n`` distinct proposals (fewer only when the pool runs out); answers beyond ``n`` are ignored, and
    missing or colliding ones are filled with random rows or points drawn with ``seed``.
    """
    domain = problem.domain
    if isinstance(domain, CandidatePool):
        return _pool_proposals(domain, problem, suggested, n, seed)
    assert isinstance(domain, SearchSpace)
    proposals: list[Proposal] = []
    seen: set[tuple[Any, ...]] = set()
    extra = sample_points(domain, 4 * n, seed=seed, method="random")
    for point in [*(problem.to_lab(s) for s in suggested[:n]), *extra]:
        clean = domain.validate(point)
        key = tuple(clean.values())
        if key not in seen:
            seen.add(key)
            proposals.append(Proposal(clean))
        if len(proposals) == n:
            break
    return proposals


def _pool_proposals(
    pool: CandidatePool, problem: PeerProblem, suggested: Sequence[Mapping[str, Any]], n: int, seed: int
) -> list[Proposal]:
    free = problem.free
    count = min(n, len(free))
    if count <= 0:
        return []
    X_free = pool.encoded[free]
    taken = np.zeros(len(free), dtype=bool)
    chosen: list[int] = []
    for answer in suggested[:count]:
        x = pool.encode([problem.to_lab(answer)])[0]
        distance = ((X_free - x) ** 2).sum(1)
        distance[taken] = np.inf
        best = int(distance.argmin())  # ties: the lowest row key
        taken[best] = True
        chosen.append(best)
    if len(chosen) < count:
        rng = np.random.default_rng(seed)
        rest = rng.choice(np.flatnonzero(~taken), size=count - len(chosen), replace=False)
        chosen.extend(int(i) for i in rest)
    return [Proposal(pool.row(int(free[i])), int(free[i])) for i in chosen]


def small_seed(seed: int) -> int:
    """A seed in [0, 2**32) for libraries that pass it to numpy's legacy RandomState."""
    return int(seed) % (2**32)


def empty_result(problem: PeerProblem, n: int) -> bool:
    """True when nothing can be proposed (n < 1 or an exhausted pool)."""
    return n < 1 or (problem.is_pool and len(problem.free) == 0)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence log records up to WARNING and all warnings while a peer library runs (restored afterwards)."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(previous)
