"""Several GPs on the same inputs, fitted side by side: one batched likelihood evaluation per optimiser step.

The quantities of a multi-target campaign are usually measured on the same experiments, so their GPs share X.
Each GP's hyperparameters are still optimised on their own: BoTorch's batched L-BFGS-B
(``botorch.optim.batched_lbfgs_b``) runs one independent L-BFGS-B per GP, with the settings ``fit_gp`` uses, but
each step evaluates every GP's loss and gradient in one batched computation (one batched Cholesky factorisation,
one backward pass) instead of one per GP. The fitted GPs are those ``fit_gp`` gives each alone, up to round-off;
a GP whose optimisation does not converge is fitted alone by ``fit_gp`` (with its retries and fallback).

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kiln.models.base import standardised
from kiln.models.gp import (
    FIT_MAXITER,
    FIT_SUBSET,
    FittedGP,
    check_kernel,
    fit_gp,
    from_squared_distances,
    new_model,
    quiet,
    stationary_parts,
    torch_threads,
)

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from kiln.space.kernel_layout import KernelLayout


def fit_gps_jointly(
    X: np.ndarray,
    ys: Sequence[np.ndarray],
    seeds: Sequence[int],
    *,
    kernel: str = "matern52",
    ard: bool = True,
    layout: KernelLayout | None = None,
) -> tuple[FittedGP, ...] | None:
    """One GP per column of values on the same inputs: X (n x d, in [0, 1]), ``ys`` m arrays of shape (n,);
    GP i as ``fit_gp(X, ys[i], kernel=kernel, seed=seeds[i], ard=ard, layout=layout)`` would fit it.

    Returns None where the batched path does not apply (a kernel without the closed form of
    ``kiln.models.gp.loss_closure``, such as that of a layout with blocks, or more than ``FIT_SUBSET``
    observations, whose random fitting subsets differ per GP); the caller then fits each GP alone.
    """
    import numpy as np
    import torch
    from botorch.optim.batched_lbfgs_b import fmin_l_bfgs_b_batched
    from botorch.optim.utils import get_parameters_and_bounds

    check_kernel(kernel)
    if layout is not None and not layout.plain:
        return None
    prepared = [standardised(X, y, "fit_gp") for y in ys]
    if not prepared or len(prepared) != len(seeds) or len(prepared[0][0]) > FIT_SUBSET:
        return None
    X = prepared[0][0]
    with torch.random.fork_rng(), torch_threads(), quiet():
        torch.manual_seed(int(seeds[0]))
        train_X = torch.as_tensor(X, dtype=torch.float64)
        models = [new_model(train_X, torch.as_tensor(z, dtype=torch.float64), kernel, ard) for _, _, _, z in prepared]
        if stationary_parts(models[0].covar_module) is None:
            return None
        named = [get_parameters_and_bounds(model, requires_grad=True) for model in models]
        parameters = [list(found.values()) for found, _ in named]
        bounds = _flat_bounds(named[0][0], named[0][1])
        losses = BatchedLoss(models)

        def evaluate(x: np.ndarray, batch_indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
            active = [int(i) for i in batch_indices]
            for row, i in zip(x, active, strict=True):
                _assign(parameters[i], row)
            for i in active:
                for p in parameters[i]:
                    p.grad = None
            loss = losses(active)
            loss.sum().backward()
            grads = [torch.cat([_grad(p) for p in parameters[i]]) for i in active]
            return loss.detach().numpy().astype(float), torch.stack(grads).numpy().astype(float)

        x0 = np.stack([torch.cat([p.detach().reshape(-1) for p in ps]).numpy() for ps in parameters])
        try:
            xs, _, results = fmin_l_bfgs_b_batched(
                evaluate, x0, bounds=bounds, maxiter=FIT_MAXITER, pass_batch_indices=True
            )
        except Exception:  # a numerical failure of the batch: every GP is fitted alone
            return None
        for ps, row in zip(parameters, xs, strict=True):
            _assign(ps, row)
    fitted: list[FittedGP] = []
    for i, (model, (_, y_mean, y_std, z), result) in enumerate(zip(models, prepared, results, strict=True)):
        finite = all(torch.isfinite(p).all() for p in model.parameters())
        if not bool(result.get("success", False)) or not finite:
            fitted.append(fit_gp(X, ys[i], kernel=kernel, seed=int(seeds[i]), ard=ard))
            continue
        model.eval()
        fitted.append(FittedGP(model, y_mean, y_std, float(z.max()), kernel, True, bool(ard)))
    return tuple(fitted)


class BatchedLoss:
    """The negative marginal log likelihood per observation (priors included) of several SingleTaskGPs on the same
    inputs, as ``kiln.models.gp.loss_closure`` computes it for one, evaluated for any subset of them at once:
    ``losses(indices)`` -> tensor (len(indices),), differentiable with respect to each GP's parameters."""

    def __init__(self, models: Sequence[Any]) -> None:
        import torch

        self.models = list(models)
        self.parts = [stationary_parts(m.covar_module) for m in self.models]  # (scale or None, base, is Matern)
        first = self.parts[0]
        assert first is not None and all(p is not None for p in self.parts)
        self.scaled, self.matern = first[0] is not None, first[2]
        X = self.models[0].train_inputs[0]
        self.X = X
        self.n, self.d = X.shape
        self.differences = (X.unsqueeze(1) - X.unsqueeze(0)).square()  # n x n x d
        self.eye = torch.eye(self.n, dtype=X.dtype)
        self.constant = 0.5 * self.n * math.log(2 * math.pi)
        self.priors = [[(module, prior, value) for _, module, prior, value, _ in m.named_priors()] for m in models]

    def __call__(self, indices: Sequence[int]) -> Tensor:
        import torch
        from linear_operator.utils.cholesky import psd_safe_cholesky

        models = [self.models[i] for i in indices]
        parts = [self.parts[i] for i in indices]
        inverse = torch.stack(
            [base.lengthscale.reshape(-1).pow(-2).expand(self.d) for _, base, _ in parts]  # type: ignore[misc]
        )  # a x d
        K = from_squared_distances((self.differences @ inverse.T).permute(2, 0, 1), None, self.matern)  # a x n x n
        if self.scaled:
            scales = torch.stack([scale.outputscale.reshape(()) for scale, _, _ in parts])  # type: ignore[misc]
            K = K * scales.reshape(-1, 1, 1)
        noise = torch.stack([m.likelihood.noise.reshape(()) for m in models]).reshape(-1, 1, 1)
        L = psd_safe_cholesky(K + noise * self.eye)
        residual = torch.stack([m.train_targets - m.mean_module(self.X) for m in models]).unsqueeze(-1)  # a x n x 1
        alpha = torch.cholesky_solve(residual, L)
        log_likelihood = (
            -0.5 * (residual * alpha).sum((-2, -1)) - L.diagonal(dim1=-2, dim2=-1).log().sum(-1) - self.constant
        )
        priors = torch.stack(
            [
                sum((prior.log_prob(value(module)).sum() for module, prior, value in self.priors[i]), torch.zeros(()))
                for i in indices
            ]
        )
        return -(log_likelihood + priors) / self.n


def _flat_bounds(
    parameters: dict[str, Any], bounds: dict[str, tuple[float | None, float | None]]
) -> list[tuple[float | None, float | None]] | None:
    """(lower, upper) per element of the flattened parameters (constraints without a transform bound their raw
    values, as ``fit_gp``'s optimiser sees them); None when nothing is bounded."""
    flat: list[tuple[float | None, float | None]] = []
    for name, p in parameters.items():
        low, high = bounds.get(name, (None, None))
        flat.extend([(_number(low), _number(high))] * p.numel())
    return flat if any(b != (None, None) for b in flat) else None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _assign(parameters: list[Any], row: np.ndarray) -> None:
    """Write the flat values ``row`` into ``parameters`` (in order, each reshaped to its own shape)."""
    import torch

    start = 0
    with torch.no_grad():
        for p in parameters:
            size = p.numel()
            p.copy_(torch.as_tensor(row[start : start + size], dtype=p.dtype).reshape(p.shape))
            start += size


def _grad(parameter: Any) -> Tensor:
    import torch

    grad = parameter.grad
    return torch.zeros(parameter.numel(), dtype=parameter.dtype) if grad is None else grad.reshape(-1)
