"""Random-forest surrogate: scikit-learn's RandomForestRegressor on inputs in [0, 1]^d, standardised outputs.

The prediction at a point is the mean of the trees' predictions and its uncertainty the standard deviation across
the trees (floored at ``STD_FLOOR``), read as a Normal(mean, std) per point by the acquisition functions. The
spread is large where the trees split the data differently (gaps between experiments with different results) and
small near experiments; beyond the hull of the data a forest extrapolates constantly, so there it does not grow.
Forests are piecewise constant, not differentiable: they are scored on candidate points, never optimised by
gradients.

scikit-learn and torch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.models.base import moment_model, standardised

if TYPE_CHECKING:
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor
    from torch import Tensor

TREES = 100
"""Trees in the forest by default."""

MIN_SAMPLES_LEAF = 2
"""Fewest training points in a leaf: a tree does not interpolate single noisy points, and the spread of the trees
stays positive at the training points."""

MAX_FEATURES = 0.8
"""Fraction of the input dimensions considered at each split: decorrelates the trees (their spread is the
uncertainty) while keeping every dimension available to most splits."""

STD_FLOOR = 1e-6
"""Lower bound of the predictive standard deviation, in standardised units."""


@dataclass(frozen=True, eq=False)
class FittedForest:
    """A fitted random forest and the standardisation of y (satisfies kiln.models.base.Surrogate).

    Attributes:
        forest: scikit-learn RandomForestRegressor trained on X (n x d) and (y - y_mean) / y_std (n,).
        X / z: the training inputs (n x d) and standardised utilities (n,), kept for ``believe``.
        y_mean / y_std: the standardisation of the training utilities.
        best_f: the best observed utility in standardised units (the incumbent for acquisitions).
        seed: the random state of the forest.
    """

    forest: RandomForestRegressor
    X: np.ndarray
    z: np.ndarray
    y_mean: float
    y_std: float
    best_f: float
    seed: int

    @property
    def dim(self) -> int:
        return int(self.X.shape[1])

    @property
    def trees(self) -> int:
        return len(self.forest.estimators_)

    def standardise(self, y: np.ndarray) -> np.ndarray:
        """Utilities (any shape) -> standardised units."""
        import numpy as np

        return (np.asarray(y, dtype=float) - self.y_mean) / self.y_std

    def tree_predictions(self, X: np.ndarray) -> np.ndarray:
        """Every tree's prediction at X (m x d), shape trees x m, standardised units."""
        import numpy as np

        rows = np.ascontiguousarray(np.asarray(X, dtype=np.float32).reshape(-1, self.dim))
        if len(rows) == 0:
            return np.zeros((self.trees, 0))
        return np.stack([tree.predict(rows, check_input=False) for tree in self.forest.estimators_]).astype(float)

    def mean_std(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std across the trees at X (m x d), each (m,), standardised units; std >= STD_FLOOR."""
        import numpy as np

        predictions = self.tree_predictions(X)
        return predictions.mean(0), np.maximum(predictions.std(0), STD_FLOOR)

    def posterior_mean_std(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and std at X (m x d), each shape (m,), in utility units."""
        mean, std = self.mean_std(X)
        return mean * self.y_std + self.y_mean, std * self.y_std

    def moments(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and variance across the trees at X (m x d), each (m,), standardised units."""
        import torch

        mean, std = self.mean_std(X.detach().cpu().numpy())
        return torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(std * std, dtype=torch.float64)

    @cached_property
    def model(self) -> Any:
        """A BoTorch Model view (independent Normal per point from ``moments``) for the analytic acquisitions."""
        return moment_model(self.moments, self.dim)

    def sample_model(self, seed: int) -> Any:
        """A Thompson sample as a BoTorch Model: one tree, chosen at random by ``seed``, whose prediction is the
        sampled function (variance zero). The trees are the forest's own draws of the function."""
        import numpy as np
        import torch

        tree = self.forest.estimators_[int(np.random.default_rng(seed).integers(self.trees))]

        def sample(X: Tensor) -> tuple[Tensor, Tensor]:
            rows = np.ascontiguousarray(X.detach().cpu().numpy().reshape(-1, self.dim), dtype=np.float32)
            mean = torch.as_tensor(tree.predict(rows, check_input=False), dtype=torch.float64)
            return mean, torch.zeros_like(mean)

        return moment_model(sample, self.dim)

    def believe(self, pending: np.ndarray) -> FittedForest:
        """The forest refitted with the pending points P (k x d) added at their predicted means ("kriging
        believer"): a batch then spreads out, as their spread shrinks there. The standardisation and best_f stay.
        """
        import numpy as np

        P = np.asarray(pending, dtype=float).reshape(-1, self.dim)
        if len(P) == 0:
            return self
        X = np.vstack([self.X, P])
        z = np.concatenate([self.z, self.mean_std(P)[0]])
        return replace(self, forest=_grow(X, z, self.trees, self.seed), X=X, z=z)


def _grow(X: np.ndarray, z: np.ndarray, trees: int, seed: int) -> RandomForestRegressor:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(
        n_estimators=trees,
        min_samples_leaf=MIN_SAMPLES_LEAF,
        max_features=MAX_FEATURES,
        bootstrap=True,
        random_state=seed,
        n_jobs=1,
    )
    return forest.fit(X, z)


def fit_forest(X: np.ndarray, y: np.ndarray, *, trees: int = TREES, seed: int = 0) -> FittedForest:
    """Fit a random forest of ``trees`` trees to X (n x d, in [0, 1]) and utilities y (n,); deterministic per
    seed."""
    X, y_mean, y_std, z = standardised(X, y, "fit_forest")
    if isinstance(trees, bool) or not isinstance(trees, int) or trees < 1:
        raise ValidationError("fit_forest: trees", trees, "trees must be an integer >= 1", "e.g. 100")
    seed = int(seed) % 2**32
    return FittedForest(_grow(X, z, trees, seed), X, z, y_mean, y_std, float(z.max()), seed)
