"""Representative points: each new experiment where it brings the rest of the space (or pool) closest to a
measurement, on average.

Greedy facility location (the k-medoids objective): with P a population that stands for the space (the pool's
rows, or a Sobol sample of the space: ``kiln.strategies.active.integration_points``) and Z the points already
measured, running or failed, the next point is the candidate c that most lowers sum_p min(d(p, Z), d(p, c)),
distances Euclidean in model coordinates. The first point of an empty campaign is the population's medoid. Where
greedy maximin (``SpaceFillingStrategy``) bounds the largest distance to a measurement and so reaches for the
corners first, this lowers the average one, so the measured points follow where the population is dense: what a
map judged by its error averaged over the pool needs. No model is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.strategies.base import History, Proposal, available_candidates

if TYPE_CHECKING:
    import numpy as np


def greedy_medoids(X: np.ndarray, population: np.ndarray, existing: np.ndarray, n: int) -> list[int]:
    """Indices of up to ``n`` distinct rows of the candidates X (m x d), chosen one at a time to lower the
    population's (k x d) summed distance to its nearest point of ``existing`` (e x d) and the rows chosen."""
    import numpy as np
    from scipy.spatial.distance import cdist

    X = np.asarray(X, dtype=float)
    population = np.asarray(population, dtype=float)
    D = cdist(population, X)  # k x m
    if len(existing):
        nearest = cdist(population, np.asarray(existing, dtype=float)).min(axis=1)
    else:  # no point yet: every distance counts from one larger than any, so the first pick is the medoid
        nearest = np.full(len(population), float(D.max()) + 1.0 if D.size else 1.0)
    chosen: list[int] = []
    for _ in range(min(n, len(X))):
        gain = np.maximum(nearest[:, None] - D, 0.0).sum(axis=0)
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        nearest = np.minimum(nearest, D[:, best])
    return chosen


def representative_proposals(
    domain: Domain, history: History, n: int, *, population: np.ndarray, candidates: int, seed: int
) -> list[Proposal]:
    """Up to ``n`` proposals by ``greedy_medoids``: every unused pool row is a candidate, or ``candidates`` Sobol
    points of a space (256 under linear or composition constraints); measured, running and failed experiments
    count as points already there."""
    import numpy as np

    points: list[dict[str, Any]]
    if isinstance(domain, CandidatePool):
        keys = available_candidates(domain, history)
        points = [domain.row(int(k)) for k in keys]
        X = domain.encoded[keys] if len(keys) else np.zeros((0, domain.dim))
    else:
        size = candidates if not domain.constrained_names else min(candidates, 256)
        points = sample_points(domain, max(size, n), seed=seed, method="sobol")
        keys = np.full(len(points), -1)
        X = domain.encode(points).reshape(-1, domain.dim)
    seen = [e.params for e in (*history.completed, *history.pending, *history.failed)]
    existing = domain.encode(seen).reshape(-1, domain.dim) if seen else np.zeros((0, domain.dim))
    chosen = greedy_medoids(X, population, existing, n)
    return [Proposal(points[i], int(keys[i]) if keys[i] >= 0 else None) for i in chosen]
