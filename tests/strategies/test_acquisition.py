"""Unit tests of kiln.strategies.acquisition: stock BoTorch acquisitions on the GP's exact-posterior face."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.models import fit_gp
from kiln.strategies.acquisition import build_acquisition, score


@pytest.mark.parametrize("kind", ["logei", "ucb", "pi"])
def test_the_exact_posterior_face_gives_botorch_values_and_gradients(kind: str) -> None:
    """The acquisition on the GP's face equals the same BoTorch acquisition on the SingleTaskGP itself."""
    import torch
    from botorch.acquisition import LogExpectedImprovement, UpperConfidenceBound
    from botorch.acquisition.analytic import LogProbabilityOfImprovement

    rng = np.random.default_rng(21)
    fitted = fit_gp(rng.random((25, 3)), rng.random(25), seed=0)
    acquisition = build_acquisition(kind, fitted)
    assert acquisition.model is fitted.posterior_model
    reference = {
        "logei": lambda: LogExpectedImprovement(fitted.model, best_f=fitted.best_f),
        "ucb": lambda: UpperConfidenceBound(fitted.model, beta=4.0),
        "pi": lambda: LogProbabilityOfImprovement(fitted.model, best_f=fitted.best_f),
    }[kind]()
    X = torch.tensor(rng.random((6, 1, 3)), dtype=torch.float64, requires_grad=True)
    want = reference(X)
    want.sum().backward()
    want_grad = X.grad.clone()  # type: ignore[union-attr]
    X.grad = None
    got = acquisition(X)
    got.sum().backward()
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(X.grad, want_grad, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("kind", ["logei", "pi"])
def test_with_pending_points_the_face_gives_the_joint_monte_carlo_values(kind: str) -> None:
    """With pending points the Monte Carlo acquisition on the face (joint posteriors from batch_moments) equals
    the same acquisition, base samples included, on the SingleTaskGP; scoring (which projects repeated pending
    points once) and gradients agree too."""
    import torch
    from botorch.acquisition import monte_carlo, qLogExpectedImprovement
    from botorch.sampling.normal import SobolQMCNormalSampler

    rng = np.random.default_rng(23)
    fitted = fit_gp(rng.random((20, 2)), rng.random(20), seed=0)
    pending = rng.random((3, 2))
    acquisition = build_acquisition(kind, fitted, pending=pending, seed=5)
    assert acquisition.model is fitted.posterior_model and acquisition.X_pending is not None
    batch_pi = getattr(monte_carlo, "qLogProbabilityOfImprovement", monte_carlo.qProbabilityOfImprovement)
    batch = {"logei": qLogExpectedImprovement, "pi": batch_pi}[kind]
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([128]), seed=5)
    reference = batch(fitted.model, best_f=fitted.best_f, sampler=sampler, X_pending=torch.as_tensor(pending))
    rows = rng.random((40, 2))
    want = reference(torch.as_tensor(rows).unsqueeze(-2))
    np.testing.assert_allclose(score(acquisition, fitted, rows), want.detach().numpy(), rtol=1e-5, atol=1e-7)
    X = torch.tensor(rows[:5], dtype=torch.float64).unsqueeze(-2).requires_grad_(True)
    reference(X).sum().backward()
    want_grad = X.grad.clone()  # type: ignore[union-attr]
    X.grad = None
    acquisition(X).sum().backward()
    torch.testing.assert_close(X.grad, want_grad, rtol=1e-3, atol=1e-6)


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
