"""Where do experiments fail? A Gaussian-process classifier of success against failure.

Failed experiments are information: a film that does not form, a reaction that chars. The classifier (scikit-learn's
GaussianProcessClassifier, Matern-5/2 kernel with one lengthscale per input, or one shared lengthscale beyond
ARD_COLUMNS inputs, Laplace approximation) is fitted to
the encoded parameters of completed (label 1) and failed (label 0) experiments, and gives the probability that an
experiment at X would succeed. Strategies rank candidates that are probably infeasible after all others.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

FIT_SUBSET = 300
"""Observations at most used to fit the classifier (a random subset fixed by the seed beyond that)."""

FEASIBLE = 0.5
"""Candidates whose probability of success is below this count as probably infeasible."""

MIN_FAILURES = 2
"""Failures needed before the classifier is fitted (one failure may be bad luck)."""

ARD_COLUMNS = 32
"""Inputs up to which each gets its own lengthscale; wider inputs (fingerprint bits: hundreds of columns) share
one, which scikit-learn fits in a fraction of a second instead of tens of seconds."""


@dataclass(frozen=True)
class FeasibilityModel:
    """A fitted classifier: ``probability(X)`` (m x d, model coordinates) -> P(success) (m,)."""

    classifier: object

    def probability(self, X: np.ndarray) -> np.ndarray:
        import numpy as np

        X = np.asarray(X, dtype=float)
        if len(X) == 0:
            return np.zeros(0)
        probabilities = self.classifier.predict_proba(X)  # type: ignore[attr-defined]
        return np.asarray(probabilities[:, 1], dtype=float)

    def feasible(self, X: np.ndarray) -> np.ndarray:
        """Boolean (m,): whether each point is probably feasible."""
        return self.probability(X) >= FEASIBLE


def fit_feasibility(succeeded: np.ndarray, failed: np.ndarray, *, seed: int = 0) -> FeasibilityModel | None:
    """Fit the classifier to succeeded (n1 x d) and failed (n0 x d) points; None with fewer than
    ``MIN_FAILURES`` failures or no success (nothing to learn)."""
    import numpy as np
    from sklearn.gaussian_process import GaussianProcessClassifier
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern

    succeeded = np.asarray(succeeded, dtype=float)
    failed = np.asarray(failed, dtype=float)
    if len(failed) < MIN_FAILURES or len(succeeded) == 0:
        return None
    X = np.vstack([succeeded, failed])
    labels = np.concatenate([np.ones(len(succeeded)), np.zeros(len(failed))])
    if len(X) > FIT_SUBSET:
        keep = np.random.default_rng(seed).choice(len(X), size=FIT_SUBSET, replace=False)
        X, labels = X[keep], labels[keep]
        if labels.min() == labels.max():
            return None
    scales = np.full(X.shape[1], 0.3) if X.shape[1] <= ARD_COLUMNS else 0.3 * math.sqrt(X.shape[1] / ARD_COLUMNS)
    kernel = ConstantKernel(4.0, (1e-2, 1e3)) * Matern(length_scale=scales, length_scale_bounds=(1e-2, 1e2), nu=2.5)
    classifier = GaussianProcessClassifier(kernel=kernel, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(X, labels)
    return FeasibilityModel(classifier)
