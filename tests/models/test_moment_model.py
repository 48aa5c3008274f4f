"""Unit tests of kiln.models.base.moment_model: the posteriors of the BoTorch face and their samples."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.posteriors.gpytorch import GPyTorchPosterior
from botorch.sampling.normal import SobolQMCNormalSampler

from kiln.models.gp import fit_gp

RNG = np.random.default_rng(8)
FITTED = fit_gp(RNG.random((30, 3)), RNG.random(30), seed=0)


@pytest.mark.parametrize("q", [1, 4], ids=["independent points", "joint"])
def test_samples_from_base_samples_equal_gpytorchs_with_their_gradients(q: int) -> None:
    X = torch.tensor(RNG.random((5, q, 3)), dtype=torch.float64, requires_grad=True)
    posterior = FITTED.posterior_model.posterior(X)
    sampler = SobolQMCNormalSampler(torch.Size([16]), seed=3)
    got = sampler(posterior)
    assert got.shape == (16, 5, q, 1)
    (grad,) = torch.autograd.grad(got.square().sum(), X, retain_graph=True)
    reference = GPyTorchPosterior(posterior.distribution)
    base = sampler.base_samples.expand(16, 5, q)  # as the sampler passes them: one set for every t-batch
    want = reference.rsample_from_base_samples(torch.Size([16]), base)
    (want_grad,) = torch.autograd.grad(want.square().sum(), X)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(grad, want_grad, rtol=1e-7, atol=1e-10)


def test_samples_with_several_sample_and_batch_dimensions_equal_gpytorchs() -> None:
    X = torch.tensor(RNG.random((2, 5, 3, 3)), dtype=torch.float64)  # two t-batch dimensions, q = 3
    posterior = FITTED.posterior_model.posterior(X)
    base = torch.randn(4, 6, 2, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    got = posterior.rsample_from_base_samples(torch.Size([4, 6]), base)
    want = GPyTorchPosterior(posterior.distribution).rsample_from_base_samples(torch.Size([4, 6]), base)
    assert got.shape == (4, 6, 2, 5, 3, 1)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-12)


def test_base_samples_of_another_shape_are_refused() -> None:
    posterior = FITTED.posterior_model.posterior(torch.tensor(RNG.random((2, 3, 3)), dtype=torch.float64))
    with pytest.raises(RuntimeError, match="sample_shape"):
        posterior.rsample_from_base_samples(torch.Size([4]), torch.zeros(5, 2, 3, dtype=torch.float64))
