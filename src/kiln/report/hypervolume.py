"""The hypervolume a growing set of points dominates, after each point, at a cost that stays small.

Points are score vectors (larger is better in every column) above a reference point. Only the points that are
not dominated when they arrive ("record setters") can change the volume: any point that dominates some region
is itself dominated by, or is, such a point that came no later. So the curve is computed from them alone:

- two targets: exactly, by a sweep over the front after each record setter (O(front) each);
- three or more: estimated from ``SAMPLES`` points drawn uniformly (with a fixed seed) in the box between the
  reference point and the best score of each target; each sample is dominated from the first record setter that
  dominates it on, so the whole curve costs one pass (samples x record setters). The relative error of the
  estimate is about ``1 / sqrt(SAMPLES * share)``, where share is the dominated share of the box (about 1 % for
  a share of a half).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SAMPLES = 8192
"""Random points of the estimate with three or more targets."""
CHUNK = 256
"""Record setters compared with every sample at once (bounds the memory of one step: SAMPLES x CHUNK x m)."""


def hypervolume_curve(points: np.ndarray, reference: np.ndarray) -> tuple[list[float], bool]:
    """The volume that the first i rows of ``points`` (n x m scores, NaN rows: not counted) dominate above
    ``reference`` (m,), for i = 1..n; and whether it is exact (two targets) rather than estimated."""
    import numpy as np

    points = np.asarray(points, dtype=float)
    n, m = points.shape
    setters: list[int] = []
    front = np.empty((0, m))
    curve = np.zeros(n)
    for i in range(n):
        p = points[i]
        if np.isnan(p).any() or not (p > reference).all() or (front >= p).all(axis=1).any():
            continue
        front = np.vstack([front[~(p >= front).all(axis=1)], p])
        setters.append(i)
        if m == 2:
            curve[i:] = area(front, reference)  # exact; rows after i keep it until the next record setter
    if not setters or m == 2:
        return curve.tolist(), m == 2
    chosen = points[setters]
    ideal = chosen.max(axis=0)
    box = float(np.prod(ideal - reference))
    samples = np.random.default_rng(0).uniform(reference, ideal, size=(SAMPLES, m))
    first = np.full(SAMPLES, n)  # the row from which on each sample is dominated (n: never)
    for start in range(0, len(setters), CHUNK):
        block = chosen[start : start + CHUNK]
        rows = np.array(setters[start : start + CHUNK])
        dominated = (block[None, :, :] >= samples[:, None, :]).all(axis=2)  # samples x block
        when = np.where(dominated, rows[None, :], n).min(axis=1)
        first = np.minimum(first, when)
    counts = np.bincount(first, minlength=n + 1)[:n].cumsum()
    return (box * counts / SAMPLES).tolist(), False


def area(front: np.ndarray, reference: np.ndarray) -> float:
    """The exact area two-target points (k x 2, each above ``reference``) dominate above ``reference``."""
    import numpy as np

    ordered = front[np.argsort(-front[:, 0], kind="stable")]
    floors = np.maximum.accumulate(np.concatenate([[reference[1]], ordered[:, 1]]))  # the height covered so far
    return float(np.sum((ordered[:, 0] - reference[0]) * (floors[1:] - floors[:-1])))
