"""Unit tests of kiln.models.joint_fit: GPs on the same inputs fitted side by side equal GPs fitted alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import kiln.models.joint_fit as joint_fit
import kiln.models.model_list as model_list
from kiln.bench.latency import target_values
from kiln.models.gp import FIT_SUBSET, FittedGP, fit_gp
from kiln.models.joint_fit import BatchedLoss, fit_gps_jointly
from kiln.models.model_list import fit_model_list, same_inputs

RNG = np.random.default_rng(4)
X = RNG.random((60, 6))
YS = [np.array([row[f"y{i}"] for row in target_values(X, 3)]) for i in range(3)]


def _hyperparameters(gp: FittedGP) -> np.ndarray:
    return torch.cat([p.detach().reshape(-1) for p in gp.model.parameters()]).numpy()


@pytest.mark.parametrize(("kernel", "ard"), [("matern52", True), ("matern52", False), ("rbf", True)])
def test_each_gp_is_the_one_fitted_alone(kernel: str, ard: bool) -> None:
    together = fit_gps_jointly(X, YS, [7, 8, 9], kernel=kernel, ard=ard)
    assert together is not None and len(together) == 3
    T = torch.as_tensor(RNG.random((9, 6)), dtype=torch.float64)
    for i, gp in enumerate(together):
        alone = fit_gp(X, YS[i], kernel=kernel, seed=7 + i, ard=ard)
        assert gp.converged and (gp.y_mean, gp.y_std, gp.best_f) == (alone.y_mean, alone.y_std, alone.best_f)
        assert np.allclose(_hyperparameters(gp), _hyperparameters(alone), rtol=1e-6, atol=1e-8)
        assert torch.allclose(gp.moments(T)[0], alone.moments(T)[0], atol=1e-8)
        assert not gp.model.training


def test_the_batched_loss_is_each_gps_own_loss() -> None:
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from kiln.models.gp import loss_closure, new_model

    train = torch.as_tensor(X, dtype=torch.float64)
    first, second = (YS[0] - YS[0].mean()) / YS[0].std(), YS[1] - YS[1].mean()
    models = [new_model(train, torch.as_tensor(z, dtype=torch.float64), "matern52", True) for z in (first, second)]
    with torch.no_grad():
        models[1].covar_module.base_kernel.lengthscale = torch.full((1, 6), 0.3, dtype=torch.float64)
    losses = BatchedLoss(models)([0, 1])
    for model, loss in zip(models, losses, strict=True):
        closure = loss_closure(model, ExactMarginalLogLikelihood(model.likelihood, model))
        assert float(loss.detach()) == pytest.approx(float(closure()[0].detach()), rel=1e-10)
    assert float(BatchedLoss(models)([1])[0].detach()) == pytest.approx(float(losses[1].detach()), rel=1e-12)


def test_a_gp_whose_optimisation_does_not_converge_is_fitted_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    alone: list[int] = []

    def spy(*args: Any, **kwargs: Any) -> FittedGP:
        alone.append(kwargs["seed"])
        return fit_gp(*args, **kwargs)

    monkeypatch.setattr(joint_fit, "fit_gp", spy)
    monkeypatch.setattr(joint_fit, "FIT_MAXITER", 1)  # one iteration: no GP converges
    together = fit_gps_jointly(X, YS[:2], [3, 4])
    assert together is not None and alone == [3, 4]
    assert np.allclose(_hyperparameters(together[1]), _hyperparameters(fit_gp(X, YS[1], seed=4)))


def test_it_declines_what_it_cannot_fit_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    many = RNG.random((FIT_SUBSET + 1, 2))
    assert fit_gps_jointly(many, [many[:, 0], many[:, 1]], [0, 1]) is None  # each would fit its own random subset

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("not positive definite")

    monkeypatch.setattr("botorch.optim.batched_lbfgs_b.fmin_l_bfgs_b_batched", broken)
    assert fit_gps_jointly(X, YS[:2], [0, 1]) is None


def test_the_model_list_fits_quantities_on_the_same_experiments_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    alone: list[int] = []
    together: list[list[int]] = []

    def spy_alone(*args: Any, **kwargs: Any) -> FittedGP:
        alone.append(kwargs["seed"])
        return fit_gp(*args, **kwargs)

    def spy_together(X: np.ndarray, ys: Any, seeds: Any, **kwargs: Any) -> Any:
        together.append(list(seeds))
        return fit_gps_jointly(X, ys, seeds, **kwargs)

    monkeypatch.setattr(model_list, "fit_gp", spy_alone)
    monkeypatch.setattr(model_list, "fit_gps_jointly", spy_together)
    columns = [(X, YS[0]), (X[:30], YS[1][:30]), (X.copy(), YS[2])]
    fitted = fit_model_list(columns, ["a", "b", "c"], seed=10)
    assert together == [[10, 12]] and alone == [11]
    assert [len(gp.model.train_targets) for gp in fitted.gps] == [60, 30, 60]
    assert np.allclose(_hyperparameters(fitted.gps[2]), _hyperparameters(fit_gp(X, YS[2], seed=12)), rtol=1e-6)


def test_same_inputs_groups_equal_inputs_in_order_of_first_appearance() -> None:
    y = YS[0]
    columns = [(X, y), (X[:5], y[:5]), (X.copy(), y), (X[::-1], y), (X[:5].copy(), y[:5])]
    assert same_inputs(columns) == [[0, 2], [1, 4], [3]]
