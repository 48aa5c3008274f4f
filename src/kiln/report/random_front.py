"""What random sampling would have dominated with the same number of experiments, for several targets.

The hypervolume (``kiln.report.hypervolume``, score units, above the campaign's reference point:
``kiln.report.front.reference_scores``) of ``repeats`` simulated random campaigns of k experiments each: for a
pool, k rows drawn at random (without repetition unless the pool allows repeats), each scored per target by its
measured mean where it was measured and the report model's mean elsewhere; for a space, k uniformly random
feasible points scored per target by the model's mean plus a draw of its fitted measurement noise. The mean and
std of their hypervolume after 1 .. k experiments, and the share of campaigns whose hypervolume reaches the
campaign's. No closed form is used even for a pool: the distribution of a random subset's hypervolume has none
that is cheap, so both are simulated (the text says so).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kiln.report.baseline import REPEATS

if TYPE_CHECKING:
    import numpy as np


def simulated_hypervolume_of_draws(
    campaign_draws: Callable[[np.random.Generator], np.ndarray],
    reference: np.ndarray,
    *,
    seed: int,
    found: float,
    repeats: int = REPEATS,
) -> tuple[list[float], list[float], float]:
    """Mean and std over ``repeats`` random campaigns of the hypervolume after k = 1 .. K experiments, and the
    share of campaigns whose final hypervolume is at least ``found``. ``campaign_draws(rng)`` returns one random
    campaign's scores (K x m, larger is better per target); ``reference`` (m,) in the same units."""
    import numpy as np

    from kiln.report.hypervolume import hypervolume_curve

    rng = np.random.default_rng(seed)
    curves = np.array([hypervolume_curve(campaign_draws(rng), reference)[0] for _ in range(repeats)])
    # a volume within rounding of the campaign's counts as reaching it (the same front drawn again)
    reached = curves[:, -1] >= found * (1.0 - 1e-9)
    return curves.mean(axis=0).tolist(), curves.std(axis=0).tolist(), float(reached.mean())
