"""Unit tests of kiln.strategies.acquisition: stock BoTorch acquisitions on the GP's exact-posterior face, and the
acquisitions' own settings."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.core.errors import SpecError, ValidationError
from kiln.models import fit_gp
from kiln.strategies.acquisition import (
    ACQUISITIONS,
    UCB,
    LogEI,
    acquisition_from_config,
    build_acquisition,
    fold_flat_kappa,
    score,
)


@pytest.mark.parametrize("kind", ["logei", "ucb", "pi"])
def test_the_exact_posterior_face_gives_botorch_values_and_gradients(kind: str) -> None:
    """The acquisition on the GP's face equals the same BoTorch acquisition on the SingleTaskGP itself."""
    import torch
    from botorch.acquisition import LogExpectedImprovement, UpperConfidenceBound
    from botorch.acquisition.analytic import LogProbabilityOfImprovement

    rng = np.random.default_rng(21)
    fitted = fit_gp(rng.random((25, 3)), rng.random(25), seed=0)
    bound = build_acquisition(kind, fitted)
    acquisition = bound.function
    assert acquisition.model is fitted.posterior_model and bound.surrogate is fitted
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
    bound = build_acquisition(kind, fitted, pending=pending, seed=5)
    acquisition = bound.function
    assert acquisition.model is fitted.posterior_model and acquisition.X_pending is not None
    batch_pi = getattr(monte_carlo, "qLogProbabilityOfImprovement", monte_carlo.qProbabilityOfImprovement)
    batch = {"logei": qLogExpectedImprovement, "pi": batch_pi}[kind]
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([128]), seed=5)
    reference = batch(fitted.model, best_f=fitted.best_f, sampler=sampler, X_pending=torch.as_tensor(pending))
    rows = rng.random((40, 2))
    want = reference(torch.as_tensor(rows).unsqueeze(-2))
    np.testing.assert_allclose(score(bound, rows), want.detach().numpy(), rtol=1e-5, atol=1e-7)
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
    assert getattr(acquisition.function, "X_pending", None) is None  # analytic, on the believed GP
    believed = acquisition.surrogate
    assert believed is not fitted and believed.model.train_inputs[0].shape == (16, 2)
    assert acquisition.function.model is believed.posterior_model
    assert not hasattr(acquisition.function, "surrogate")  # nothing is attached to BoTorch's object
    near, far = np.array([[0.5, 0.51]]), np.array([[0.05, 0.95]])
    plain = build_acquisition("ucb", fitted)
    assert score(acquisition, near)[0] < score(plain, near)[0]  # less optimism next to pending
    assert abs(score(acquisition, far)[0] - score(plain, far)[0]) < 0.05


# ------------------------------------------------------------------------------------------ settings
def test_an_acquisition_is_its_kind_or_a_map_with_its_settings() -> None:
    assert acquisition_from_config("ucb") == UCB(kappa=2.0)
    assert acquisition_from_config({"kind": "ucb", "kappa": 3}) == UCB(kappa=3.0)
    assert acquisition_from_config({"kind": "logei"}) == LogEI() == acquisition_from_config("logei")
    assert UCB(kappa=3).to_config() == {"kind": "ucb", "kappa": 3.0}
    assert LogEI().to_config() == {"kind": "logei"}
    for kind in ACQUISITIONS:
        made = acquisition_from_config(kind)
        assert acquisition_from_config(made.to_config()) == made


def test_a_setting_the_kind_does_not_take_names_it_and_the_kinds_that_take_it() -> None:
    with pytest.raises(SpecError) as raised:
        acquisition_from_config({"kind": "logei", "kappa": 2.0}, "strategy 'default': acquisition")
    error = raised.value
    assert error.field == "strategy 'default': acquisition: kappa" and error.value == 2.0
    assert error.allowed == "logei takes no settings"
    assert error.fix is not None and "ucb" in error.fix
    with pytest.raises(SpecError) as raised:
        acquisition_from_config({"kind": "ucb", "beta": 4})
    assert raised.value.field == "acquisition: beta" and raised.value.allowed == "ucb takes kappa"
    assert raised.value.fix == "remove it"


@pytest.mark.parametrize(
    "value, field",
    [
        ({"kind": "ucb", "kappa": 0}, "acquisition: kappa"),
        ({"kind": "ucb", "kappa": -1.0}, "acquisition: kappa"),
        ({"kind": "ucb", "kappa": float("inf")}, "acquisition: kappa"),
        ({"kind": "ucb", "kappa": True}, "acquisition: kappa"),
        ({"kind": "ucb", "kappa": "2"}, "acquisition: kappa"),
        ({"kind": "ei"}, "acquisition: kind"),
        ({"kappa": 2.0}, "acquisition"),
        ("ei", "acquisition"),
        (2, "acquisition"),
    ],
)
def test_bad_acquisition_configs_name_the_field(value: object, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        acquisition_from_config(value)
    assert raised.value.field == field
    assert raised.value.fix


def test_settings_are_checked_in_python_too() -> None:
    with pytest.raises(ValidationError, match="acquisition 'ucb': kappa: got 0"):
        UCB(kappa=0)


def test_a_strategy_level_kappa_moves_onto_the_acquisition() -> None:
    """The form campaigns were stored in before acquisitions had their own settings."""
    assert fold_flat_kappa({"acquisition": "ucb", "kappa": 3}, "logei", "s")["acquisition"] == UCB(kappa=3.0)
    assert fold_flat_kappa({"kappa": 3}, "ucb", "s")["acquisition"] == UCB(kappa=3.0)
    assert fold_flat_kappa({"kappa": 2.0}, "logei", "s")["acquisition"] == LogEI()  # logei never read it
    assert fold_flat_kappa({"kernel": "rbf"}, "ucb", "s") == {"kernel": "rbf"}
    with pytest.raises(SpecError, match="given twice"):
        fold_flat_kappa({"acquisition": {"kind": "ucb", "kappa": 1.0}, "kappa": 2.0}, "ucb", "s")
    with pytest.raises(ValidationError) as raised:
        fold_flat_kappa({"acquisition": "ucb", "kappa": -1}, "logei", "strategy 'bayes'")
    assert raised.value.field == "strategy 'bayes': kappa"
