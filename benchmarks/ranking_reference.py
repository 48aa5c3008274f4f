"""How findable is a pool's top set? Ranking by a model that has seen 90 % of the pool.

For each built-in dataset, every candidate's value is predicted by a surrogate fitted to the other 90 % of the
pool (10-fold cross-validation), and the candidates are ranked by that prediction. The script reports how many
members of the top set (best 5 %) are among the best-ranked 30 and 100, and after how many candidates of that
ranking 80 % of the top set has been met ("cycles if run in this order").

A sequential campaign knows far less than this: after c cycles it has seen c candidates, not 90 % of the pool. So
when even this ranking needs many more than 30 candidates, no strategy that learns only from what it has measured
can be expected to reach Top% 0.8 within about 30 cycles on that pool; the figures calibrate the pool benchmarks.

    .venv/bin/python benchmarks/ranking_reference.py [--datasets p3ht crossed-barrel suzuki] [--folds 10]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from kiln.bench.backtest import PoolProblem
from kiln.lab.datasets import dataset_info, load_dataset
from kiln.models.forest import fit_forest
from kiln.models.gp import fit_gp
from kiln.models.warping import warp


def cross_validated(X: np.ndarray, y: np.ndarray, model: str, folds: int, seed: int = 0) -> np.ndarray:
    """Out-of-fold predicted utilities (n,) of ``model`` ("gp", "gp-power" or "forest") on X (n x d), y (n,)."""
    order = np.random.default_rng(seed).permutation(len(y))
    predicted = np.zeros(len(y))
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold)
        target = warp(y[train], "power") if model == "gp-power" else y[train]
        fitted = fit_forest(X[train], target, seed=seed) if model == "forest" else fit_gp(X[train], target, seed=seed)
        predicted[fold] = fitted.posterior_mean_std(X[fold])[0]
    return predicted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["p3ht", "crossed-barrel", "suzuki"])
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()
    print("| dataset | model | top set | top among best 30 | top among best 100 | candidates to Top% 0.8 |")
    print("|---|---|---|---|---|---|")
    for name in args.datasets:
        info = dataset_info(name)
        problem = PoolProblem.from_frame(load_dataset(name), info.inputs, info.target, info.direction)
        X = problem.pool.encoded
        y = problem.values if info.direction == "max" else -problem.values
        need = math.ceil(0.8 * len(problem.top) - 1e-9)
        for model in ("gp", "gp-power", "forest"):
            ranking = np.argsort(-cross_validated(X, y, model, args.folds), kind="stable")
            hits = np.cumsum([int(k) in problem.top for k in ranking])
            print(
                f"| {name} (N={problem.size}) | {model} | {len(problem.top)} | {hits[29]} | {hits[99]} "
                f"| {int(np.argmax(hits >= need)) + 1} |"
            )


if __name__ == "__main__":
    main()
