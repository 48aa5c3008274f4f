"""Unit tests of kiln.models.forest and kiln.models.base: fitting, uncertainty, believer refits, the Model view."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import spearmanr

from kiln.core.errors import ValidationError
from kiln.models import FittedForest, FittedGP, Surrogate, fit_forest, fit_gp
from kiln.models.forest import STD_FLOOR


def bowl(X: np.ndarray) -> np.ndarray:
    return -((X - 0.4) ** 2).sum(1)


def test_forest_ranks_held_out_points_like_the_function() -> None:
    rng = np.random.default_rng(0)
    X, T = rng.random((60, 3)), rng.random((300, 3))
    fitted = fit_forest(X, bowl(X), seed=0)
    assert isinstance(fitted, FittedForest) and fitted.trees == 100 and fitted.dim == 3
    mean, std = fitted.posterior_mean_std(T)
    assert mean.shape == std.shape == (300,)
    assert spearmanr(mean, bowl(T)).statistic > 0.85
    assert (std >= STD_FLOOR * fitted.y_std).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_spread_is_larger_far_from_the_data_than_at_it(seed: int) -> None:
    """Far = inside a hole in the data (a forest extrapolates constantly, so beyond the data's hull its spread
    does not grow)."""
    rng = np.random.default_rng(seed)
    X = rng.random((200, 2))
    X = X[np.abs(X - 0.5).max(1) > 0.2][:40]  # no data in the central square [0.3, 0.7]^2
    y = X[:, 0] + 2 * X[:, 1] + np.sin(6 * X[:, 0])
    fitted = fit_forest(X, y, seed=seed)
    _, at_data = fitted.posterior_mean_std(X)
    _, far = fitted.posterior_mean_std(0.4 + 0.2 * rng.random((50, 2)))
    assert far.mean() > 1.2 * at_data.mean()


def test_outputs_are_in_utility_units_and_moments_standardised() -> None:
    import torch

    rng = np.random.default_rng(2)
    X = rng.random((20, 2))
    y = bowl(X)
    small, large = fit_forest(X, y, seed=3), fit_forest(X, 1e6 * y + 5e6, seed=3)
    T = rng.random((10, 2))
    (m1, s1), (m2, s2) = small.posterior_mean_std(T), large.posterior_mean_std(T)
    np.testing.assert_allclose(m2, 1e6 * m1 + 5e6, rtol=1e-6)
    np.testing.assert_allclose(s2, 1e6 * s1, rtol=1e-4)
    mean, variance = large.moments(torch.as_tensor(T))
    np.testing.assert_allclose(mean.numpy() * large.y_std + large.y_mean, m2, rtol=1e-9)
    np.testing.assert_allclose(variance.sqrt().numpy() * large.y_std, s2, rtol=1e-9)
    assert large.best_f == pytest.approx(large.standardise(1e6 * y + 5e6).max())


def test_same_seed_same_forest_and_other_seeds_differ() -> None:
    rng = np.random.default_rng(4)
    X, y, T = rng.random((25, 3)), rng.random(25), rng.random((10, 3))
    a, b, c = (fit_forest(X, y, trees=20, seed=s).posterior_mean_std(T) for s in (7, 7, 8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_believed_pending_points_shrink_the_spread_there() -> None:
    rng = np.random.default_rng(5)
    X = rng.random((30, 2))
    fitted = fit_forest(X, bowl(X), seed=0)
    P = np.array([[0.9, 0.9], [0.05, 0.95]])
    believer = fitted.believe(P)
    assert believer.X.shape == (32, 2) and believer.best_f == fitted.best_f and believer.y_std == fitted.y_std
    np.testing.assert_allclose(believer.z[-2:], fitted.mean_std(P)[0])
    assert (believer.mean_std(P)[1] < fitted.mean_std(P)[1]).all()
    assert fitted.believe(np.zeros((0, 2))) is fitted


def test_model_view_feeds_botorch_analytic_acquisitions() -> None:
    import torch
    from botorch.acquisition import LogExpectedImprovement, UpperConfidenceBound
    from torch.distributions import Normal

    rng = np.random.default_rng(6)
    X = rng.random((20, 2))
    fitted = fit_forest(X, bowl(X), seed=0)
    T = torch.as_tensor(rng.random((15, 2)))
    mean, variance = fitted.moments(T)
    ucb = UpperConfidenceBound(fitted.model, beta=4.0)(T.unsqueeze(-2))
    torch.testing.assert_close(ucb, mean + 2.0 * variance.sqrt())
    u = (mean - fitted.best_f) / variance.sqrt()
    normal = Normal(0.0, 1.0)
    ei = variance.sqrt() * (u * normal.cdf(u) + normal.log_prob(u).exp())
    logei = LogExpectedImprovement(fitted.model, best_f=fitted.best_f)(T.unsqueeze(-2))
    torch.testing.assert_close(logei.exp(), ei, rtol=1e-6, atol=1e-12)


def test_one_tree_is_a_thompson_sample() -> None:
    import torch

    rng = np.random.default_rng(7)
    X = rng.random((20, 2))
    fitted = fit_forest(X, bowl(X), trees=10, seed=0)
    T = rng.random((8, 2))
    posterior = fitted.sample_model(3).posterior(torch.as_tensor(T).unsqueeze(-2))
    tree = int(np.random.default_rng(3).integers(10))
    np.testing.assert_allclose(posterior.mean.reshape(-1).numpy(), fitted.tree_predictions(T)[tree])


def test_both_models_are_surrogates() -> None:
    X = np.linspace(0, 1, 6).reshape(-1, 1)
    assert isinstance(fit_forest(X, X[:, 0], trees=5), Surrogate)
    assert isinstance(fit_gp(X, X[:, 0]), FittedGP) and isinstance(fit_gp(X, X[:, 0]), Surrogate)


@pytest.mark.parametrize(
    "X, y, trees",
    [
        (np.zeros((3, 2)), np.zeros(2), 10),
        (np.zeros((0, 2)), np.zeros(0), 10),
        (np.array([[np.nan, 0.0]]), np.zeros(1), 10),
        (np.zeros((3, 2)), np.zeros(3), 0),
    ],
)
def test_bad_inputs_raise(X: np.ndarray, y: np.ndarray, trees: int) -> None:
    with pytest.raises(ValidationError, match="fit_forest"):
        fit_forest(X, y, trees=trees)


def test_constant_data_gives_finite_predictions() -> None:
    mean, std = fit_forest(np.random.default_rng(8).random((5, 2)), np.ones(5)).posterior_mean_std(np.ones((3, 2)))
    assert np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()


def test_importing_the_models_does_not_import_sklearn_or_torch() -> None:
    code = "import sys, kiln.models; assert not {'torch', 'sklearn', 'botorch'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
