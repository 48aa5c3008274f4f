"""Unit tests of kiln.models.gp: fitting, prediction, determinism, the fast loss and moments, robustness."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kiln.core.errors import SpecError
from kiln.models import KERNELS, FittedGP, fit_gp
from kiln.models.gp import loss_closure


def wave(X: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * X[:, 0])


def test_fit_1d_recovers_a_smooth_function_and_knows_where_it_has_no_data() -> None:
    X = np.linspace(0.0, 0.6, 13).reshape(-1, 1)
    fitted = fit_gp(X, wave(X), seed=0)
    assert isinstance(fitted, FittedGP) and fitted.converged
    mean, std = fitted.posterior_mean_std(X)
    assert np.abs(mean - wave(X)).max() < 0.02
    between = (X[:-1] + X[1:]) / 2
    assert np.abs(fitted.posterior_mean_std(between)[0] - wave(between)).max() < 0.05
    _, far = fitted.posterior_mean_std(np.array([[1.0]]))
    assert far[0] > 10 * std.max()


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_fit_2d_predicts_held_out_points(kernel: str) -> None:
    rng = np.random.default_rng(1)
    X, T = rng.random((30, 2)), rng.random((200, 2))

    def f(Z: np.ndarray) -> np.ndarray:
        return Z[:, 0] ** 2 + np.sin(3 * Z[:, 1])

    fitted = fit_gp(X, f(X), kernel=kernel, seed=0)
    mean, std = fitted.posterior_mean_std(T)
    assert mean.shape == std.shape == (200,)
    assert np.sqrt(np.mean((mean - f(T)) ** 2)) < 0.05 * np.std(f(T))


def test_outputs_are_in_utility_units_whatever_the_scale() -> None:
    X = np.linspace(0, 1, 9).reshape(-1, 1)
    small = fit_gp(X, wave(X), seed=0)
    large = fit_gp(X, 1e6 * wave(X) + 5e6, seed=0)
    T = np.array([[0.33], [0.9]])
    (m1, s1), (m2, s2) = small.posterior_mean_std(T), large.posterior_mean_std(T)
    np.testing.assert_allclose(m2, 1e6 * m1 + 5e6, rtol=1e-6)
    np.testing.assert_allclose(s2, 1e6 * s1, rtol=1e-5)
    assert large.best_f == pytest.approx(large.standardise(1e6 * wave(X) + 5e6).max())


def test_same_seed_same_model() -> None:
    rng = np.random.default_rng(2)
    X, y = rng.random((20, 3)), rng.random(20)
    T = rng.random((10, 3))
    a, b = fit_gp(X, y, seed=7).posterior_mean_std(T), fit_gp(X, y, seed=7).posterior_mean_std(T)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_unknown_kernel_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="matern52") as error:
        fit_gp(np.zeros((2, 1)), np.array([0.0, 1.0]), kernel="periodic")
    assert "rbf" in str(error.value)


def test_failed_fit_keeps_the_initial_hyperparameters(monkeypatch: pytest.MonkeyPatch) -> None:
    import botorch.fit

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("optimiser exploded")

    monkeypatch.setattr(botorch.fit, "fit_gpytorch_mll", broken)
    X = np.linspace(0, 1, 8).reshape(-1, 1)
    fitted = fit_gp(X, wave(X), seed=0)
    assert not fitted.converged
    mean, std = fitted.posterior_mean_std(X)
    assert np.isfinite(mean).all() and np.isfinite(std).all()


@pytest.mark.parametrize(
    "X, y",
    [
        (np.array([[0.5, 0.5]] * 4), np.array([1.0, 2.0, 3.0, 4.0])),  # one point measured four times
        (np.random.default_rng(3).random((12, 2)), 1.0 + 1e-13 * np.arange(12)),  # (almost) no spread
        (np.random.default_rng(4).random((40, 2)), np.repeat([0.0, 1.0], 20)),  # a step
    ],
)
def test_awkward_data_still_gives_finite_predictions(X: np.ndarray, y: np.ndarray) -> None:
    mean, std = fit_gp(X, y, seed=0).posterior_mean_std(np.random.default_rng(5).random((5, X.shape[1])))
    assert np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all()


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_fast_loss_equals_gpytorch_marginal_likelihood(kernel: str) -> None:
    import torch
    from botorch.models import SingleTaskGP
    from botorch.optim.closures import get_loss_closure_with_grads
    from botorch.optim.utils import get_parameters
    from gpytorch.mlls import ExactMarginalLogLikelihood

    rng = np.random.default_rng(6)
    X = torch.as_tensor(rng.random((25, 3)))
    Y = torch.as_tensor(rng.standard_normal((25, 1)))
    model = SingleTaskGP(X, Y, covar_module=KERNELS[kernel](3), outcome_transform=None).double()
    mll = ExactMarginalLogLikelihood(model.likelihood, model).train()
    reference = get_loss_closure_with_grads(mll, parameters=get_parameters(mll, requires_grad=True))
    loss, grads = reference()
    expected = (loss.item(), [g.clone() for g in grads if g is not None])
    fast_loss, fast_grads = loss_closure(model, mll)()
    assert len(fast_grads) == len(expected[1])
    assert fast_loss.item() == pytest.approx(expected[0], rel=1e-10)
    for got, want in zip(fast_grads, expected[1], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_fast_moments_equal_botorch_posterior(kernel: str) -> None:
    import torch

    rng = np.random.default_rng(8)
    fitted = fit_gp(rng.random((30, 4)), rng.random(30), kernel=kernel, seed=0)
    T, P = torch.as_tensor(rng.random((50, 4))), torch.as_tensor(rng.random((3, 4)))
    with torch.no_grad():
        posterior = fitted.model.posterior(T)
        mean, variance = fitted.moments(T)
        torch.testing.assert_close(mean, posterior.mean.squeeze(-1), rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(variance, posterior.variance.squeeze(-1), rtol=1e-4, atol=1e-8)
        batches = torch.stack([torch.cat([T[i : i + 1], P]) for i in range(4)])  # 4 x (1 + 3) x d, P repeated
        joint_posterior = fitted.model.posterior(batches)
        joint = joint_posterior.mvn.covariance_matrix  # type: ignore[union-attr]
        mean_b, cov_b = fitted.batch_moments(batches)
        torch.testing.assert_close(mean_b, joint_posterior.mean.squeeze(-1), rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(cov_b[:, 0, 1:], joint[:, 0, 1:], rtol=1e-4, atol=1e-8)
        torch.testing.assert_close(cov_b[:, 1:, 1:], joint[:, 1:, 1:], rtol=1e-4, atol=1e-8)
        torch.testing.assert_close(cov_b, joint, rtol=1e-4, atol=1e-8)


# ----------------------------------------------------------------------------------------- isotropic kernels
def _base(fitted: FittedGP) -> Any:
    from gpytorch.kernels import ScaleKernel

    kernel = fitted.model.covar_module
    return kernel.base_kernel if isinstance(kernel, ScaleKernel) else kernel


def _lengthscale(fitted: FittedGP) -> np.ndarray:
    return _base(fitted).lengthscale.detach().numpy().reshape(-1)  # type: ignore[no-any-return]


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_isotropic_kernel_has_one_lengthscale_and_the_same_prior(kernel: str) -> None:
    rng = np.random.default_rng(9)
    X = rng.random((25, 3))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    iso, ard = fit_gp(X, y, kernel=kernel, ard=False, seed=0), fit_gp(X, y, kernel=kernel, seed=0)
    assert iso.converged and not iso.ard and ard.ard
    assert _lengthscale(iso).shape == (1,) and _lengthscale(ard).shape == (3,)
    assert float(_base(iso).lengthscale_prior.loc) == pytest.approx(np.sqrt(2) + 0.5 * np.log(3))
    T = rng.random((100, 3))
    mean, _ = iso.posterior_mean_std(T)
    assert np.sqrt(np.mean((mean - np.sin(3 * T[:, 0]) - T[:, 1]) ** 2)) < 0.1


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_fast_loss_equals_gpytorch_marginal_likelihood_when_isotropic(kernel: str) -> None:
    import torch
    from botorch.models import SingleTaskGP
    from botorch.optim.closures import get_loss_closure_with_grads
    from botorch.optim.utils import get_parameters
    from gpytorch.mlls import ExactMarginalLogLikelihood

    rng = np.random.default_rng(10)
    X = torch.as_tensor(rng.random((20, 3)))
    Y = torch.as_tensor(rng.standard_normal((20, 1)))
    model = SingleTaskGP(X, Y, covar_module=KERNELS[kernel](3, ard=False), outcome_transform=None).double()
    mll = ExactMarginalLogLikelihood(model.likelihood, model).train()
    loss, grads = get_loss_closure_with_grads(mll, parameters=get_parameters(mll, requires_grad=True))()
    expected = [g.clone() for g in grads if g is not None]
    fast_loss, fast_grads = loss_closure(model, mll)()
    assert fast_loss.item() == pytest.approx(loss.item(), rel=1e-10)
    for got, want in zip(fast_grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------------------------------ fast prediction
@pytest.mark.parametrize("ard", [True, False])
@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_direct_covariance_equals_gpytorch_kernel_and_passes_input_gradients(kernel: str, ard: bool) -> None:
    import torch

    from kiln.models.gp import covariance, prior_variance

    rng = np.random.default_rng(11)
    fitted = fit_gp(rng.random((20, 3)), rng.random(20), kernel=kernel, ard=ard, seed=0)
    A = torch.as_tensor(rng.random((7, 3)), dtype=torch.float64)
    B = torch.tensor(rng.random((300, 3)), dtype=torch.float64, requires_grad=True)
    kernel_module = fitted.model.covar_module
    direct = covariance(kernel_module, A, B)
    want = kernel_module(A, B).to_dense()
    torch.testing.assert_close(direct, want.detach(), rtol=1e-9, atol=1e-12)
    (direct.sum()).backward()
    grad_direct = B.grad.clone()  # type: ignore[union-attr]
    B.grad = None
    want.sum().backward()
    torch.testing.assert_close(grad_direct, B.grad, rtol=1e-7, atol=1e-10)
    with torch.no_grad():  # the in-place path
        torch.testing.assert_close(covariance(kernel_module, A, B), want.detach(), rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(prior_variance(kernel_module, A), kernel_module(A, diag=True))


def test_large_data_fit_hyperparameters_on_a_subset_and_condition_on_everything() -> None:
    from kiln.models.gp import FIT_SUBSET, fit_subset

    rng = np.random.default_rng(12)
    n = FIT_SUBSET + 150
    X = rng.random((n, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1] ** 2
    fitted = fit_gp(X, y, seed=3)
    assert fitted.converged
    assert fitted.model.train_inputs[0].shape == (n, 2)
    subset = fit_subset(n, 3)
    assert len(subset) == FIT_SUBSET == len(set(subset.tolist()))
    assert not np.array_equal(subset, fit_subset(n, 4))
    np.testing.assert_array_equal(fit_subset(50, 3), np.arange(50))
    left_out = np.setdiff1d(np.arange(n), subset)
    mean, std = fitted.posterior_mean_std(X[left_out])
    assert np.abs(mean - y[left_out]).max() < 0.02  # conditioned on the points the fit did not see
    assert std.max() < 0.05
    again = fit_gp(X, y, seed=3)
    np.testing.assert_array_equal(again.posterior_mean_std(X[:5])[0], fitted.posterior_mean_std(X[:5])[0])


def test_believing_pending_points_keeps_the_mean_and_shrinks_the_variance_there() -> None:
    rng = np.random.default_rng(13)
    X = 0.5 * rng.random((20, 2))  # data in one corner; the pending points far from it
    fitted = fit_gp(X, np.sin(3 * X[:, 0]) + X[:, 1], seed=0)
    P = np.array([[0.95, 0.6], [0.6, 0.95]])
    believed = fitted.believe(P)
    before, after = fitted.posterior_mean_std(P), believed.posterior_mean_std(P)
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)
    assert (after[1] < 0.2 * before[1]).all()
    assert fitted.model.train_inputs[0].shape == (20, 2)  # the original is untouched
    assert believed.model.train_inputs[0].shape == (22, 2) and believed.best_f == fitted.best_f
    assert fitted.believe(np.zeros((0, 2))) is fitted
