"""Unit tests of kiln.models.dkl: the deep-kernel GP learns a patch-to-reward relation an (x, y) GP cannot."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dkl_images import blob_image
from kiln.core.errors import ValidationError
from kiln.models.base import Surrogate
from kiln.models.dkl import DKLSettings, FittedDKL, fit_dkl, marginal_loss
from kiln.models.gp import fit_gp
from kiln.space.pool import CandidatePool
from kiln.space.pool_image import pixel_pool

FAST = DKLSettings(iterations=150)
Edges = tuple[CandidatePool, np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def edges() -> Edges:
    """A 32 x 32 blob image whose reward is high on the blobs' edges, and 40 measured pixels."""
    image, reward = blob_image(size=32, count=12, seed=0)
    pool = pixel_pool(image, patch=7)
    keys = np.random.default_rng(0).choice(len(pool), 40, replace=False)
    return pool, reward.reshape(-1), keys


@pytest.fixture(scope="module")
def fitted(edges: Edges) -> FittedDKL:
    pool, truth, keys = edges
    return fit_dkl(pool.patches(keys), truth[keys], coordinates=np.array(pool.encoded[keys]), settings=FAST, seed=0)


def test_dkl_learns_edges_far_better_than_a_gp_on_xy(edges: Edges, fitted: FittedDKL) -> None:
    pool, truth, keys = edges
    every = np.arange(len(pool))
    mean, std = fitted.predict(pool.patches(every), np.array(pool.encoded))
    gp_mean, _ = fit_gp(np.array(pool.encoded[keys]), truth[keys], seed=0).posterior_mean_std(np.array(pool.encoded))
    unseen = np.setdiff1d(every, keys)
    dkl_r = np.corrcoef(mean[unseen], truth[unseen])[0, 1]
    gp_r = np.corrcoef(gp_mean[unseen], truth[unseen])[0, 1]
    rmse = {
        "dkl": np.sqrt(np.mean((mean - truth)[unseen] ** 2)),
        "gp": np.sqrt(np.mean((gp_mean - truth)[unseen] ** 2)),
        "mean": np.sqrt(np.mean((truth[keys].mean() - truth)[unseen] ** 2)),
    }
    assert dkl_r > 0.65 and dkl_r > gp_r + 0.15, (dkl_r, gp_r)
    assert rmse["dkl"] < 0.85 * rmse["gp"] and rmse["dkl"] < 0.75 * rmse["mean"], rmse
    assert fitted.converged and 1 <= fitted.iterations <= FAST.iterations
    assert std.shape == (len(pool),) and np.all(std > 0)


def test_the_fast_loss_is_gpytorchs_exact_marginal_log_likelihood(fitted: FittedDKL) -> None:
    """The training loss is the value GPyTorch's ExactMarginalLogLikelihood gives the same deep-kernel model."""
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from kiln.models.dkl import _deep_gp_class

    gp = fitted.gp.model
    patches = np.random.default_rng(3).normal(size=(12, 7, 7))
    inputs = torch.as_tensor(np.hstack([patches.reshape(12, -1), np.random.default_rng(4).random((12, 2))]))
    targets = torch.as_tensor(np.random.default_rng(5).normal(size=12))
    model = _deep_gp_class()(inputs, targets, gp, fitted.extractor, (7, 7))
    model.train()
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    expected = -mll(model(inputs), targets)
    assert float(marginal_loss(model)().detach()) == pytest.approx(float(expected.detach()), rel=1e-6)
    model.eval()


def test_fitting_is_deterministic_per_seed(edges: Edges, fitted: FittedDKL) -> None:
    pool, truth, keys = edges
    coordinates = np.array(pool.encoded[keys])
    again = fit_dkl(pool.patches(keys), truth[keys], coordinates=coordinates, settings=FAST, seed=0)
    some = np.arange(0, len(pool), 7)
    first = fitted.predict(pool.patches(some), np.array(pool.encoded[some]))
    np.testing.assert_array_equal(first[0], again.predict(pool.patches(some), np.array(pool.encoded[some]))[0])
    other = fit_dkl(
        pool.patches(keys), truth[keys], coordinates=coordinates, settings=DKLSettings(iterations=5), seed=1
    )
    assert not np.allclose(
        other.embed(pool.patches(some), np.array(pool.encoded[some])),
        fitted.embed(pool.patches(some), np.array(pool.encoded[some])),
    )


def test_the_surrogate_face_is_on_embedded_inputs(edges: Edges, fitted: FittedDKL) -> None:
    pool, truth, keys = edges
    assert isinstance(fitted, Surrogate)
    assert fitted.dim == FAST.features + 2
    Z = fitted.embed(pool.patches(keys[:5]), np.array(pool.encoded[keys[:5]]))
    assert Z.shape == (5, fitted.dim) and np.all(np.abs(Z[:, : FAST.features]) <= 1)
    np.testing.assert_allclose(Z[:, FAST.features :], pool.encoded[keys[:5]])
    mean, std = fitted.posterior_mean_std(Z)
    z_mean, z_var = fitted.moments(torch.as_tensor(Z))
    np.testing.assert_allclose(mean, z_mean.numpy() * fitted.y_std + fitted.y_mean)
    np.testing.assert_allclose(std, z_var.sqrt().numpy() * fitted.y_std)
    posterior = fitted.model.posterior(torch.as_tensor(Z).unsqueeze(-2))
    np.testing.assert_allclose(posterior.mean.reshape(-1).numpy(), z_mean.numpy(), atol=1e-10)
    assert fitted.best_f == pytest.approx(float(fitted.standardise(truth[keys]).max()))
    assert abs(mean - truth[keys[:5]]).max() < 0.3  # near the measured values


def test_without_coordinates_the_features_alone_are_modelled(edges: Edges) -> None:
    pool, truth, keys = edges
    model = fit_dkl(pool.patches(keys), truth[keys], settings=DKLSettings(iterations=10), seed=0)
    assert model.coordinates == 0 and model.dim == 2
    assert model.embed(pool.patches([0, 1])).shape == (2, 2)
    with pytest.raises(ValidationError, match="trained without"):
        model.embed(pool.patches([0]), np.zeros((1, 2)))


def test_bad_inputs_and_settings_are_named(edges: Edges, fitted: FittedDKL) -> None:
    pool = edges[0]
    with pytest.raises(ValidationError, match="n x h x w"):
        fit_dkl(np.zeros((4, 49)), np.arange(4.0))
    with pytest.raises(ValidationError, match="X must be n x d and y of length n"):
        fit_dkl(np.zeros((4, 7, 7)), np.arange(3.0))
    with pytest.raises(ValidationError, match="finite"):
        fit_dkl(np.full((4, 7, 7), np.nan), np.arange(4.0))
    with pytest.raises(ValidationError, match=r"m x 7 x 7"):
        fitted.embed(np.zeros((2, 5, 5)), np.zeros((2, 2)))
    with pytest.raises(ValidationError, match=r"m x 2 \(as in training\)"):
        fitted.embed(pool.patches([0]))
    for name, value in (("features", 0), ("iterations", True), ("learning_rate", 0.0), ("weight_decay", -1.0)):
        with pytest.raises(ValidationError, match=name):
            DKLSettings(**{name: value})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="known kernels"):
        DKLSettings(kernel="linear")


def test_constant_utilities_do_not_break_training() -> None:
    image, _ = blob_image(size=16, count=3, seed=1)
    pool = pixel_pool(image, patch=5)
    model = fit_dkl(pool.patches(range(10)), np.ones(10), settings=DKLSettings(iterations=20), seed=0)
    mean, std = model.predict(pool.patches(range(20)))
    assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std))
    np.testing.assert_allclose(mean, 1.0, atol=1e-6)
