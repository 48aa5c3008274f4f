"""What random sampling would have found with the same number of experiments.

Values here are scores (larger is better: ``Target.score``).

* A candidate pool: exact. With the pool's N scores known, the best of k uniformly random draws without
  repetition has P(best <= s_(j)) = C(j, k) / C(N, k) (s_(1) <= ... <= s_(N) sorted); with repeats allowed,
  (j / N)^k. ``expected_best_of_draws`` gives its mean and std for k = 1 .. K. A report knows the measured rows'
  values only; for the others it uses the model's mean (so the comparison is the model's estimate, said so),
  unless the pool's values are known from a dataset (an emulator campaign), when it is exact.
* A search space: simulated. ``simulated_best_of_draws`` draws ``repeats`` sets of K uniformly random points of
  the space, scores each by a draw from the fitted model (mean + std * N(0, 1), the std including measurement
  noise, each point independently), and reports the mean and std over the sets of the best after k draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

REPEATS = 200
"""Random campaigns simulated for a search space."""

BEATS_RANDOM = 0.05
"""Chance of random sampling doing as well below which the best found is said to beat random."""


def expected_best_of_draws(
    scores: Sequence[float], draws: int, *, repeats: bool = False
) -> tuple[list[float], list[float]]:
    """Mean and std of the best of k random draws from ``scores`` (N values), for k = 1 .. ``draws``; without
    repetition k stops at N. Exact (module docstring)."""
    import numpy as np
    from scipy.special import gammaln

    s = np.sort(np.asarray(scores, dtype=float))
    n = len(s)
    means: list[float] = []
    stds: list[float] = []
    if n == 0:
        return means, stds
    j = np.arange(1, n + 1, dtype=float)
    for k in range(1, (draws if repeats else min(draws, n)) + 1):
        if repeats:
            cdf = (j / n) ** k
        else:
            with np.errstate(invalid="ignore"):
                log_c = np.where(j >= k, gammaln(j + 1) - gammaln(k + 1) - gammaln(j - k + 1), -np.inf)
            log_total = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)
            cdf = np.exp(log_c - log_total)
        p = np.diff(np.concatenate([[0.0], cdf]))
        mean = float(p @ s)
        var = max(float(p @ (s - mean) ** 2), 0.0)
        means.append(mean)
        stds.append(var**0.5)
    return means, stds


def chance_as_good(scores: Sequence[float], draws: int, found: float, *, repeats: bool = False) -> float:
    """The probability that the best of ``draws`` random draws from ``scores`` is at least ``found``: exact,
    1 - C(j, k) / C(N, k) with j the scores below ``found`` (1 - (j / N)^k with repeats)."""
    import numpy as np
    from scipy.special import gammaln

    s = np.asarray(scores, dtype=float)
    n, k = len(s), int(draws)
    j = int((s < found).sum())
    if n == 0:
        return 0.0
    if repeats:
        return float(1.0 - (j / n) ** k)
    if k > n or j < k:
        return 1.0
    log_ratio = gammaln(j + 1) - gammaln(j - k + 1) - (gammaln(n + 1) - gammaln(n - k + 1))
    return float(1.0 - np.exp(log_ratio))


def simulated_best_of_draws(
    score_draws: Callable[[int, np.random.Generator], np.ndarray],
    draws: int,
    *,
    seed: int,
    found: float,
    repeats: int = REPEATS,
) -> tuple[list[float], list[float], float]:
    """Mean and std over ``repeats`` simulated random campaigns of the best score after k = 1 .. ``draws``
    experiments, and the share of those campaigns whose best is at least ``found``. ``score_draws(m, rng)``
    returns m simulated scores of m uniformly random points (m,)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scores = np.asarray(score_draws(repeats * draws, rng), dtype=float).reshape(repeats, draws)
    best = np.maximum.accumulate(scores, axis=1)
    return best.mean(axis=0).tolist(), best.std(axis=0).tolist(), float((best[:, -1] >= found).mean())


def share_above(scores: Sequence[float], value: float) -> float:
    """The share of ``scores`` strictly above ``value`` (0: nothing in the pool is better)."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    return float((s > value).mean()) if len(s) else 0.0
