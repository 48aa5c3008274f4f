"""Unit tests of kiln.models.model_list: one GP per quantity behind BoTorch's ModelList."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kiln.core.errors import ValidationError
from kiln.models.gp import fit_gp
from kiln.models.model_list import fit_model_list

RNG = np.random.default_rng(0)
X = RNG.random((20, 2))
Y = np.stack([np.sin(3 * X[:, 0]), 100.0 + 50.0 * X[:, 1] ** 2], 1)


def test_the_list_has_each_gps_posterior_as_one_output() -> None:
    fitted = fit_model_list([(X, Y[:, 0]), (X, Y[:, 1])], ["a", "b"], seed=3)
    T = torch.as_tensor(RNG.random((7, 2)), dtype=torch.float64)
    posterior = fitted.model.posterior(T.unsqueeze(-2))
    assert fitted.model.num_outputs == 2 and fitted.column("b") == 1
    mean, variance = posterior.mean.squeeze(-2), posterior.variance.squeeze(-2)  # 7 x 2
    for i in range(len(fitted.gps)):
        alone = fit_gp(X, Y[:, i], seed=3 + i)
        m, v = alone.moments(T)
        assert torch.allclose(mean[:, i], m, atol=1e-9) and torch.allclose(variance[:, i], v, atol=1e-9)
    joint = fitted.model.posterior(T.unsqueeze(0))  # 1 x 7 points jointly
    assert joint.mean.shape == (1, 7, 2)


def test_raw_maps_standardised_samples_back_to_lab_units() -> None:
    fitted = fit_model_list([(X, Y[:, 0]), (X, Y[:, 1])], ["a", "b"])
    zero = fitted.raw(torch.zeros(3, 2, dtype=torch.float64))
    assert np.allclose(zero.numpy(), np.tile(Y.mean(0), (3, 1)))
    one = fitted.raw(torch.ones(1, 2, dtype=torch.float64)).numpy()[0]
    assert np.allclose(one, Y.mean(0) + Y.std(0))
    assert np.allclose(fitted.stds, Y.std(0))


def test_each_quantity_learns_from_its_own_experiments() -> None:
    fitted = fit_model_list([(X, Y[:, 0]), (X[:5], Y[:5, 1])], ["a", "b"])
    assert [len(gp.model.train_targets) for gp in fitted.gps] == [20, 5]
    assert fitted.gps[1].y_mean == pytest.approx(Y[:5, 1].mean())


def test_a_quantity_without_values_is_refused() -> None:
    with pytest.raises(ValidationError, match="quantity 'b'"):
        fit_model_list([(X, Y[:, 0]), (X[:0], Y[:0, 1])], ["a", "b"])
    with pytest.raises(ValidationError):
        fit_model_list([(X, Y[:, 0])], ["a", "b"])
