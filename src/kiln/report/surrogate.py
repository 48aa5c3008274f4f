"""The model a report speaks for: one GP per target, fitted to the measured values in the target's own units.

A report states what the model believes in the units of the lab (a conductivity in S/cm, not a standardised
utility), so each target gets its own GP (Kiln's ``fit_gp``, the strategy's kernel where it names one of Kiln's
kernels, else Matern-5/2) on the raw measured values of the completed, not retracted experiments that measured
it. ``predict`` gives the mean and std of the latent function (the model's uncertainty about the mean, without
measurement noise); ``noise_std`` is the fitted measurement noise; ``leave_one_out`` gives the closed-form
leave-one-out predictions of each measurement (hyperparameters kept; Rasmussen & Williams 2006, eq. 5.12).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.core.records import Experiment
from kiln.objective.targets import Target
from kiln.space.config import Domain

if TYPE_CHECKING:
    import numpy as np

    from kiln.models.gp import FittedGP

MIN_POINTS = 3
"""Fewest measurements a report fits a model to (fewer: the model says nothing worth stating)."""


@dataclass(frozen=True)
class TargetModel:
    """A GP of one target in its units.

    Attributes:
        target: the target it models.
        fitted: Kiln's fitted GP (``kiln.models.gp.FittedGP``) on X (n x d, model coordinates) and the raw values.
        experiments: the n experiments it was fitted to, in creation order.
        values: their measured values (n,), target units.
    """

    target: Target
    fitted: FittedGP
    domain: Domain
    experiments: tuple[Experiment, ...]
    values: tuple[float, ...]

    @property
    def kernel(self) -> str:
        return self.fitted.kernel

    @property
    def converged(self) -> bool:
        return self.fitted.converged

    def predict(self, points: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std (m,) of the latent function at ``points`` (m maps in lab units), target units."""
        X = self.domain.encode(list(points)).reshape(len(points), -1)
        return self.predict_encoded(X)

    def predict_encoded(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``predict`` at model coordinates X (m x d)."""
        from kiln.models.gp import torch_threads

        with torch_threads():
            return self.fitted.posterior_mean_std(X)

    @property
    def noise_std(self) -> float:
        """The fitted measurement noise's standard deviation, target units."""
        noise = float(self.fitted.model.likelihood.noise.detach().reshape(-1)[0])
        return float(noise**0.5 * self.fitted.y_std)

    def lengthscales(self) -> dict[str, float]:
        """Numeric parameter -> the kernel's lengthscale along it, in model coordinates (the parameter's range
        is 1): above 1, the model sees little change across the whole range. Only for a kernel with one
        lengthscale per model column (ARD, no kernel layout) and parameters that move exactly one column (a
        parameter's column is found by encoding two points that differ in it alone); empty otherwise."""
        import numpy as np

        d = self.fitted.dim
        scales = None
        for module in self.fitted.model.covar_module.modules():
            value = getattr(module, "lengthscale", None)
            if value is not None and value.shape[-1] == d:
                scales = value.detach().reshape(-1).numpy()
                break
        if scales is None or self.fitted.layout is not None or not self.experiments:
            return {}
        base = dict(self.experiments[0].params)
        found: dict[str, float] = {}
        for name in self.domain.names:
            value = base[name]
            if isinstance(value, str | bool) or not isinstance(value, int | float):
                continue
            others = {float(e.params[name]) for e in self.experiments if float(e.params[name]) != float(value)}
            if not others:
                continue
            X = self.domain.encode([base, {**base, name: min(others)}]).reshape(2, -1)
            moved = np.flatnonzero(np.abs(X[0] - X[1]) > 1e-12)
            if len(moved) == 1:
                found[name] = float(scales[int(moved[0])])
        return found

    def leave_one_out(self) -> tuple[np.ndarray, np.ndarray]:
        """Leave-one-out predictive mean and std (n,) of each measurement (noise included), target units.

        Closed form with the hyperparameters fitted to all points: with K the noisy covariance and
        alpha = K^-1 (z - m), the prediction of z_i from the others is z_i - alpha_i / [K^-1]_ii with variance
        1 / [K^-1]_ii (z: standardised values, m: the constant mean).
        """
        import numpy as np
        import torch

        from kiln.models.gp import covariance, torch_threads

        model = self.fitted.model
        with torch.no_grad(), torch_threads():
            X = model.train_inputs[0]
            K = covariance(model.covar_module, X, X)
            K = K + model.likelihood.noise.reshape(()) * torch.eye(len(X), dtype=K.dtype)
            inverse = torch.linalg.inv(K)
            z = model.train_targets
            residual = z - model.mean_module(X).reshape(-1)
            alpha = inverse @ residual
            diagonal = torch.diagonal(inverse).clamp_min(1e-12)
            mean = z - alpha / diagonal
            std = diagonal.rsqrt()
        y_std, y_mean = self.fitted.y_std, self.fitted.y_mean
        return np.asarray(mean.numpy()) * y_std + y_mean, np.asarray(std.numpy()) * y_std


def kernel_of(strategy: Any) -> str:
    """The strategy's kernel when it names one of Kiln's GP kernels (its BO phase's, for the default), else
    Matern-5/2."""
    from kiln.models.gp import KERNELS

    kernel = str(getattr(getattr(strategy, "bayes", strategy), "kernel", "matern52"))
    return kernel if kernel in KERNELS else "matern52"


def fit_target(
    domain: Domain, target: Target, experiments: Sequence[Experiment], *, kernel: str = "matern52", seed: int = 0
) -> TargetModel | None:
    """The GP of ``target`` on the counted experiments that measured it; None with fewer than ``MIN_POINTS``."""
    import numpy as np

    from kiln.models.gp import fit_gp

    measured = tuple(e for e in experiments if e.counts_as_result and target.name in e.results)
    if len(measured) < MIN_POINTS:
        return None
    X = domain.encode([e.params for e in measured]).reshape(len(measured), -1)
    values = tuple(float(e.results[target.name]) for e in measured)
    fitted = fit_gp(X, np.asarray(values), kernel=kernel, seed=seed, layout=domain.kernel_layout)
    return TargetModel(target, fitted, domain, measured, values)
