"""Metrics of pool-based backtests: Top% (Liang et al. 2021) in plain numpy, and HV% (EDBO+, Garrido Torres et
al. 2022) with BoTorch's hypervolume (torch imported only there).

Notation: N candidates in the pool, a top set of T of them, R runs of the same length B (experiments, the initial
random ones included). ``found[r, i - 1]`` is how many top candidates run r had found after its first i experiments.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FRACTIONS: tuple[float, ...] = (0.5, 0.8, 1.0)
"""The Top% levels reported as "cycles to Top% a"."""


def found_matrix(found: Sequence[Sequence[int]]) -> np.ndarray:
    """The runs' trajectories as an (R, B) integer array; every run must have the same length."""
    lengths = {len(run) for run in found}
    if len(lengths) > 1:
        raise ValueError(f"runs of different lengths {sorted(lengths)}")
    return np.asarray(found, dtype=int).reshape(len(found), -1)


def top_percent(found: np.ndarray, top_size: int) -> np.ndarray:
    """Top%(i) = found(i) / T: the share of the top set found within the first i experiments. (R, B) -> (R, B)."""
    return np.asarray(found, dtype=float) / top_size


def random_top_percent(cycles: int, size: int) -> np.ndarray:
    """Top%_rand(i) = i / N for i = 1..B: the expected Top% of random sampling without replacement. -> (B,)."""
    return np.arange(1, cycles + 1, dtype=float) / size


def enhancement_factor(top: np.ndarray, size: int) -> np.ndarray:
    """EF(i) = Top%(i) / Top%_rand(i) = Top%(i) * N / i. (R, B) or (B,) -> same shape."""
    top = np.asarray(top, dtype=float)
    return top / random_top_percent(top.shape[-1], size)


def cycles_to_top(found: np.ndarray, top_size: int, fraction: float) -> np.ndarray:
    """Per run, the first i with Top%(i) >= a, i.e. found(i) >= ceil(a * T); inf if never within B. (R, B) -> (R,)."""
    needed = math.ceil(fraction * top_size - 1e-9)
    found = np.atleast_2d(found)
    reached = found >= needed
    first = np.argmax(reached, axis=1).astype(float) + 1.0
    return np.where(reached.any(axis=1), first, np.inf)


def curve_cycles_to_top(curve: np.ndarray, fraction: float) -> float | None:
    """The first i where a (B,) Top% curve (e.g. the mean over runs) is >= a; None if never within B.

    Reading the level off the mean curve is how the Liang et al. figures are quoted (GP-ARD needs 34 cycles to
    Top% 0.8 on Crossed barrel by this reading, 33 as the median of the runs' own cycles).
    """
    reached = np.asarray(curve, dtype=float) >= fraction - 1e-9
    return float(np.argmax(reached) + 1) if reached.any() else None


def random_cycles_to_top(fraction: float, size: int) -> float:
    """Cycles random sampling needs to reach Top% = a: Top%_rand(i) = i / N = a gives i = a * N."""
    return fraction * size


def acceleration_factor(cycles: float | np.ndarray, fraction: float, size: int) -> float | np.ndarray:
    """AF(a) = (a * N) / cycles the strategy needs to reach Top% = a; 0 where it never did (cycles = inf)."""
    return random_cycles_to_top(fraction, size) / np.asarray(cycles, dtype=float)


METRIC_LABELS = {
    "cycles_to_best_1pct": "best 1 %",
    "top_0.5": "Top% 0.5",
    "top_0.8": "Top% 0.8",
    "hv_0.95": "HV% 0.95",
}
"""How tables name a cycles-to metric (the keys of ``results.json`` and ``summary.json``)."""


def format_cycles(value: float | None, budget: int) -> str:
    """Median cycles for a table: the number, or ``>BUDGET`` when the median run never got there (None)."""
    return f">{budget}" if value is None else f"{value:g}"


def median_cycles(cycles: np.ndarray) -> float | None:
    """The median over runs, runs that never reached the level counted as infinity; None if that median is inf.

    With an even number of runs the median is the mean of the two middle values (inf if either is inf).
    """
    value = float(np.median(np.asarray(cycles, dtype=float)))
    return value if math.isfinite(value) else None


MEDIAN_INTERVAL_LEVEL = 0.9
"""Coverage of the bootstrap interval reported beside each median of cycles."""

MEDIAN_INTERVAL_DRAWS = 4000
"""Resamples of the runs behind each bootstrap interval (fixed seed: the same runs give the same interval)."""


def median_interval(
    cycles: np.ndarray | Sequence[float], level: float = MEDIAN_INTERVAL_LEVEL, draws: int = MEDIAN_INTERVAL_DRAWS
) -> list[float | None]:
    """The bootstrap interval [low, high] of the median over runs (R,): the runs are resampled with replacement
    (R of them, ``draws`` times), and the interval holds the middle ``level`` of the resamples' medians. Runs that
    never reached the level count as infinity, and an infinite bound is None (">budget"). How far a 20-run median
    of a small pool can move with other seeds: differences well inside it are not evidence."""
    values = np.asarray(cycles, dtype=float).reshape(-1)
    if values.size == 0:
        return [None, None]
    rng = np.random.default_rng(0)
    medians = np.sort(np.median(values[rng.integers(0, values.size, size=(draws, values.size))], axis=1))
    tail = (1.0 - level) / 2.0
    low, high = medians[math.floor(tail * draws + 1e-9)], medians[math.ceil((1.0 - tail) * draws - 1e-9) - 1]
    return [float(v) if math.isfinite(v) else None for v in (low, high)]


def format_interval(bounds: Sequence[float | None], budget: int) -> str:
    """An interval for a table: ``[low, high]``, each bound as ``format_cycles`` writes it (``>BUDGET``: beyond)."""
    low, high = (format_cycles(v, budget) for v in bounds)
    return f"[{low}, {high}]"


@dataclass(frozen=True)
class Paired:
    """Two strategies' runs compared seed by seed (the same seeds and initial candidates): how many runs the
    first needed fewer cycles in (``better``), more (``worse``) or as many (``same``; two runs that both never
    got there are the same), and the two-sided sign test's p-value over the untied pairs (1.0 when all tie)."""

    better: int
    worse: int
    same: int
    p_value: float

    def describe(self) -> str:
        """``better / worse / same (p 0.12)``, for a table."""
        return f"{self.better} / {self.worse} / {self.same} (p {self.p_value:.2g})"


def paired(mine: Mapping[int, float | None], theirs: Mapping[int, float | None]) -> Paired:
    """Compare per-run cycles (run seed -> cycles, None: never got there) on the seeds both have."""
    from scipy.stats import binomtest

    seeds = sorted(set(mine) & set(theirs))
    a = np.array([math.inf if mine[s] is None else mine[s] for s in seeds], dtype=float)
    b = np.array([math.inf if theirs[s] is None else theirs[s] for s in seeds], dtype=float)
    better, worse = int((a < b).sum()), int((a > b).sum())
    p_value = float(binomtest(better, better + worse, 0.5).pvalue) if better + worse else 1.0
    return Paired(better, worse, len(seeds) - better - worse, p_value)


def band(values: np.ndarray) -> dict[str, np.ndarray]:
    """Median and 5th / 95th percentiles (linear interpolation) over runs: (R, B) -> three (B,) arrays."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    low, mid, high = np.percentile(values, [5.0, 50.0, 95.0], axis=0)
    return {"median": mid, "p5": low, "p95": high}


@dataclass(frozen=True)
class Summary:
    """The headline figures of one strategy over its R runs.

    Attributes:
        cycles_to_top: a -> median cycles to Top% = a (None when the median run did not get there within B).
        reached: a -> how many runs got to Top% = a within B.
        mean_curve_cycles_to_top: a -> first i where the mean over runs of Top%(i) is >= a (None if never).
        ef_max: max over i of the median EF(i) curve.
        af_at_08: AF(0.8) of the median run: 0.8 N / median cycles to Top% 0.8 (None when that is None).
        top_percent, enhancement: median / p5 / p95 curves over runs of Top%(i) and EF(i), each (B,).
        cycles_to_top_interval: a -> the bootstrap interval [low, high] of that median (``median_interval``).
    """

    cycles_to_top: dict[float, float | None]
    reached: dict[float, int]
    mean_curve_cycles_to_top: dict[float, float | None]
    ef_max: float
    af_at_08: float | None
    top_percent: dict[str, np.ndarray]
    enhancement: dict[str, np.ndarray]
    cycles_to_top_interval: dict[float, list[float | None]]


def summarize(found: Sequence[Sequence[int]] | np.ndarray, top_size: int, size: int) -> Summary:
    """The Summary of runs ``found`` (R x B counts of top candidates found) in a pool of N = ``size``."""
    matrix = found_matrix(found) if not isinstance(found, np.ndarray) else np.atleast_2d(found)
    top = top_percent(matrix, top_size)
    cycles = {a: cycles_to_top(matrix, top_size, a) for a in FRACTIONS}
    medians = {a: median_cycles(c) for a, c in cycles.items()}
    ef = band(enhancement_factor(top, size))
    at_08 = medians[0.8]
    return Summary(
        cycles_to_top=medians,
        reached={a: int(np.isfinite(c).sum()) for a, c in cycles.items()},
        mean_curve_cycles_to_top={a: curve_cycles_to_top(top.mean(axis=0), a) for a in FRACTIONS},
        ef_max=float(ef["median"].max()) if matrix.shape[1] else 0.0,
        af_at_08=None if at_08 is None else float(acceleration_factor(at_08, 0.8, size)),
        top_percent=band(top),
        enhancement=ef,
        cycles_to_top_interval={a: median_interval(c) for a, c in cycles.items()},
    )


# ------------------------------------------------------------------------------------------------ hypervolume
HV_LEVELS: tuple[float, ...] = (0.9, 0.95, 0.99)
"""The HV% levels reported as "cycles to HV% a" (EDBO+ calls 0.99 complete)."""


def hypervolume(scores: np.ndarray, reference: np.ndarray) -> float:
    """The hypervolume that ``scores`` (n, m), larger is better in every column, dominate above ``reference`` (m,).

    Only points better than the reference in every objective count (an empty set has volume 0). The front is
    found with BoTorch's ``is_non_dominated`` and measured with its ``Hypervolume`` (exact, any m >= 1).
    """
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume
    from botorch.utils.multi_objective.pareto import is_non_dominated

    points = np.asarray(scores, dtype=float).reshape(-1, len(reference))
    ref = np.asarray(reference, dtype=float)
    points = points[(points > ref).all(axis=1)]
    if not len(points):
        return 0.0
    tensor = torch.as_tensor(points, dtype=torch.double)
    front = tensor[is_non_dominated(tensor, deduplicate=True)]
    return float(Hypervolume(torch.as_tensor(ref, dtype=torch.double)).compute(front))


def hv_percent_curve(scores: np.ndarray, feasible: np.ndarray, reference: np.ndarray, total: float) -> np.ndarray:
    """HV%(i) = HV(feasible points among the first i rows of ``scores``) / ``total``, for i = 1..B.

    ``scores`` (B, m) are a run's measurements in the order they arrived (larger is better), ``feasible`` (B,)
    whether each satisfies every outcome constraint, ``total`` the whole pool's hypervolume (> 0). -> (B,).
    The volume is only recomputed when a point enters the front, so a run costs a few front evaluations.
    """
    scores = np.asarray(scores, dtype=float).reshape(len(feasible), -1)
    curve = np.zeros(len(scores))
    kept: list[np.ndarray] = []
    volume = 0.0
    for i, (point, ok) in enumerate(zip(scores, feasible, strict=True)):
        dominated = any((other >= point).all() for other in kept)
        if ok and (point > reference).all() and not dominated:
            kept = [other for other in kept if not (point >= other).all()]
            kept.append(point)
            volume = hypervolume(np.array(kept), reference)
        curve[i] = volume / total
    return curve


def cycles_to_hv(curves: np.ndarray, level: float) -> np.ndarray:
    """Per run, the first i with HV%(i) >= ``level`` (1e-9 slack for rounding); inf if never. (R, B) -> (R,)."""
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    reached = curves >= level - 1e-9
    first = np.argmax(reached, axis=1).astype(float) + 1.0
    return np.where(reached.any(axis=1), first, np.inf)


def quartile_band(values: np.ndarray) -> dict[str, np.ndarray]:
    """Median and 25th / 75th percentiles (linear interpolation) over runs: (R, B) -> three (B,) arrays."""
    values = np.atleast_2d(np.asarray(values, dtype=float))
    low, mid, high = np.percentile(values, [25.0, 50.0, 75.0], axis=0)
    return {"median": mid, "p25": low, "p75": high}
