"""Acquisition functions by kind: log expected improvement, upper confidence bound, log probability of
improvement and Thompson sampling, built on a fitted surrogate (standardised outputs).

GP: the acquisitions are stock BoTorch ones on the GP's exact-posterior face (``FittedGP.posterior_model``). Without
pending experiments the analytic versions are used; with pending experiments (k x d) the Monte Carlo versions,
which score a point jointly with the pending ones (so a batch spreads out), except UCB, which folds them in by the
kriging believer. Thompson sampling
draws one posterior function per call (pathwise / Matheron sampling) and needs no pending points: each proposal
of a batch gets its own draw.

Random forest: always the analytic BoTorch versions, on the Normal(mean, std) of the trees at each point (the
forest's ``model`` view). Pending points are handled by the "kriging believer": the forest is refitted with them
added at its predicted means. Thompson sampling takes one tree, chosen by the seed, as the sampled function.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiln.core.errors import SpecError
from kiln.models.base import Surrogate
from kiln.models.forest import FittedForest
from kiln.models.gp import FittedGP, quiet, torch_threads

if TYPE_CHECKING:
    import numpy as np
    from botorch.acquisition import AcquisitionFunction
    from torch import Tensor

MC_SAMPLES = 128
"""Quasi-Monte-Carlo samples for the batch (pending-aware) acquisitions."""

BELIEVERS = ("ucb",)
"""GP acquisitions that account for pending points by the kriging believer (``FittedGP.believe``) and stay
analytic, instead of the Monte Carlo batch versions: on the pool backtests with 4 experiments in flight it kept
UCB close to its sequential sample efficiency."""

CHUNK = 2048
"""Rows scored at once when evaluating an acquisition on a candidate table."""

Builder = Callable[[Surrogate, "Tensor | None", float, int], "AcquisitionFunction"]


def _sampler(seed: int) -> Any:
    import torch
    from botorch.sampling.normal import SobolQMCNormalSampler

    return SobolQMCNormalSampler(sample_shape=torch.Size([MC_SAMPLES]), seed=seed)


def face(fitted: Surrogate) -> Any:
    """The BoTorch Model the acquisitions are built on: a GP's exact-posterior face (``FittedGP.posterior_model``),
    or a surrogate's own model view."""
    return fitted.posterior_model if isinstance(fitted, FittedGP) else fitted.model


def _logei(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    from botorch.acquisition import LogExpectedImprovement, qLogExpectedImprovement

    if pending is None:
        return LogExpectedImprovement(face(fitted), best_f=fitted.best_f)
    return qLogExpectedImprovement(face(fitted), best_f=fitted.best_f, sampler=_sampler(seed), X_pending=pending)


def _ucb(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    from botorch.acquisition import UpperConfidenceBound, qUpperConfidenceBound

    if pending is None:
        return UpperConfidenceBound(face(fitted), beta=kappa**2)
    return qUpperConfidenceBound(face(fitted), beta=kappa**2, sampler=_sampler(seed), X_pending=pending)


def _pi(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    from botorch.acquisition import monte_carlo
    from botorch.acquisition.analytic import LogProbabilityOfImprovement

    if pending is None:
        return LogProbabilityOfImprovement(face(fitted), best_f=fitted.best_f)
    batch_pi = getattr(monte_carlo, "qLogProbabilityOfImprovement", monte_carlo.qProbabilityOfImprovement)
    return batch_pi(face(fitted), best_f=fitted.best_f, sampler=_sampler(seed), X_pending=pending)  # type: ignore[no-any-return]


def _ts(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    import torch
    from botorch.acquisition.analytic import PosteriorMean
    from botorch.acquisition.thompson_sampling import PathwiseThompsonSampling

    if isinstance(fitted, FittedForest):
        return PosteriorMean(fitted.sample_model(seed))  # one tree, chosen by the seed
    acquisition = PathwiseThompsonSampling(fitted.model)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        acquisition.redraw(batch_size=1)  # one posterior function, fixed from now on
        acquisition.batch_size = 1
    return acquisition


ACQUISITIONS: dict[str, Builder] = {"logei": _logei, "ucb": _ucb, "pi": _pi, "ts": _ts}
"""Acquisition kind -> builder(fitted, pending k x d tensor or None, kappa, seed)."""


def check_acquisition(kind: str, field: str = "acquisition") -> str:
    """``kind`` if it is a known acquisition, else SpecError naming ``field`` and listing the known kinds."""
    if kind not in ACQUISITIONS:
        raise SpecError(field, kind, f"known acquisitions are {sorted(ACQUISITIONS)}", "use one of them")
    return kind


def build_acquisition(
    kind: str, fitted: Surrogate, *, pending: np.ndarray | None = None, kappa: float = 2.0, seed: int = 0
) -> AcquisitionFunction:
    """The acquisition ``kind`` on ``fitted``, aware of pending points (k x d, model coordinates) when given.

    ``kappa`` is the UCB width in posterior standard deviations (UCB = mean + kappa * std); ``seed`` fixes the
    quasi-Monte-Carlo base samples and the Thompson draw. A forest with pending points is refitted with them
    as believed observations (see ``FittedForest.believe``).
    """
    import numpy as np
    import torch

    check_acquisition(kind)
    X_pending = None
    if pending is not None and len(pending) and kind != "ts":
        rows = np.asarray(pending, dtype=float).reshape(-1, fitted.dim)
        believer = isinstance(fitted, FittedForest) or kind in BELIEVERS
        if believer and isinstance(fitted, FittedForest | FittedGP):
            fitted = fitted.believe(rows)
        else:
            X_pending = torch.as_tensor(rows, dtype=torch.float64)
    with quiet():
        acquisition = ACQUISITIONS[kind](fitted, X_pending, float(kappa), int(seed))
    acquisition.surrogate = fitted  # type: ignore[assignment]  # what it scores with: the believed surrogate when pending points were folded in
    return acquisition


def surrogate_of(acquisition: Any, fitted: Surrogate) -> Surrogate:
    """The surrogate ``acquisition`` was built on (``build_acquisition`` records it), else ``fitted``."""
    return getattr(acquisition, "surrogate", fitted)


def score(acquisition: AcquisitionFunction, fitted: Surrogate, X: np.ndarray, *, chunk: int = CHUNK) -> np.ndarray:
    """Acquisition values of single points X (m x d), shape (m,); -inf where not finite.

    The botorch acquisition computes every value, on the model it was built on: for a GP its exact-posterior face
    (``FittedGP.posterior_model``), which gives the values of the GPyTorch posteriors up to round-off at a
    fraction of their cost for thousands of single points. A Thompson draw is evaluated as the sampled path.
    """
    import numpy as np
    import torch
    from botorch.acquisition.thompson_sampling import PathwiseThompsonSampling

    fitted = surrogate_of(acquisition, fitted)
    X = np.asarray(X, dtype=float).reshape(-1, fitted.dim)
    if len(X) == 0:
        return np.zeros(0)
    evaluate: Callable[[Tensor], Tensor]
    if isinstance(acquisition, PathwiseThompsonSampling) and acquisition.samples is not None:
        path = acquisition.samples
        evaluate = lambda rows: path(rows)  # noqa: E731 - one draw: 1 x m x 1
    else:
        evaluate = lambda rows: acquisition(rows.unsqueeze(-2))  # noqa: E731
    values = []
    with torch.no_grad(), torch_threads(), quiet():
        for start in range(0, len(X), chunk):
            rows = torch.as_tensor(X[start : start + chunk], dtype=torch.float64)
            values.append(evaluate(rows).reshape(-1).numpy())
    out = np.concatenate(values)
    return np.where(np.isfinite(out), out, -np.inf)
