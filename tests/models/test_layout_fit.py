"""GPs on a KernelLayout: a plain layout changes nothing; blocks give a Tanimoto / elements kernel whose
posteriors, through Kiln's own algebra, equal a stock BoTorch SingleTaskGP with the same kernel."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch

from kiln.core.errors import ValidationError
from kiln.models import KERNELS, fit_gp
from kiln.models.gp import FittedGP
from kiln.models.joint_fit import fit_gps_jointly
from kiln.models.kernels import ElementsKernel, TanimotoKernel
from kiln.models.model_list import fit_model_list
from kiln.space.kernel_layout import FeatureBlock, KernelLayout

PROPERTIES = ((0.0, 0.2), (1.0, 0.6))
LAYOUT = KernelLayout(
    8,
    (
        FeatureBlock("tanimoto", (2, 3, 4, 5, 6, 7), name="ligand"),
        FeatureBlock("elements", (0, 1), PROPERTIES, name="metals", low=(0.1, 0.0), span=(1.0, 2.0)),
    ),
)
"""Columns 0-1: element amounts (also in the shared kernel), 2-7: fingerprint bits."""


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fractions = rng.dirichlet(np.ones(2), size=n)
    bits = (rng.random((n, 6)) < 0.4).astype(float)
    X = np.hstack([fractions, bits])
    y = np.sin(3 * fractions[:, 0]) + bits[:, :3].sum(1) - 0.5 * bits[:, 4]
    return X, y


def _kernels(fitted: FittedGP) -> list[Any]:
    return list(fitted.model.covar_module.modules())


def _stock(fitted: FittedGP, X: torch.Tensor | None = None, z: torch.Tensor | None = None) -> Any:
    """A BoTorch SingleTaskGP with the fitted GP's kernel, likelihood and mean, on its data (or on X, z)."""
    from botorch.models import SingleTaskGP

    model = fitted.model
    X = model.train_inputs[0] if X is None else X
    z = model.train_targets if z is None else z
    stock = SingleTaskGP(
        X,
        z.unsqueeze(-1),
        likelihood=copy.deepcopy(model.likelihood),
        covar_module=copy.deepcopy(model.covar_module),
        mean_module=copy.deepcopy(model.mean_module),
        outcome_transform=None,
    ).to(torch.float64)
    stock.eval()
    return stock


@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_a_plain_layout_gives_the_same_numbers(kernel: str) -> None:
    rng = np.random.default_rng(0)
    X, y, T = rng.random((20, 3)), rng.random(20), rng.random((15, 3))
    plain = fit_gp(X, y, kernel=kernel, seed=3, layout=KernelLayout(3))
    today = fit_gp(X, y, kernel=kernel, seed=3)
    assert repr(plain.model.covar_module) == repr(today.model.covar_module)
    for a, b in zip(plain.posterior_mean_std(T), today.posterior_mean_std(T), strict=True):
        np.testing.assert_array_equal(a, b)
    assert plain.layout is None


def test_a_layout_with_blocks_fits_its_kernels_and_keeps_the_layout() -> None:
    X, y = _data(30, 1)
    fitted = fit_gp(X, y, seed=0, layout=LAYOUT)
    assert fitted.converged and fitted.layout == LAYOUT
    kinds = {type(k) for k in _kernels(fitted)}
    assert TanimotoKernel in kinds and ElementsKernel in kinds
    mean, std = fitted.posterior_mean_std(X)
    assert np.abs(mean - y).max() < 0.3 * np.std(y)
    assert np.isfinite(std).all()


def test_moments_equal_a_stock_singletaskgp_with_the_same_kernel() -> None:
    X, y = _data(25, 2)
    fitted = fit_gp(X, y, seed=0, layout=LAYOUT)
    stock = _stock(fitted)
    T = torch.as_tensor(np.vstack([_data(12, 3)[0], np.random.default_rng(4).random((4, 8))]))  # relaxed ones too
    with torch.no_grad():
        posterior = stock.posterior(T)
        mean, variance = fitted.moments(T)
        torch.testing.assert_close(mean, posterior.mean.squeeze(-1), rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(variance, posterior.variance.squeeze(-1), rtol=1e-4, atol=1e-8)
        batches = torch.stack([T[i : i + 3] for i in range(4)])  # 4 x 3 x d
        joint = stock.posterior(batches)
        mean_b, cov_b = fitted.batch_moments(batches)
        torch.testing.assert_close(mean_b, joint.mean.squeeze(-1), rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(cov_b, joint.mvn.covariance_matrix, rtol=1e-4, atol=1e-8)
    face = fitted.posterior_model.posterior(T.unsqueeze(-2))
    torch.testing.assert_close(face.mean.reshape(-1), mean, rtol=1e-6, atol=1e-8)


def test_input_gradients_of_the_moments_equal_the_stock_posteriors() -> None:
    X, y = _data(25, 5)
    fitted = fit_gp(X, y, seed=0, layout=LAYOUT)
    stock = _stock(fitted)
    T = np.random.default_rng(6).random((5, 8))  # relaxed points inside the box, as the optimiser sees them
    ours = torch.as_tensor(T).requires_grad_(True)
    mean, variance = fitted.differentiable_moments(ours)
    (mean.sum() + variance.sum()).backward()
    theirs = torch.as_tensor(T).requires_grad_(True)
    posterior = stock.posterior(theirs)
    (posterior.mean.sum() + posterior.variance.sum()).backward()
    assert ours.grad is not None and theirs.grad is not None
    assert float(ours.grad.abs().sum()) > 0
    torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-5, atol=1e-8)
    batch = torch.as_tensor(T[:4].reshape(2, 2, 8)).requires_grad_(True)
    mean_b, cov_b = fitted.batch_moments(batch)
    (mean_b.sum() + cov_b.sum()).backward()
    assert batch.grad is not None and float(batch.grad.abs().sum()) > 0


def test_believing_pending_points_keeps_the_layout() -> None:
    X, y = _data(20, 7)
    fitted = fit_gp(X, y, seed=0, layout=LAYOUT)
    P = _data(3, 8)[0]
    believed = fitted.believe(P)
    assert believed.layout == LAYOUT and TanimotoKernel in {type(k) for k in _kernels(believed)}
    Pt = torch.as_tensor(P)
    mean_p, _ = fitted.moments(Pt)
    train = fitted.model.train_inputs[0]
    stock = _stock(fitted, torch.cat([train, Pt]), torch.cat([fitted.model.train_targets, mean_p]))
    T = torch.as_tensor(_data(10, 9)[0])
    with torch.no_grad():
        mean, variance = believed.moments(T)
        torch.testing.assert_close(mean, stock.posterior(T).mean.squeeze(-1), rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(variance, stock.posterior(T).variance.squeeze(-1), rtol=1e-4, atol=1e-8)
    assert float(believed.moments(Pt)[1].max()) < float(fitted.moments(Pt)[1].min()) + 1e-12


def test_several_gps_on_a_layout_are_each_fitted_as_alone() -> None:
    X, y = _data(20, 10)
    ys = [y, np.cos(4 * X[:, 0]) + X[:, 3]]
    assert fit_gps_jointly(X, ys, [0, 1], layout=LAYOUT) is None  # no batched closed form: one fit each
    together = fit_model_list([(X, ys[0]), (X, ys[1])], ["a", "b"], seed=5, layout=LAYOUT)
    T = _data(8, 11)[0]
    for i, gp in enumerate(together.gps):
        alone = fit_gp(X, ys[i], seed=5 + i, layout=LAYOUT)
        assert gp.layout == LAYOUT and TanimotoKernel in {type(k) for k in _kernels(gp)}
        for a, b in zip(gp.posterior_mean_std(T), alone.posterior_mean_std(T), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_a_plain_layout_keeps_the_side_by_side_fit() -> None:
    rng = np.random.default_rng(12)
    X = rng.random((15, 2))
    ys = [np.sin(3 * X[:, 0]), X[:, 1] ** 2]
    assert fit_gps_jointly(X, ys, [0, 1], layout=KernelLayout(2)) is not None


def test_a_layout_that_does_not_fit_the_data_is_refused() -> None:
    X, y = _data(10, 13)
    with pytest.raises(ValidationError, match="layout's dim"):
        fit_gp(X[:, :5], y, layout=LAYOUT)
    with pytest.raises(ValidationError, match="layout's dim"):
        fit_gp(X, y, layout=KernelLayout(3))
    negative = X.copy()
    negative[0, 3] = -0.5
    with pytest.raises(ValidationError, match="non-negative values in a tanimoto block"):
        fit_gp(negative, y, layout=LAYOUT)
