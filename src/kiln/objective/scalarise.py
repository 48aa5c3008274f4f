"""Scalarisations of several targets' scores and the Pareto front, on plain Python numbers or arrays.

The scalarisations take one score per target (each a float, or arrays / tensors of one shape, e.g. posterior
samples) and the per-target score bounds observed so far, and are written with ``+ - * ** abs`` and comparisons
only, so numpy arrays and torch tensors pass through unchanged.

- **Weighted desirability**: each target's score s_i is mapped to d_i = clip((s_i - lo_i) / (hi_i - lo_i), 0, 1),
  where [lo_i, hi_i] is the range of that target's scores over the observed set (d_i = 1 when the range is a
  single value); the utility is the weighted geometric mean prod d_i ** (w_i / sum w). The worst observed value of
  any target gives 0, the best of all gives 1.
- **Priority** (Chimera-style, Häse et al., Chem. Sci. 2018): targets in priority order; target i is good enough
  when s_i >= best_i - tolerance_i (best_i: the best observed score, tolerance in raw units). The utility is
  k + d_k where k (0-based) is the first target in the order that is not good enough (the last target when all
  earlier ones are), and d_k its desirability as above; so satisfying more targets in order always wins, and
  among equals the first unmet target decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def clip01(x: Any) -> Any:
    """min(max(x, 0), 1) written as (|x| - |x - 1| + 1) / 2 (float, array or tensor)."""
    return (abs(x) - abs(x - 1) + 1) / 2


def score_bounds(scores: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """Per-target (lowest, highest) score over observed score rows (n rows x k targets); n >= 1."""
    if not scores:
        raise ValueError("score bounds need at least one observed result")
    columns = list(zip(*scores, strict=True))
    return [(min(column), max(column)) for column in columns]


def desirabilities(scores: Sequence[Any], bounds: Sequence[tuple[float, float]]) -> list[Any]:
    """Each target's score mapped to [0, 1] over its observed bounds (1 where the bounds coincide)."""
    out = []
    for score, (low, high) in zip(scores, bounds, strict=True):
        out.append(clip01((score - low) / (high - low)) if high > low else score * 0 + 1)
    return out


def desirability(scores: Sequence[Any], bounds: Sequence[tuple[float, float]], weights: Sequence[float]) -> Any:
    """Weighted geometric mean of the desirabilities: prod d_i ** (w_i / sum w), in [0, 1]."""
    total = float(sum(weights))
    value: Any = 1.0
    for d, weight in zip(desirabilities(scores, bounds), weights, strict=True):
        value = value * d ** (weight / total)
    return value


def priority_value(scores: Sequence[Any], bounds: Sequence[tuple[float, float]], tolerances: Sequence[float]) -> Any:
    """Chimera-style priority utility, in [0, k]: scores, bounds and tolerances in priority order."""
    d = desirabilities(scores, bounds)
    last = len(scores) - 1
    value: Any = last + d[last]
    for i in range(last - 1, -1, -1):
        good = (scores[i] >= bounds[i][1] - tolerances[i]) * 1.0
        value = good * value + (1 - good) * (i + d[i])
    return value


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether score row ``a`` dominates ``b`` (larger is better): >= in every target and > in one."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def non_dominated(scores: Sequence[Sequence[float]]) -> list[int]:
    """Indices (ascending) of the rows (n x k, larger is better) that no other row dominates; equal rows are all
    kept.

    Rows are visited in descending lexicographic order, in which a dominating row always comes first, and each is
    compared with the front found so far only (a row dominated by a dominated row is dominated by its dominator
    too): O(n log n + n * front size * k).
    """
    order = sorted(range(len(scores)), key=lambda i: tuple(scores[i]), reverse=True)
    front: list[int] = []
    for i in order:
        if not any(dominates(scores[j], scores[i]) for j in front):
            front.append(i)
    return sorted(front)
