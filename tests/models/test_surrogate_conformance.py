"""The GP (both kernels, with and without ARD) and the random forest run the shipped Surrogate conformance suite
(``kiln.models.conformance``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kiln.models.conformance import SURROGATE_CHECKS, Check, Fit, check_learns
from kiln.models.forest import fit_forest
from kiln.models.gp import fit_gp

FITS: dict[str, Fit] = {
    "gp matern52": lambda X, y, seed: fit_gp(X, y, seed=seed),
    "gp rbf isotropic": lambda X, y, seed: fit_gp(X, y, kernel="rbf", ard=False, seed=seed),
    "forest": lambda X, y, seed: fit_forest(X, y, seed=seed),
}


@pytest.mark.parametrize("name", sorted(FITS))
@pytest.mark.parametrize("check", SURROGATE_CHECKS, ids=lambda c: c.__name__)
def test_surrogate_conforms(check: Check, name: str) -> None:
    check(FITS[name])


def test_the_suite_catches_a_model_that_ignores_its_data() -> None:
    """A model predicting a constant fails the suite's learning check (the checks can fail)."""

    def flat(X: np.ndarray, y: np.ndarray, seed: int) -> Any:
        model = fit_gp(X, y, seed=seed)

        class Flat:
            def __getattr__(self, name: str) -> Any:
                return getattr(model, name)

            def posterior_mean_std(self, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
                rng = np.random.default_rng(0)
                return np.full(len(grid), float(y.mean())) + rng.normal(0, 1e-6, len(grid)), np.ones(len(grid))

        return Flat()

    with pytest.raises(AssertionError, match="correlation"):
        check_learns(flat)
