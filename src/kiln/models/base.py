"""The Surrogate protocol shared by the GP and the random forest, and a BoTorch Model view of any surrogate.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

Y_STD_FLOOR = 1e-9
"""Lower bound of the standard deviation used to standardise the training utilities."""


def standardised(X: np.ndarray, y: np.ndarray, where: str) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Check training data and standardise it: X (n x d) and y (n,) -> (X, y_mean, y_std, z = (y - mean) / std).

    Raises ValidationError naming ``where`` (e.g. "fit_gp") for shapes that do not match or non-finite values.
    """
    import numpy as np

    from kiln.core.errors import ValidationError

    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).reshape(-1)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValidationError(f"{where}: X, y", (X.shape, y.shape), "X must be n x d and y of length n, n >= 1")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValidationError(f"{where}: X, y", "non-finite values", "X and y must be finite")
    y_mean = float(y.mean())
    y_std = max(float(y.std()), Y_STD_FLOOR) if len(y) > 1 else 1.0
    return X, y_mean, y_std, (y - y_mean) / y_std


Moments = Callable[["Tensor"], "tuple[Tensor, Tensor]"]
"""X (m x d, float64) -> (mean (m,), variance (m,)), standardised units."""

Joint = Callable[["Tensor"], "tuple[Tensor, Tensor]"]
"""X (b x q x d, float64) -> (mean b x q, covariance b x q x q), standardised units."""


@runtime_checkable
class Surrogate(Protocol):
    """A fitted model of the utility on model coordinates in [0, 1]^d.

    Contract:
        - The model works in standardised units: z = (y - y_mean) / y_std of the training utilities y.
        - ``best_f`` is the best observed utility in standardised units (the incumbent for EI and PI).
        - ``posterior_mean_std(X)``: X (m x d) -> predictive mean and std (each (m,)) in utility units.
        - ``moments(X)``: X (m x d float64 tensor) -> mean and variance (each (m,)) in standardised units, the
          variance >= 0; it is what the acquisition functions read, so it must be cheap for thousands of rows.
        - ``model``: a BoTorch Model whose posterior at X (b x q x d) is Normal with these moments (independent
          points for a non-GP surrogate), so BoTorch's analytic acquisition classes work on it.
        - Fitting is deterministic for a given seed; a fitted surrogate is immutable.
    """

    @property
    def y_mean(self) -> float: ...

    @property
    def y_std(self) -> float: ...

    @property
    def best_f(self) -> float: ...

    @property
    def dim(self) -> int: ...

    @property
    def model(self) -> Any: ...

    def standardise(self, y: np.ndarray) -> np.ndarray: ...

    def posterior_mean_std(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def moments(self, X: Tensor) -> tuple[Tensor, Tensor]: ...


def moment_model(moments: Moments, dim: int, joint: Joint | None = None, noise: float = 0.0) -> Any:
    """A BoTorch Model whose posterior at X (b x q x d) is Normal: for q = 1 with the mean and variance from
    ``moments``; for q > 1 jointly, with the mean (b x q) and covariance (b x q x q) from ``joint`` when given,
    else independent per point (a diagonal covariance from ``moments``).

    Gradients with respect to X flow where ``moments`` and ``joint`` let them: a GP's do, so stock BoTorch
    acquisitions are optimised on it; a forest's do not, so its acquisitions are scored, not optimised.
    ``posterior(X, observation_noise=True)`` adds ``noise`` (a variance) to each point's variance.
    """
    return _moment_model_class()(moments, dim, joint, noise)


@cache
def _moment_model_class() -> type:
    """The Model subclass behind ``moment_model``, defined on first use so that BoTorch loads lazily."""
    import torch
    from botorch.models.model import Model
    from botorch.posteriors.gpytorch import GPyTorchPosterior
    from gpytorch.distributions import MultivariateNormal
    from linear_operator import to_linear_operator
    from linear_operator.operators import DiagLinearOperator
    from linear_operator.utils.cholesky import psd_safe_cholesky

    class FactoredPosterior(GPyTorchPosterior):  # type: ignore[misc]
        """A single-output GPyTorchPosterior that draws samples from base samples with plain tensor algebra:
        mean + L @ base, with L the covariance's Cholesky factor (the factor GPyTorch's own sampling computes,
        with the same jitter; computed on the first draw) or, for independent points, the standard deviations.
        The samples equal GPyTorchPosterior's up to round-off at a fraction of the cost: no lazy-tensor root
        decomposition or matrix-product autograd functions, which dominated an acquisition evaluation with a
        handful of points."""

        def __init__(self, distribution: MultivariateNormal, diagonal: bool) -> None:
            super().__init__(distribution)
            self.diagonal = diagonal

        @cached_property
        def root(self) -> Tensor:
            """... x q x q lower triangular, or ... x q standard deviations when diagonal."""
            if self.diagonal:
                return self.distribution.variance.sqrt()
            return psd_safe_cholesky(self.distribution.covariance_matrix)

        def rsample_from_base_samples(self, sample_shape: torch.Size, base_samples: Tensor) -> Tensor:
            """Samples ``sample_shape x batch x q x 1`` from base samples ``sample_shape x batch x q``."""
            if base_samples.shape[: len(sample_shape)] != sample_shape:
                raise RuntimeError(
                    "`sample_shape` disagrees with shape of `base_samples`. "
                    f"Got {sample_shape=} and {base_samples.shape=}."
                )
            base = base_samples.to(self.root.dtype)
            # einsum contracts each batch's factor with its base samples; ``root @ base.unsqueeze(-1)`` would
            # broadcast the factor over the sample dimension first (a copy per sample, 30-60x slower)
            spread = self.root * base if self.diagonal else torch.einsum("...ij,...j->...i", self.root, base)
            return (self.distribution.loc + spread).unsqueeze(-1)

    class MomentModel(Model):  # type: ignore[misc]
        """Single-output BoTorch Model defined by moment functions (standardised units)."""

        def __init__(self, moments: Moments, dim: int, joint: Joint | None, noise: float) -> None:
            super().__init__()
            self.moments = moments
            self.joint = joint
            self.dim = dim
            self.noise = noise

        @property
        def num_outputs(self) -> int:
            return 1

        @property
        def batch_shape(self) -> torch.Size:
            return torch.Size([])

        def posterior(
            self,
            X: Tensor,
            output_indices: list[int] | None = None,
            observation_noise: bool | Tensor = False,
            posterior_transform: Any = None,
            **kwargs: Any,
        ) -> Any:
            shape = X.shape[:-1]
            rows = X.to(torch.float64)
            noise = self.noise if observation_noise is True else 0.0
            if self.joint is not None and shape[-1] > 1:
                mean, covariance = self.joint(rows.reshape(-1, *rows.shape[-2:]))
                covariance = covariance + noise * torch.eye(shape[-1], dtype=covariance.dtype)
                covariance = to_linear_operator(covariance.to(X.dtype).reshape(*shape, -1))
                normal = MultivariateNormal(mean.to(X.dtype).reshape(shape), covariance)
                posterior = FactoredPosterior(normal, diagonal=False)
            else:
                mean, variance = self.moments(rows.reshape(-1, self.dim))
                variance = (variance + noise).to(X.dtype).clamp_min(1e-12).reshape(shape)
                normal = MultivariateNormal(mean.to(X.dtype).reshape(shape), DiagLinearOperator(variance))
                posterior = FactoredPosterior(normal, diagonal=True)
            return posterior_transform(posterior) if posterior_transform is not None else posterior

    return MomentModel
