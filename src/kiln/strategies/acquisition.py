"""Acquisition functions by kind, each with its own settings: log expected improvement (``LogEI``), upper
confidence bound (``UCB(kappa)``), log probability of improvement (``PI``) and Thompson sampling (``TS``), built on
a fitted surrogate (standardised outputs). In a config an acquisition is its kind (``ucb``) or a map with its kind
and settings (``{kind: ucb, kappa: 2.0}``); ``acquisition_from_config`` reads and checks both.

``build_acquisition`` returns a ``BoundAcquisition``: the BoTorch acquisition and the surrogate it scores with
(the believed one when pending points were folded in); ``score`` evaluates it on candidate rows.

GP: the acquisitions are stock BoTorch ones on the GP's exact-posterior face (``FittedGP.posterior_model``). Without
pending experiments the analytic versions are used; with pending experiments (k x d) the Monte Carlo versions,
which score a point jointly with the pending ones (so a batch spreads out), except UCB, which folds them in by the
kriging believer. Thompson sampling draws one posterior function per call (pathwise / Matheron sampling) and needs
no pending points: each proposal of a batch gets its own draw.

Random forest: always the analytic BoTorch versions, on the Normal(mean, std) of the trees at each point (the
forest's ``model`` view). Pending points are handled by the "kriging believer": the forest is refitted with them
added at its predicted means. Thompson sampling takes one tree, chosen by the seed, as the sampled function.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.core.errors import SpecError, ValidationError
from kiln.models.base import Surrogate
from kiln.models.forest import FittedForest
from kiln.models.gp import FittedGP, quiet, torch_threads

if TYPE_CHECKING:
    import numpy as np
    from botorch.acquisition import AcquisitionFunction
    from torch import Tensor

    from kiln.space.kernel_layout import KernelLayout

MC_SAMPLES = 128
"""Quasi-Monte-Carlo samples for the batch (pending-aware) acquisitions."""

CHUNK = 2048
"""Rows scored at once when evaluating an acquisition on a candidate table."""


def _sampler(seed: int) -> Any:
    import torch
    from botorch.sampling.normal import SobolQMCNormalSampler

    return SobolQMCNormalSampler(sample_shape=torch.Size([MC_SAMPLES]), seed=seed)


def face(fitted: Surrogate) -> Any:
    """The BoTorch Model the acquisitions are built on: a GP's exact-posterior face (``FittedGP.posterior_model``),
    or a surrogate's own model view."""
    return fitted.posterior_model if isinstance(fitted, FittedGP) else fitted.model


# ------------------------------------------------------------------------------------------------ the settings
def check_kappa(value: Any, field: str) -> float:
    """UCB's width as a float, or ValidationError naming ``field``: a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValidationError(field, value, "kappa must be a finite number > 0", "e.g. 2.0")
    return float(value)


@dataclass(frozen=True)
class Acquisition:
    """An acquisition kind with its own settings (a frozen dataclass per kind; its fields are the settings).

    ``CHECKS`` maps each setting to a function(value, field) -> the value, or ValidationError naming ``field``;
    ``believer``: with a GP, pending points are folded in by the kriging believer (``FittedGP.believe``) and the
    acquisition stays analytic, instead of the Monte Carlo batch version.
    """

    kind: ClassVar[str] = ""
    believer: ClassVar[bool] = False
    CHECKS: ClassVar[Mapping[str, Callable[[Any, str], Any]]] = {}

    def __post_init__(self) -> None:
        for name, check in self.CHECKS.items():
            object.__setattr__(self, name, check(getattr(self, name), f"acquisition '{self.kind}': {name}"))

    def settings(self) -> dict[str, Any]:
        """The settings by name (empty for kinds without any)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_config(self) -> dict[str, Any]:
        """``{"kind": ..., **settings}``: every setting written out, so a stored campaign keeps its behaviour
        when a default changes."""
        return {"kind": self.kind, **self.settings()}

    def function(self, fitted: Surrogate, pending: Tensor | None, seed: int) -> AcquisitionFunction:
        """The BoTorch acquisition on ``fitted``; ``pending`` (k x d, model coordinates) when the Monte Carlo
        version should score jointly with them; ``seed`` fixes base samples and draws."""
        raise NotImplementedError


@dataclass(frozen=True)
class LogEI(Acquisition):
    """Log expected improvement over the best observed utility."""

    kind: ClassVar[str] = "logei"

    def function(self, fitted: Surrogate, pending: Tensor | None, seed: int) -> AcquisitionFunction:
        from botorch.acquisition import LogExpectedImprovement, qLogExpectedImprovement

        if pending is None:
            return LogExpectedImprovement(face(fitted), best_f=fitted.best_f)
        return qLogExpectedImprovement(face(fitted), best_f=fitted.best_f, sampler=_sampler(seed), X_pending=pending)


@dataclass(frozen=True)
class UCB(Acquisition):
    """Upper confidence bound, mean + kappa * std (``kappa``: the width in posterior standard deviations, > 0).

    A GP folds pending points in by the kriging believer: on the pool backtests with 4 experiments in flight it
    kept UCB close to its sequential sample efficiency."""

    kappa: float = 2.0
    kind: ClassVar[str] = "ucb"
    believer: ClassVar[bool] = True
    CHECKS: ClassVar[Mapping[str, Callable[[Any, str], Any]]] = {"kappa": check_kappa}

    def function(self, fitted: Surrogate, pending: Tensor | None, seed: int) -> AcquisitionFunction:
        from botorch.acquisition import UpperConfidenceBound, qUpperConfidenceBound

        if pending is None:
            return UpperConfidenceBound(face(fitted), beta=self.kappa**2)
        return qUpperConfidenceBound(face(fitted), beta=self.kappa**2, sampler=_sampler(seed), X_pending=pending)


@dataclass(frozen=True)
class PI(Acquisition):
    """Log probability of improvement over the best observed utility."""

    kind: ClassVar[str] = "pi"

    def function(self, fitted: Surrogate, pending: Tensor | None, seed: int) -> AcquisitionFunction:
        from botorch.acquisition import monte_carlo
        from botorch.acquisition.analytic import LogProbabilityOfImprovement

        if pending is None:
            return LogProbabilityOfImprovement(face(fitted), best_f=fitted.best_f)
        batch_pi = getattr(monte_carlo, "qLogProbabilityOfImprovement", monte_carlo.qProbabilityOfImprovement)
        return batch_pi(face(fitted), best_f=fitted.best_f, sampler=_sampler(seed), X_pending=pending)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TS(Acquisition):
    """Thompson sampling: one posterior function per call (pathwise sampling for a GP, one tree for a forest)."""

    kind: ClassVar[str] = "ts"

    def function(self, fitted: Surrogate, pending: Tensor | None, seed: int) -> AcquisitionFunction:
        import torch
        from botorch.acquisition.analytic import PosteriorMean
        from botorch.acquisition.thompson_sampling import PathwiseThompsonSampling

        if isinstance(fitted, FittedForest):
            return PosteriorMean(fitted.sample_model(seed))  # one tree, chosen by the seed
        if isinstance(fitted, FittedGP):
            check_thompson_layout(fitted.layout)
        acquisition = PathwiseThompsonSampling(fitted.model)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            acquisition.redraw(batch_size=1)  # one posterior function, fixed from now on
            acquisition.batch_size = 1
        return acquisition


def check_thompson_layout(layout: KernelLayout | None, field: str = "acquisition") -> None:
    """Raise SpecError when a GP on ``layout`` cannot draw Thompson samples: BoTorch's pathwise draws need random
    Fourier features, which exist for Matern and RBF kernels, not for the Tanimoto and elements kernels of a
    layout's blocks."""
    if layout is None or layout.plain:
        return
    blocks = [f"{b.name or 'columns ' + str(list(b.columns))} ({b.kind})" for b in layout.blocks]
    raise SpecError(
        field,
        "ts",
        "Thompson sampling needs a Matern or RBF kernel on every model column; "
        f"{', '.join(blocks)} have a kernel of their own",
        "use acquisition logei, ucb or pi, or another encoding of those parameters",
    )


ACQUISITIONS: dict[str, type[Acquisition]] = {"logei": LogEI, "ucb": UCB, "pi": PI, "ts": TS}
"""Acquisition kind -> its settings class."""


def check_acquisition(kind: str, field: str = "acquisition") -> str:
    """``kind`` if it is a known acquisition, else SpecError naming ``field`` and listing the known kinds."""
    if not isinstance(kind, str) or kind not in ACQUISITIONS:
        raise SpecError(field, kind, f"known acquisitions are {sorted(ACQUISITIONS)}", "use one of them")
    return kind


def acquisition_from_config(value: Any, field: str = "acquisition") -> Acquisition:
    """An acquisition from its config: a kind (``"ucb"``), a map ``{kind: ucb, kappa: 2.0}``, or an Acquisition.

    Raises SpecError naming ``field`` for an unknown kind, a setting the kind does not take (listing those it
    takes and the kinds that take it) or a bad value.
    """
    if isinstance(value, Acquisition):
        return value
    if isinstance(value, str):
        return ACQUISITIONS[check_acquisition(value, field)]()
    if not isinstance(value, Mapping):
        raise SpecError(
            field,
            value,
            "an acquisition kind or a map with a kind and its settings",
            "e.g. ucb or {kind: ucb, kappa: 2.0}",
        )
    options = dict(value)
    if "kind" not in options:
        raise SpecError(field, value, "a map of an acquisition names its kind", "e.g. {kind: ucb, kappa: 2.0}")
    cls = ACQUISITIONS[check_acquisition(options.pop("kind"), f"{field}: kind")]
    takes = [f.name for f in fields(cls)]
    for name, setting in options.items():
        if name not in takes:
            others = sorted(k for k, c in ACQUISITIONS.items() if name in {f.name for f in fields(c)})
            allowed = f"{cls.kind} takes {', '.join(takes)}" if takes else f"{cls.kind} takes no settings"
            fix = f"remove it, or use an acquisition that takes it ({', '.join(others)})" if others else "remove it"
            raise SpecError(f"{field}: {name}", setting, allowed, fix)
        options[name] = cls.CHECKS[name](setting, f"{field}: {name}") if name in cls.CHECKS else setting
    return cls(**options)


def fold_flat_kappa(options: Mapping[str, Any], default: str, field: str) -> dict[str, Any]:
    """Strategy options with a strategy-level ``kappa`` (where configs written before acquisitions had their own
    settings kept it) moved onto the acquisition: UCB's width when the acquisition is UCB, dropped otherwise (it
    was never read then). ``default`` is the strategy's acquisition kind when the options name none."""
    options = dict(options)
    if "kappa" not in options:
        return options
    kappa = options.pop("kappa")
    given = options.get("acquisition", default)
    if isinstance(given, Mapping) and "kappa" in given:
        raise SpecError(
            f"{field}: kappa",
            kappa,
            "kappa is a setting of the acquisition; it is given twice",
            "keep the one in acquisition",
        )
    acquisition = acquisition_from_config(given, f"{field}: acquisition")
    if isinstance(acquisition, UCB):
        acquisition = UCB(kappa=check_kappa(kappa, f"{field}: kappa"))
    options["acquisition"] = acquisition
    return options


# ------------------------------------------------------------------------------------------------ building and scoring
@dataclass(frozen=True)
class BoundAcquisition:
    """A BoTorch acquisition ``function`` and the ``surrogate`` it scores with: the fitted one, or the believed one
    when pending points were folded in (a forest, or a GP with a believer acquisition)."""

    function: AcquisitionFunction
    surrogate: Surrogate


def build_acquisition(
    acquisition: Acquisition | str, fitted: Surrogate, *, pending: np.ndarray | None = None, seed: int = 0
) -> BoundAcquisition:
    """The acquisition (an Acquisition, or a kind with default settings) on ``fitted``, aware of pending points
    (k x d, model coordinates) when given.

    ``seed`` fixes the quasi-Monte-Carlo base samples and the Thompson draw. A forest with pending points (or a GP
    with a believer acquisition such as UCB) is refitted with them as believed observations (see
    ``FittedGP.believe``, ``FittedForest.believe``).
    """
    import numpy as np
    import torch

    settings = acquisition_from_config(acquisition)
    X_pending = None
    if pending is not None and len(pending) and settings.kind != "ts":
        rows = np.asarray(pending, dtype=float).reshape(-1, fitted.dim)
        believer = isinstance(fitted, FittedForest) or settings.believer
        if believer and isinstance(fitted, FittedForest | FittedGP):
            fitted = fitted.believe(rows)
        else:
            X_pending = torch.as_tensor(rows, dtype=torch.float64)
    with quiet():
        function = settings.function(fitted, X_pending, int(seed))
    return BoundAcquisition(function, fitted)


def score(acquisition: BoundAcquisition, X: np.ndarray, *, chunk: int = CHUNK) -> np.ndarray:
    """Acquisition values of single points X (m x d), shape (m,); -inf where not finite.

    The botorch acquisition computes every value, on the model it was built on: for a GP its exact-posterior face
    (``FittedGP.posterior_model``), which gives the values of the GPyTorch posteriors up to round-off at a
    fraction of their cost for thousands of single points. A Thompson draw is evaluated as the sampled path.
    """
    import numpy as np
    import torch
    from botorch.acquisition.thompson_sampling import PathwiseThompsonSampling

    function = acquisition.function
    X = np.asarray(X, dtype=float).reshape(-1, acquisition.surrogate.dim)
    if len(X) == 0:
        return np.zeros(0)
    evaluate: Callable[[Tensor], Tensor]
    if isinstance(function, PathwiseThompsonSampling) and function.samples is not None:
        path = function.samples
        evaluate = lambda rows: path(rows)  # noqa: E731 - one draw: 1 x m x 1
    else:
        evaluate = lambda rows: function(rows.unsqueeze(-2))  # noqa: E731
    values = []
    with torch.no_grad(), torch_threads(), quiet():
        for start in range(0, len(X), chunk):
            rows = torch.as_tensor(X[start : start + chunk], dtype=torch.float64)
            values.append(evaluate(rows).reshape(-1).numpy())
    out = np.concatenate(values)
    return np.where(np.isfinite(out), out, -np.inf)
