"""The Surrogate conformance suite: every surrogate model, built in or a plug-in, runs these checks.

A surrogate is given as its fit function, ``fit(X, y, seed) -> Surrogate`` with X (n x d) in [0, 1] and y (n,)
utilities (``tests/models/test_surrogate_conformance.py`` runs the suite for the GP and the forest)::

    from kiln.models.conformance import SURROGATE_CHECKS

    @pytest.mark.parametrize("check", SURROGATE_CHECKS, ids=lambda c: c.__name__)
    def test_my_model(check):
        check(lambda X, y, seed: fit_my_model(X, y, seed=seed))

Each check raises AssertionError saying which part of the contract of ``kiln.models.base.Surrogate`` broke.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from kiln.models.base import Surrogate

Fit = Callable[["np.ndarray", "np.ndarray", int], "Surrogate"]
Check = Callable[[Fit], None]

DIM = 3
"""Inputs of the synthetic problem."""


def data(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A smooth synthetic problem: X (n x 3) uniform in [0, 1], y (n,) = sin(3 x0) + x1^2 - 0.5 x2, in utility
    units around 40 with a spread of about 5 (so a model that forgets to standardise shows it)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, DIM))
    y = 40.0 + 5.0 * (np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2])
    return X, y


def _grid(m: int = 50) -> np.ndarray:
    import numpy as np

    return np.random.default_rng(99).uniform(size=(m, DIM))


def check_shapes_and_finite(fit: Fit) -> None:
    """``posterior_mean_std`` gives (m,) finite means and (m,) finite standard deviations >= 0; ``dim`` is d."""
    import numpy as np

    model = fit(*data(), 0)
    assert model.dim == DIM, f"dim is {model.dim}, the data have {DIM} columns"
    mean, std = model.posterior_mean_std(_grid())
    assert np.shape(mean) == (50,) and np.shape(std) == (50,), f"shapes {np.shape(mean)}, {np.shape(std)} != (50,)"
    assert np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all(), "non-finite or negative output"


def check_learns(fit: Fit) -> None:
    """Predictions on unseen points follow the truth (correlation > 0.8 with 40 observations of a smooth
    function): a model that ignores its data fails."""
    import numpy as np

    X, y = data(40)
    X_test, y_test = data(60, seed=5)
    mean, _ = fit(X, y, 0).posterior_mean_std(X_test)
    r = float(np.corrcoef(mean, y_test)[0, 1])
    assert r > 0.8, f"correlation of predictions with the truth is {r:.2f} (> 0.8 expected)"


def check_standardised_units(fit: Fit) -> None:
    """``moments`` are in standardised units: mean * y_std + y_mean and sqrt(variance) * y_std give
    ``posterior_mean_std``; ``best_f`` is the best standardised observation; ``standardise`` maps y to z."""
    import numpy as np
    import torch

    X, y = data()
    model = fit(X, y, 0)
    grid = _grid()
    mean, std = model.posterior_mean_std(grid)
    z_mean, z_var = model.moments(torch.as_tensor(grid, dtype=torch.float64))
    assert (z_var >= 0).all(), "moments gave a negative variance"
    np.testing.assert_allclose(z_mean.detach().numpy() * model.y_std + model.y_mean, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.sqrt(z_var.detach().numpy()) * model.y_std, std, rtol=1e-4, atol=1e-6)
    z = model.standardise(y)
    np.testing.assert_allclose(z, (y - model.y_mean) / model.y_std, rtol=1e-9)
    assert abs(model.best_f - float(z.max())) < 1e-9, f"best_f {model.best_f} is not the best z {z.max()}"


def check_botorch_model(fit: Fit) -> None:
    """``model.posterior`` at X (b x q x d) is a single-output posterior with mean b x q x 1 matching
    ``moments``, so BoTorch's acquisition classes work on it."""
    import numpy as np
    import torch

    model = fit(*data(), 0)
    grid = torch.as_tensor(_grid(12), dtype=torch.float64)
    posterior = model.model.posterior(grid.reshape(6, 2, DIM))
    assert tuple(posterior.mean.shape) == (6, 2, 1), f"posterior mean shape {tuple(posterior.mean.shape)}"
    z_mean, z_var = model.moments(grid)
    np.testing.assert_allclose(posterior.mean.detach().reshape(-1).numpy(), z_mean.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(posterior.variance.detach().reshape(-1).numpy(), z_var.detach().numpy(), atol=1e-5)


def check_deterministic(fit: Fit) -> None:
    """The same data and seed give the same predictions."""
    import numpy as np

    grid = _grid()
    first = fit(*data(), 3).posterior_mean_std(grid)
    again = fit(*data(), 3).posterior_mean_std(grid)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def check_immutable(fit: Fit) -> None:
    """A fitted model does not change when another one is fitted on other data."""
    import numpy as np

    grid = _grid()
    model = fit(*data(), 0)
    before = model.posterior_mean_std(grid)
    fit(*data(30, seed=8), 0)
    for a, b in zip(before, model.posterior_mean_std(grid), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def check_bad_input(fit: Fit) -> None:
    """X and y of different lengths, or non-finite values, raise ValidationError (not a numerical crash)."""
    import numpy as np

    from kiln.core.errors import ValidationError

    X, y = data()
    for bad_X, bad_y, what in ((X, y[:-1], "lengths differ"), (X, np.where(y > 42, np.nan, y), "NaN in y")):
        try:
            fit(bad_X, bad_y, 0)
        except ValidationError:
            continue
        raise AssertionError(f"fitting with {what} did not raise ValidationError")


def check_one_observation(fit: Fit) -> None:
    """One observation is enough to fit (a campaign's first model) and gives finite predictions."""
    import numpy as np

    X, y = data(1)
    mean, std = fit(X, y, 0).posterior_mean_std(_grid(5))
    assert np.isfinite(mean).all() and np.isfinite(std).all(), "one observation gave non-finite predictions"


SURROGATE_CHECKS: tuple[Check, ...] = (
    check_shapes_and_finite,
    check_standardised_units,
    check_botorch_model,
    check_deterministic,
    check_immutable,
    check_bad_input,
    check_one_observation,
    check_learns,
)
"""Every check of the Surrogate contract."""


def check_surrogate(fit: Fit) -> None:
    """Run every check on the model that ``fit`` makes; the first broken one raises AssertionError."""
    for check in SURROGATE_CHECKS:
        check(fit)
