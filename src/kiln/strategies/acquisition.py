"""Acquisition functions by kind: log expected improvement, upper confidence bound, log probability of
improvement and Thompson sampling, built on a fitted surrogate (standardised outputs).

GP: without pending experiments the analytic BoTorch versions are used; with pending experiments (k x d) the Monte
Carlo versions, which score a point jointly with the pending ones (so a batch spreads out). Thompson sampling
draws one posterior function per call (pathwise / Matheron sampling) and needs no pending points: each proposal
of a batch gets its own draw.

Random forest: always the analytic BoTorch versions, on the Normal(mean, std) of the trees at each point (the
forest's ``model`` view). Pending points are handled by the "kriging believer": the forest is refitted with them
added at its predicted means. Thompson sampling takes one tree, chosen by the seed, as the sampled function.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def _logei(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    from botorch.acquisition import LogExpectedImprovement, qLogExpectedImprovement

    if pending is None:
        return LogExpectedImprovement(fitted.model, best_f=fitted.best_f)
    return qLogExpectedImprovement(fitted.model, best_f=fitted.best_f, sampler=_sampler(seed), X_pending=pending)


def _ucb(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    from botorch.acquisition import UpperConfidenceBound, qUpperConfidenceBound

    if pending is None:
        return UpperConfidenceBound(fitted.model, beta=kappa**2)
    return qUpperConfidenceBound(fitted.model, beta=kappa**2, sampler=_sampler(seed), X_pending=pending)


def _pi(fitted: Surrogate, pending: Tensor | None, kappa: float, seed: int) -> AcquisitionFunction:
    from botorch.acquisition import monte_carlo
    from botorch.acquisition.analytic import LogProbabilityOfImprovement

    if pending is None:
        return LogProbabilityOfImprovement(fitted.model, best_f=fitted.best_f)
    batch_pi = getattr(monte_carlo, "qLogProbabilityOfImprovement", monte_carlo.qProbabilityOfImprovement)
    return batch_pi(fitted.model, best_f=fitted.best_f, sampler=_sampler(seed), X_pending=pending)  # type: ignore[no-any-return]


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

    The botorch acquisition computes every value. For a GP the posterior it needs is supplied from ``fitted``'s
    exact 2-D computations (see ``FittedGP.joint``) instead of batched GPyTorch posteriors, which are slow for
    thousands of single points; the values agree up to round-off (and, with pending points, quasi-MC base
    samples). Other surrogates' acquisitions read the moments through their own model view.
    """
    import numpy as np
    import torch
    from botorch.acquisition.analytic import AnalyticAcquisitionFunction
    from botorch.acquisition.monte_carlo import SampleReducingMCAcquisitionFunction
    from botorch.acquisition.thompson_sampling import PathwiseThompsonSampling

    fitted = surrogate_of(acquisition, fitted)
    X = np.asarray(X, dtype=float).reshape(-1, fitted.dim)
    if len(X) == 0:
        return np.zeros(0)
    evaluate: Callable[[Tensor], Tensor]
    values = []
    with torch.no_grad(), torch_threads(), quiet():
        gp = fitted if isinstance(fitted, FittedGP) and acquisition.model is fitted.model else None
        if gp is not None and isinstance(acquisition, AnalyticAcquisitionFunction):
            evaluate = _analytic(acquisition, gp)
        elif isinstance(acquisition, PathwiseThompsonSampling) and acquisition.samples is not None:
            path = acquisition.samples
            evaluate = lambda rows: path(rows)  # noqa: E731 - one draw: 1 x m x 1
        elif (
            gp is not None and isinstance(acquisition, SampleReducingMCAcquisitionFunction) and _reducible(acquisition)
        ):
            evaluate = _monte_carlo(acquisition, gp)
        else:
            evaluate = lambda rows: acquisition(rows.unsqueeze(-2))  # noqa: E731
        for start in range(0, len(X), chunk):
            rows = torch.as_tensor(X[start : start + chunk], dtype=torch.float64)
            values.append(evaluate(rows).reshape(-1).numpy())
    out = np.concatenate(values)
    return np.where(np.isfinite(out), out, -np.inf)


def _analytic(acquisition: Any, fitted: FittedGP) -> Callable[[Tensor], Tensor]:
    """Evaluate an analytic acquisition on rows (m x d) with the posterior moments from ``fitted``."""

    def evaluate(rows: Tensor) -> Tensor:
        with exact_posterior(acquisition, fitted):
            return acquisition(rows.unsqueeze(-2))  # type: ignore[no-any-return]

    return evaluate


@contextmanager
def exact_posterior(acquisition: Any, fitted: Surrogate) -> Iterator[None]:
    """Inside the block, an analytic acquisition on a fitted GP's model (``fitted``, or the believed GP it was
    built on) reads its posterior moments from
    ``FittedGP.differentiable_moments`` (equal up to round-off, with gradients with respect to the inputs) instead
    of a GPyTorch posterior, which costs several times more per evaluation. Other acquisitions and surrogates are
    left as they are."""
    from botorch.acquisition.analytic import AnalyticAcquisitionFunction

    fitted = surrogate_of(acquisition, fitted)
    if not (
        isinstance(fitted, FittedGP)
        and isinstance(acquisition, AnalyticAcquisitionFunction)
        and acquisition.model is fitted.model
    ):
        yield
        return

    def mean_and_sigma(X: Tensor, compute_sigma: bool = True, min_var: float = 1e-12) -> tuple[Tensor, Any]:
        """X (batch x 1 x d) -> mean and sigma, each batch x 1, as BoTorch's ``_mean_and_sigma``."""
        mean, variance = fitted.differentiable_moments(X.reshape(-1, X.shape[-1]))
        shape = (*X.shape[:-2], 1)
        sigma = variance.clamp_min(min_var).sqrt().reshape(shape) if compute_sigma else None
        return mean.reshape(shape), sigma

    acquisition._mean_and_sigma = mean_and_sigma  # type: ignore[method-assign]
    try:
        yield
    finally:
        del acquisition._mean_and_sigma


def _reducible(acquisition: Any) -> bool:
    """Whether a pending-aware MC acquisition exposes the pieces ``_monte_carlo`` reuses."""
    return acquisition.X_pending is not None and all(
        hasattr(acquisition, name) for name in ("_sample_forward", "_q_reduction", "_sample_reduction", "sampler")
    )


def _monte_carlo(acquisition: Any, fitted: FittedGP) -> Callable[[Tensor], Tensor]:
    """Evaluate a pending-aware MC acquisition on rows (m x d) with the acquisition's own per-sample value,
    q-reduction and sample reduction, but joint samples of (row, pending) drawn from ``fitted`` and the pending
    block reduced once for all rows.

    Per row, f_row = mean + W z_pending + r z_row, where the pending block's Cholesky factor is shared: the cost is
    O(m k) instead of O(m k^3). The values equal ``acquisition`` on [row, pending] for max-type q-reductions (UCB,
    PI); for log EI the smooth max is taken in two stages, which differs by far less than its temperature.
    """
    import torch
    from botorch.sampling.qmc import NormalQMCEngine
    from linear_operator.utils.cholesky import psd_safe_cholesky

    pending = acquisition.X_pending
    k = len(pending)
    z = NormalQMCEngine(k + 1, seed=acquisition.sampler.seed).draw(MC_SAMPLES, dtype=torch.float64)
    assert z is not None  # S x (1 + k) base samples: column 0 for the row, the rest for the pending points
    _, _, _, mean_p, cov_p = fitted.joint(pending[:1], pending)
    L_p = psd_safe_cholesky(cov_p)
    samples_p = mean_p + z[:, 1:] @ L_p.T  # S x k
    reduce_q = acquisition._q_reduction
    value_p = reduce_q(acquisition._sample_forward(samples_p.unsqueeze(1)), keepdim=True)  # S x 1 x 1

    def evaluate(rows: Tensor) -> Tensor:
        mean, variance, cross, _, _ = fitted.joint(rows, pending)
        W = torch.linalg.solve_triangular(L_p, cross.T, upper=False).T  # m x k
        residual = (variance - (W * W).sum(1)).clamp_min(0.0).sqrt()
        samples_x = mean + z[:, 1:] @ W.T + z[:, :1] * residual  # S x m
        value_x = acquisition._sample_forward(samples_x.unsqueeze(-1))  # S x m x 1
        both = torch.cat([value_x, value_p.expand(-1, len(rows), -1)], dim=-1)
        return acquisition._sample_reduction(reduce_q(both))  # type: ignore[no-any-return]

    return evaluate
