"""Unit tests of kiln.strategies.acquisition: the exact-posterior fast path."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.models import fit_gp
from kiln.strategies.acquisition import build_acquisition, score


@pytest.mark.parametrize("kind", ["logei", "ucb", "pi"])
def test_exact_posterior_gives_botorch_values_and_gradients(kind: str) -> None:
    import torch

    from kiln.strategies.acquisition import exact_posterior

    rng = np.random.default_rng(21)
    fitted = fit_gp(rng.random((25, 3)), rng.random(25), seed=0)
    acquisition = build_acquisition(kind, fitted)
    X = torch.tensor(rng.random((6, 1, 3)), dtype=torch.float64, requires_grad=True)
    want = acquisition(X)
    want.sum().backward()
    want_grad = X.grad.clone()  # type: ignore[union-attr]
    X.grad = None
    with exact_posterior(acquisition, fitted):
        got = acquisition(X)
    got.sum().backward()
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(X.grad, want_grad, rtol=1e-4, atol=1e-8)
    assert "_mean_and_sigma" not in vars(acquisition)  # the override is removed after the block


def test_ucb_folds_pending_points_in_by_the_kriging_believer() -> None:
    rng = np.random.default_rng(22)
    fitted = fit_gp(rng.random((15, 2)), rng.random(15), seed=0)
    pending = np.array([[0.5, 0.5]])
    acquisition = build_acquisition("ucb", fitted, pending=pending)
    assert getattr(acquisition, "X_pending", None) is None  # analytic, on the believed GP
    believed = acquisition.surrogate  # type: ignore[attr-defined]
    assert believed is not fitted and believed.model.train_inputs[0].shape == (16, 2)
    near, far = np.array([[0.5, 0.51]]), np.array([[0.05, 0.95]])
    plain = build_acquisition("ucb", fitted)
    assert score(acquisition, fitted, near)[0] < score(plain, fitted, near)[0]  # less optimism next to pending
    assert abs(score(acquisition, fitted, far)[0] - score(plain, fitted, far)[0]) < 0.05
