"""Choosing points of a SearchSpace for a model-based strategy: the space's linear and composition constraints in
BoTorch's form, the acquisition's maximiser under them, and the first new valid option of a ranking.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.space.search_space import LinearForm, SearchSpace

if TYPE_CHECKING:
    import numpy as np
    from botorch.acquisition import AcquisitionFunction

MAX_RAW_SAMPLES = 100_000
MAX_RESTARTS = 1_000
"""Bounds on the optimiser's cost settings of one ask (memory and time grow with each)."""


def check_search_settings(strategy: str, raw_samples: int, restarts: int) -> None:
    """Raise ValidationError naming ``strategy '<strategy>': raw_samples`` (or ``restarts``) unless raw_samples is
    an integer from 2 to MAX_RAW_SAMPLES, restarts one from 1 to MAX_RESTARTS, and restarts <= raw_samples."""
    for name, value, low, high in (
        ("raw_samples", raw_samples, 2, MAX_RAW_SAMPLES),
        ("restarts", restarts, 1, MAX_RESTARTS),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                f"strategy '{strategy}': {name}",
                value,
                f"{name} must be an integer from {low} to {high}",
                "e.g. the default",
            )
    if restarts > raw_samples:
        raise ValidationError(
            f"strategy '{strategy}': restarts", restarts, "restarts must not exceed raw_samples", "lower restarts"
        )


SAME = 1e-7
"""Points closer than this in every model coordinate count as the same experiment."""

OPTIMISER_ITERATIONS = 200
"""L-BFGS-B (or SLSQP under constraints) iterations at most per optimiser start."""


def constraint_tensors(forms: list[LinearForm]) -> list[tuple[Any, Any, float]] | None:
    """(indices, coefficients, rhs) lists -> BoTorch's (long tensor, float64 tensor, rhs); None when empty."""
    import torch

    out = [
        (torch.tensor(idx, dtype=torch.long), torch.tensor(coef, dtype=torch.float64), float(rhs))
        for idx, coef, rhs in forms
    ]
    return out or None


def maximise(
    space: SearchSpace, acquisition: AcquisitionFunction, starts: np.ndarray, seed: int, *, ftol: float | None = None
) -> np.ndarray:
    """The acquisition's maximiser over [0, 1]^dim under the space's linear and composition constraints, 1 x dim.

    The local optimiser (BoTorch's ``optimize_acqf``, q = 1) starts from ``starts`` (restarts x dim), which keeps
    BoTorch from sampling its own start points from the constraint polytope. A failed or non-finite optimisation
    leaves the first start. ``ftol``: stop a start once an iteration improves the acquisition by less than this
    (relative); None: the optimiser's default (about 2e-9 for L-BFGS-B, 1e-6 for SLSQP under constraints).
    """
    import numpy as np
    import torch
    from botorch.optim import optimize_acqf

    from kiln.models.gp import quiet

    bounds = torch.stack([torch.zeros(space.dim), torch.ones(space.dim)]).to(torch.float64)
    initial = torch.as_tensor(np.clip(starts, 0.0, 1.0), dtype=torch.float64).unsqueeze(-2)
    inequalities = constraint_tensors(space.inequality_constraints())
    equalities = constraint_tensors(space.equality_constraints())
    options: dict[str, Any] = {"maxiter": OPTIMISER_ITERATIONS}
    if ftol is not None:  # BoTorch's batched L-BFGS-B (no constraints) takes ftol only with factr unset
        options.update({"ftol": ftol} if inequalities or equalities else {"ftol": ftol, "factr": None})
    with torch.random.fork_rng(), quiet():
        torch.manual_seed(seed)
        try:
            candidate, _ = optimize_acqf(
                acquisition,
                bounds=bounds,
                q=1,
                num_restarts=len(initial),
                batch_initial_conditions=initial,
                inequality_constraints=inequalities,
                equality_constraints=equalities,
                options=options,
            )
        except Exception:  # a failed local optimisation leaves the best start
            return starts[:1].reshape(1, space.dim)
    x = candidate.detach().numpy().reshape(1, space.dim)
    return x if np.isfinite(x).all() else starts[:1].reshape(1, space.dim)


def first_new(
    space: SearchSpace, options: list[dict[str, Any]], X: np.ndarray, order: np.ndarray, taken: np.ndarray
) -> dict[str, Any] | None:
    """The first option in ``order`` that is valid and differs from every row of ``taken`` (m x dim); ``X`` holds
    the options' model coordinates (one row each)."""
    import numpy as np

    for j in order:
        if len(taken) and bool((np.abs(taken - X[j]).max(1) < SAME).any()):
            continue
        try:
            return space.validate(options[int(j)])
        except ValidationError:
            continue
    return None
