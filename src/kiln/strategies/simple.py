"""Model-free strategies: uniform random sampling and space-filling (maximin over a Sobol sample)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.core.errors import ValidationError
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.strategies.base import History, Proposal, available_candidates

if TYPE_CHECKING:
    import numpy as np

MAX_CANDIDATES = 100_000
"""Most candidates a sampling strategy scores per ask (memory and time grow with them)."""


@dataclass(frozen=True)
class RandomStrategy:
    """Uniformly random feasible points, or random unused rows of a pool."""

    kind: ClassVar[str] = "random"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        import numpy as np

        rng = np.random.default_rng(seed)
        if isinstance(domain, CandidatePool):
            free = available_candidates(domain, history)
            keys = rng.choice(free, size=min(n, len(free)), replace=False)
            return [Proposal(domain.row(int(k)), int(k)) for k in keys]
        return [Proposal(p) for p in _distinct(sample_points(domain, 4 * n, seed=seed, method="random"), n)]

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind}


@dataclass(frozen=True)
class SpaceFillingStrategy:
    """Points spread out over the space: each new point is the candidate farthest from every point so far.

    Candidates are a scrambled Sobol sample of the space (``candidates`` points) or the unused pool rows; distances
    are Euclidean in model coordinates, counting measured, running and failed experiments.
    """

    candidates: int = 1024
    kind: ClassVar[str] = "sobol"

    def __post_init__(self) -> None:
        if (
            isinstance(self.candidates, bool)
            or not isinstance(self.candidates, int)
            or not 1 <= self.candidates <= MAX_CANDIDATES
        ):
            raise ValidationError(
                "strategy 'sobol': candidates",
                self.candidates,
                f"a whole number from 1 to {MAX_CANDIDATES} is required (each ask scores them all)",
                "e.g. 1024",
            )

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        import numpy as np

        rng = np.random.default_rng(seed)
        if isinstance(domain, CandidatePool):
            keys = available_candidates(domain, history)
            points: list[Any] = [domain.row(int(k)) for k in keys]
            X = domain.encoded[keys] if len(keys) else np.zeros((0, domain.dim))
        else:
            # Hit-and-run sampling of constrained spaces costs a step per point: a smaller candidate set there.
            size = self.candidates if not domain.constrained_names else min(self.candidates, 256)
            points = sample_points(domain, max(size, n), seed=seed, method="sobol")
            keys = np.full(len(points), -1)
            X = domain.encode(points)
        seen = [e.params for e in (*history.completed, *history.pending, *history.failed)]
        existing = domain.encode(seen).reshape(-1, domain.dim) if seen else np.zeros((0, domain.dim))
        chosen = _maximin(X, existing, min(n, len(points)), rng)
        return [Proposal(points[i], int(keys[i]) if keys[i] >= 0 else None) for i in chosen]

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "candidates": self.candidates}


def _distinct(points: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The first ``n`` points that differ from each other (fewer if the space is too small to allow n)."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for point in points:
        key = tuple(point.values())
        if key not in seen:
            seen.add(key)
            kept.append(point)
        if len(kept) == n:
            break
    return kept


def _maximin(X: np.ndarray, existing: np.ndarray, n: int, rng: np.random.Generator) -> list[int]:
    """Greedily pick ``n`` rows of X, each maximising its distance to ``existing`` and to the rows picked before."""
    import numpy as np

    if n <= 0 or len(X) == 0:
        return []
    chosen: list[int] = []
    if len(existing):
        distance = np.full(len(X), np.inf)
        for point in existing:  # one row at a time: memory stays O(len(X)) for large pools
            distance = np.minimum(distance, ((X - point) ** 2).sum(1))
    else:  # nothing measured yet: a random start
        start = int(rng.integers(len(X)))
        chosen.append(start)
        distance = ((X - X[start]) ** 2).sum(1)
        distance[start] = -1.0
    while len(chosen) < n:
        best = int(distance.argmax())
        chosen.append(best)
        distance = np.minimum(distance, ((X - X[best]) ** 2).sum(1))
        distance[best] = -1.0
    return chosen
