"""The model's map over an overview image: what the dashboard and the live display of a microscope campaign draw.

For a campaign whose pool is the pixels of an overview image (``kiln.space.pool_image.pixel_pool``), the surrogate
is fitted to the measured values of the target and predicts every pixel of the pool: the predicted map and its
uncertainty, beside the overview and the pixels measured so far. The surrogate is the campaign's own when it reads
images (the deep-kernel GP of ``strategy: dkl``, on the patches), otherwise Kiln's GP on the pixel coordinates.
Mean and std are in the target's units (the raw values are fitted, not utilities); the band is the uncertainty of
the mean, without measurement noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiln.core.errors import StateError, ValidationError
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, Strategy, pool_row

if TYPE_CHECKING:
    import numpy as np

MAX_SIDE = 128
"""The overview image is sent at most this many pixels on a side (every k-th pixel of a larger one)."""


@dataclass(frozen=True)
class ImageMap:
    """An overview image and the model's map of ``target`` over the pool's pixel grid.

    ``image``: rows of the overview (at most MAX_SIDE x MAX_SIDE; pixel (x, y) of the original is
    ``image[y // step][x // step]``); ``xs``, ``ys``: the pool's pixel columns and rows; ``mean`` and ``std``:
    len(ys) x len(xs) grids in the target's units (None before any measurement; a grid cell without a candidate is
    None); ``measured``: [{x, y, value}] of completed experiments; ``pending``: [{x, y}]; ``least_sure`` and
    ``best_predicted``: the pixel with the largest std and the one with the best predicted mean (None without a
    model); ``model`` names the surrogate.
    """

    target: str
    width: int
    height: int
    step: int
    image: list[list[float]]
    xs: list[int]
    ys: list[int]
    mean: list[list[float | None]] | None
    std: list[list[float | None]] | None
    measured: list[dict[str, float]] = field(default_factory=list)
    pending: list[dict[str, int]] = field(default_factory=list)
    least_sure: dict[str, float] | None = None
    best_predicted: dict[str, float] | None = None
    model: str = ""


def image_map(
    strategy: Strategy,
    domain: Domain,
    objective: Objective,
    history: History,
    *,
    target: str | None = None,
    seed: int = 0,
    most: int | None = None,
) -> ImageMap:
    """Fit to the measured values of ``target`` (the first target by default; at most the ``most`` latest
    completed experiments) and predict every pixel of the pool. Raises StateError when the pool has no overview
    image, ValidationError for an unknown target."""
    import numpy as np

    pool = _overview_pool(domain)
    name = target or objective.targets[0].name
    if name not in objective.quantities:
        raise ValidationError("quantity", name, f"one of the campaign's quantities {objective.quantities}", "pick one")
    assert pool.image is not None
    assert pool.image.pixels is not None  # an attached overview knows every row's pixel
    xs_all, ys_all = pool.image.pixels[:, 0], pool.image.pixels[:, 1]
    done = [e for e in history.completed if _finite(e.results.get(name))]
    if most is not None:
        done = done[-most:]
    keys = [k for e in done if (k := pool_row(pool, e)) is not None]
    values = np.array([float(e.results[name]) for e in done if pool_row(pool, e) is not None])
    image = np.asarray(pool.image.data, dtype=float)
    height, width = image.shape
    step = max(1, -(-max(height, width) // MAX_SIDE))
    xs, ys = sorted(set(xs_all.tolist())), sorted(set(ys_all.tolist()))
    found = ImageMap(
        target=name,
        width=width,
        height=height,
        step=step,
        image=np.round(image[::step, ::step], 6).tolist(),
        xs=xs,
        ys=ys,
        mean=None,
        std=None,
        measured=[
            {"x": int(xs_all[k]), "y": int(ys_all[k]), "value": float(v)} for k, v in zip(keys, values, strict=True)
        ],
        pending=[
            {"x": int(xs_all[k]), "y": int(ys_all[k])} for e in history.pending if (k := pool_row(pool, e)) is not None
        ],
    )
    if not keys:
        return found
    mean, std, model = _predicted(strategy, pool, np.array(keys, dtype=int), values, seed)
    column = {x: j for j, x in enumerate(xs)}
    row = {y: i for i, y in enumerate(ys)}
    mean_grid: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    std_grid: list[list[float | None]] = [[None] * len(xs) for _ in ys]
    for k in range(len(pool)):
        i, j = row[int(ys_all[k])], column[int(xs_all[k])]
        mean_grid[i][j], std_grid[i][j] = round(float(mean[k]), 6), round(float(std[k]), 6)
    unsure = int(np.argmax(std))
    goal = objective.targets[0].direction if name == objective.targets[0].name else "max"
    best = int(np.argmin(mean) if goal == "min" else np.argmax(mean))
    return ImageMap(
        **{
            **found.__dict__,
            "mean": mean_grid,
            "std": std_grid,
            "least_sure": {"x": int(xs_all[unsure]), "y": int(ys_all[unsure]), "std": float(std[unsure])},
            "best_predicted": {"x": int(xs_all[best]), "y": int(ys_all[best]), "mean": float(mean[best])},
            "model": model,
        }
    )


def _overview_pool(domain: Domain) -> CandidatePool:
    if not isinstance(domain, CandidatePool) or domain.image is None or domain.image.form != "overview":
        raise StateError(
            "this campaign has no overview image: a map is drawn for a pool of an image's pixels "
            "(pool: {overview: INSTRUMENT} or kiln.space.pool_image.pixel_pool)"
        )
    return domain


def _predicted(
    strategy: Strategy, pool: CandidatePool, keys: np.ndarray, values: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """Mean and std (each (N,), target units) at every pool row, and the model's name."""
    import numpy as np

    from kiln.models.gp import fit_gp, torch_threads
    from kiln.strategies.dkl import DKLStrategy

    if isinstance(strategy, DKLStrategy):
        fitted = strategy.fit(pool, keys, values, seed=seed)
        mean, std = fitted.posterior_mean_std(strategy.embed(pool, fitted, np.arange(len(pool))))
        return mean, std, "deep-kernel GP on the image patches"
    with torch_threads():
        coordinates = np.array(pool.encoded)  # a writable copy for torch
        gp = fit_gp(coordinates[keys], values, seed=seed)
        mean, std = gp.posterior_mean_std(coordinates)
    return mean, std, f"GP ({gp.kernel}) on the pixel coordinates"


def _finite(value: Any) -> bool:
    import math

    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
