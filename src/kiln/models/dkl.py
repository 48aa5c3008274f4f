"""Deep kernel learning (DKL): a small CNN maps an image patch to a few features, and a Gaussian process on those
features (optionally beside the candidate's model coordinates) models the utility. The CNN's weights and the GP's
hyperparameters are trained together on the exact marginal log likelihood (GPyTorch's deep-kernel pattern; Wilson
et al. 2016, as Ziatdinov and Kalinin use it to steer microscopes).

After training the CNN is fixed and the model is an exact GP on the embedded inputs ``z = [CNN(patch), coords]``:
``FittedDKL.gp`` is a ``FittedGP`` on them, so its moments, its BoTorch face, the kriging believer and every
acquisition of ``kiln.strategies.acquisition`` work unchanged; ``FittedDKL.embed`` turns patches into those
inputs in batches (tens of thousands of patches in a second or so on one thread).

The CNN runs in float32 (the same function in training and in scoring), the GP in float64. torch, GPyTorch and
BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.models.base import standardised
from kiln.models.gp import FittedGP, check_kernel, new_model, quiet, torch_threads

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

EMBED_CHUNK = 8192
"""Patches embedded at once (memory of the CNN's activations stays near 20 MB)."""

MAX_ITERATIONS = 5000
"""Bound on the training iterations (time grows with them)."""


@dataclass(frozen=True)
class DKLSettings:
    """How a DKL surrogate is built and trained.

    Args:
        features: learned features (the CNN's outputs, each in [-1, 1] through a tanh), 1 to 16.
        channels: channels of both 3 x 3 convolutions, 1 to 64.
        kernel: the GP's kernel on the features, "matern52" (ARD Matern-5/2, default) or "rbf".
        iterations: Adam steps at most; training stops earlier when the loss has not improved by ``tolerance``
            for ``patience`` steps.
        learning_rate: Adam's step size.
        weight_decay: L2 penalty on the CNN's weights (not on the GP's hyperparameters).
        patience, tolerance: the early stop (steps, and loss per observation).
    """

    features: int = 2
    channels: int = 8
    kernel: str = "matern52"
    iterations: int = 200
    learning_rate: float = 0.02
    weight_decay: float = 1e-3
    patience: int = 30
    tolerance: float = 1e-4

    def __post_init__(self) -> None:
        where = "dkl"
        for name, low, high in (
            ("features", 1, 16),
            ("channels", 1, 64),
            ("iterations", 1, MAX_ITERATIONS),
            ("patience", 1, MAX_ITERATIONS),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(f"{where}: {name}", value, f"a whole number from {low} to {high}", "")
        for name in ("learning_rate", "weight_decay", "tolerance"):
            value = getattr(self, name)
            positive = name == "learning_rate"
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
                or (positive and value == 0)
            ):
                need = "a finite number > 0" if positive else "a finite number >= 0"
                raise ValidationError(f"{where}: {name}", value, need, "")
        check_kernel(self.kernel, f"{where}: kernel")


@dataclass(frozen=True)
class FittedDKL:
    """A trained deep-kernel GP: the fixed CNN and the exact GP on the embedded inputs.

    Its Surrogate face (``kiln.models.base.Surrogate``: ``moments``, ``posterior_mean_std``, ``model``,
    ``best_f``, standardisation) is on the embedded inputs Z (m x ``dim``) that ``embed`` returns, where ``dim`` is
    the number of features plus the coordinate columns; ``predict`` goes from patches to predictions directly.

    Attributes:
        gp: the exact GP (a ``FittedGP``) on the embedded training inputs, standardised utilities.
        extractor: the CNN (a torch module in eval mode, float32): n x 1 x h x w -> n x features.
        patch_shape: (h, w) of the patches it reads.
        coordinates: number of coordinate columns beside the features (0 without).
        iterations: Adam steps taken.
        converged: False when training failed numerically and the initial weights were kept.
        loss: the last negative marginal log likelihood per observation (priors included).
    """

    gp: FittedGP
    extractor: Any
    patch_shape: tuple[int, int]
    coordinates: int
    iterations: int
    converged: bool
    loss: float

    @property
    def y_mean(self) -> float:
        return self.gp.y_mean

    @property
    def y_std(self) -> float:
        return self.gp.y_std

    @property
    def best_f(self) -> float:
        return self.gp.best_f

    @property
    def dim(self) -> int:
        return self.gp.dim

    @property
    def model(self) -> Any:
        """The BoTorch Model face of the GP on embedded inputs (``FittedGP.posterior_model``)."""
        return self.gp.posterior_model

    def standardise(self, y: np.ndarray) -> np.ndarray:
        return self.gp.standardise(y)

    def moments(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and variance at embedded inputs X (m x dim), standardised units."""
        return self.gp.moments(X)

    def posterior_mean_std(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and std at embedded inputs X (m x dim), utility units."""
        return self.gp.posterior_mean_std(X)

    def embed(self, patches: np.ndarray, coordinates: np.ndarray | None = None) -> np.ndarray:
        """Patches (m x h x w) and, when the model has them, coordinates (m x c) -> embedded inputs (m x dim),
        float64, computed in batches of ``EMBED_CHUNK``."""
        import numpy as np
        import torch

        patches, coordinates = _checked_inputs(patches, coordinates, self.patch_shape, self.coordinates, "embed")
        parts = [np.zeros((0, self.dim - self.coordinates))]
        with torch.no_grad(), torch_threads():
            for start in range(0, len(patches), EMBED_CHUNK):
                block = torch.as_tensor(patches[start : start + EMBED_CHUNK], dtype=torch.float32)
                parts.append(self.extractor(block.unsqueeze(1)).to(torch.float64).numpy())
        features = np.concatenate(parts)
        return np.hstack([features, coordinates]) if self.coordinates else features

    def predict(self, patches: np.ndarray, coordinates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and std (each (m,), utility units) of the candidates with these patches (m x h x w)
        and coordinates (m x c)."""
        return self.posterior_mean_std(self.embed(patches, coordinates))


def fit_dkl(
    patches: np.ndarray,
    y: np.ndarray,
    *,
    coordinates: np.ndarray | None = None,
    settings: DKLSettings | None = None,
    seed: int = 0,
) -> FittedDKL:
    """Train a deep-kernel GP on patches (n x h x w, normalised, e.g. ``CandidatePool.patches``), utilities y
    (n,) and optional coordinates (n x c, in [0, 1], e.g. the pool's model coordinates); deterministic for a given
    seed (the CNN's initial weights come from it).

    The utilities are standardised as the GP does (``kiln.models.base.standardised``); the GP's mean, kernel
    (Kiln's Matern or RBF with its priors) and noise (prior and floor) are those of ``kiln.models.gp``, on the
    features and coordinates. Adam minimises the exact negative marginal log likelihood (priors included) of
    all parameters together, for ``settings.iterations`` steps at most. When training fails numerically the
    initial weights are kept and ``converged`` is False; it never raises for numerical reasons.
    """
    import numpy as np
    import torch

    settings = settings or DKLSettings()
    patches = np.asarray(patches, dtype=np.float32)
    if patches.ndim != 3:
        raise ValidationError("fit_dkl: patches", f"shape {patches.shape}", "n x h x w", "give one patch per row")
    shape = (int(patches.shape[1]), int(patches.shape[2]))
    width = 0 if coordinates is None else int(np.asarray(coordinates).reshape(len(patches), -1).shape[1])
    patches, coords = _checked_inputs(patches, coordinates, shape, width, "fit_dkl")
    flat = patches.reshape(len(patches), -1).astype(float)
    _, y_mean, y_std, z = standardised(np.hstack([flat, coords]), y, "fit_dkl")
    with torch.random.fork_rng(), torch_threads(), quiet():
        torch.manual_seed(seed)
        extractor = _extractor(shape, settings.channels, settings.features)
        inputs = torch.as_tensor(np.hstack([flat, coords]), dtype=torch.float64)
        targets = torch.as_tensor(z, dtype=torch.float64)
        template = new_model(
            torch.zeros(len(z), settings.features + width, dtype=torch.float64), targets, settings.kernel, True
        )
        model = _deep_gp_class()(inputs, targets, template, extractor, shape)
        steps, converged, loss = _train(model, settings)
        model.eval()
        extractor.eval()
        fitted = FittedDKL(
            gp=FittedGP(template, y_mean, y_std, float(z.max()), settings.kernel, converged),
            extractor=extractor,
            patch_shape=shape,
            coordinates=width,
            iterations=steps,
            converged=converged,
            loss=loss,
        )
        Z = torch.as_tensor(fitted.embed(patches, coords if width else None), dtype=torch.float64)
        template.set_train_data(inputs=Z, targets=targets, strict=False)  # type: ignore[operator]
        template.eval()
    return fitted


def _train(model: Any, settings: DKLSettings) -> tuple[int, bool, float]:
    """Adam on the negative marginal log likelihood (``marginal_loss``) until ``iterations`` or a plateau;
    (steps, converged, last loss). A non-finite loss or a failed factorisation restores the initial parameters."""
    import torch

    initial = {k: v.clone() for k, v in model.state_dict().items()}
    cnn = list(model.extractor.parameters())
    cnn_ids = {id(p) for p in cnn}
    others = [p for p in model.parameters() if id(p) not in cnn_ids]
    optimizer = torch.optim.Adam(
        [{"params": cnn, "weight_decay": settings.weight_decay}, {"params": others, "weight_decay": 0.0}],
        lr=settings.learning_rate,
        foreach=True,
    )
    model.train()
    objective = marginal_loss(model)
    best, since, loss_value, steps = math.inf, 0, math.nan, 0
    try:
        for steps in range(1, settings.iterations + 1):  # noqa: B007 - the count is returned
            optimizer.zero_grad()
            loss = objective()
            if not torch.isfinite(loss):
                raise ArithmeticError("non-finite loss")
            loss.backward()
            optimizer.step()
            loss_value = float(loss.detach())
            if loss_value < best - settings.tolerance:
                best, since = loss_value, 0
            else:
                since += 1
                if since >= settings.patience:
                    break
    except Exception:  # any numerical failure: back to the initial weights
        model.load_state_dict(initial)
        return steps, False, math.nan
    return steps, True, loss_value


def marginal_loss(model: Any) -> Any:
    """A function () -> the negative exact marginal log likelihood per observation of the deep-kernel GP
    ``model`` (priors included), the value GPyTorch's ``ExactMarginalLogLikelihood`` gives, with gradients to
    the CNN and the GP's hyperparameters. It is computed with plain tensor algebra (the features, the pairwise
    squared distances, the kernel formula of ``kiln.models.gp`` and one Cholesky factorisation), several times
    faster than GPyTorch's lazy kernels at the tens to hundreds of observations a microscope run has. The squared
    distances come from one matrix product of the lengthscale-scaled inputs (no n x n x d tensor)."""
    import torch
    from linear_operator.utils.cholesky import psd_safe_cholesky

    from kiln.models.gp import from_squared_distances, stationary_parts

    parts = stationary_parts(model.covar_module)
    assert parts is not None  # Kiln's Matern and RBF kernels on every column
    scale, base, matern = parts
    X, y = model.train_inputs[0], model.train_targets
    n = len(y)
    eye = torch.eye(n, dtype=X.dtype)
    off_diagonal = 1.0 - eye  # a point's distance to itself is exactly 0 (no gradient through the root there)
    priors = [(module, prior, value) for _, module, prior, value, _ in model.named_priors()]
    constant = 0.5 * n * math.log(2 * math.pi)

    def loss() -> Any:
        Z = model.embedded(X)
        a = Z / base.lengthscale.reshape(1, -1).expand(1, Z.shape[-1])
        a = a - a.mean(0, keepdim=True)  # centred: the squared distances below lose less to round-off
        squares = a.square().sum(1)
        r2 = ((squares.unsqueeze(1) + squares.unsqueeze(0) - 2.0 * (a @ a.T)) * off_diagonal).clamp_min(0.0)
        K = from_squared_distances(r2, scale, matern)
        L = psd_safe_cholesky(K + model.likelihood.noise.reshape(()) * eye)
        residual = (y - model.mean_module(Z)).unsqueeze(-1)
        alpha = torch.cholesky_solve(residual, L)
        log_likelihood = -0.5 * (residual * alpha).sum() - L.diagonal().log().sum() - constant
        for module, prior, value in priors:
            log_likelihood = log_likelihood + prior.log_prob(value(module)).sum()
        return -log_likelihood / n

    return loss


def _checked_inputs(
    patches: Any, coordinates: Any, shape: tuple[int, int], width: int, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Patches as m x h x w float32 and coordinates as m x width float64 (m x 0 without), checked."""
    import numpy as np

    patches = np.asarray(patches, dtype=np.float32)
    if patches.ndim != 3 or tuple(patches.shape[1:]) != shape:
        raise ValidationError(
            f"{where}: patches", f"shape {patches.shape}", f"m x {shape[0]} x {shape[1]}", "cut them as in training"
        )
    if not np.isfinite(patches).all():
        raise ValidationError(f"{where}: patches", "non-finite values", "finite numbers", "fix the image")
    if width == 0:
        if coordinates is not None and np.asarray(coordinates).size:
            raise ValidationError(f"{where}: coordinates", "given", "this model was trained without", "leave out")
        return patches, np.zeros((len(patches), 0))
    if coordinates is None:
        raise ValidationError(f"{where}: coordinates", None, f"m x {width} (as in training)", "give them")
    coords = np.asarray(coordinates, dtype=float)
    if coords.shape != (len(patches), width) or not np.isfinite(coords).all():
        raise ValidationError(
            f"{where}: coordinates", f"shape {coords.shape}", f"{len(patches)} x {width} finite numbers", ""
        )
    return patches, coords


def _extractor(shape: tuple[int, int], channels: int, features: int) -> Any:
    """The CNN: two 3 x 3 convolutions (padding 1, ReLU), average pooling to 2 x 2, a linear layer to
    ``features`` and a tanh, float32; weights drawn from torch's current seed."""
    import torch
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * channels, features),
        nn.Tanh(),
    ).to(dtype=torch.float32)


@cache
def _deep_gp_class() -> type:
    """The GPyTorch ExactGP behind ``fit_dkl``, defined on first use so that GPyTorch loads lazily."""
    import torch
    from gpytorch.distributions import MultivariateNormal
    from gpytorch.models import ExactGP

    class DeepKernelGP(ExactGP):  # type: ignore[misc]
        """ExactGP on inputs [flattened patch (h*w), coordinates]: the CNN embeds the patch, and the mean and
        kernel of ``template`` (a SingleTaskGP whose modules are trained here) act on [features, coordinates]."""

        def __init__(self, inputs: Tensor, targets: Tensor, template: Any, extractor: Any, shape: tuple[int, int]):
            super().__init__(inputs, targets, template.likelihood)
            self.extractor = extractor
            self.mean_module = template.mean_module
            self.covar_module = template.covar_module
            self.size = shape[0] * shape[1]
            self.shape = shape

        def embedded(self, x: Tensor) -> Tensor:
            """Inputs (m x (h*w + c)) -> [CNN features, coordinates] (m x (features + c)), x's dtype."""
            block = x[..., : self.size].to(torch.float32).reshape(-1, 1, *self.shape)
            features = self.extractor(block).to(x.dtype)
            return torch.cat([features, x[..., self.size :]], dim=-1)

        def forward(self, x: Tensor) -> MultivariateNormal:
            z = self.embedded(x)
            return MultivariateNormal(self.mean_module(z), self.covar_module(z))

    return DeepKernelGP


__all__ = ["DKLSettings", "FittedDKL", "fit_dkl"]
