"""Acquisitions for several targets and outcome constraints, on a model list (``kiln.models.model_list``).

Stock BoTorch acquisitions on the list of Kiln's fast GPs:
- "qlognehvi": qLogNEHVI, the log noisy expected hypervolume improvement (two or more targets);
- "qlognparego": qLogNParEGO, log noisy expected improvement of a random Chebyshev scalarisation (a fresh random
  weight vector per proposal; two or more targets);
- "qlognei": qLogNEI, log noisy expected improvement of a single target (or of a scalar utility);
- "qlogpof": qLogProbabilityOfFeasibility, the log probability that the outcome constraints hold, in place of the
  others while no completed experiment satisfies them, where asked for (see ``chosen_acquisition``).

Each GP models a quantity in lab units (standardised internally). The objective is a Monte Carlo multi-output
objective: posterior samples are mapped back to lab units and through each target's ``score`` (its maximisation-
sense value: a minimised target negated, a range target's distance to its window), then divided by that target's
spread of observed values, so every objective has a comparable scale (a positive rescaling: it changes no ranking
of hypervolume improvements). Outcome constraints enter through BoTorch's constrained path: each constraint is a
callable of the samples giving its slack (<= 0 when satisfied) in units of the quantity's spread, and the
acquisition weights improvement by the (smoothed) probability of satisfying every constraint.

Pending experiments (X_pending) are integrated over jointly with the candidates; the baseline (the completed
experiments) is pruned to the points that may be on the front.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.models.model_list import FittedModelList

if TYPE_CHECKING:
    import numpy as np
    from botorch.acquisition import AcquisitionFunction
    from torch import Tensor

MO_ACQUISITIONS = ("auto", "qlognehvi", "qlognparego")
"""Acquisition settings of the multi-objective strategy ("auto": qLogNEHVI up to ``PAREGO_ABOVE`` targets, then
qLogNParEGO; with one target every setting gives qLogNEI)."""

PAREGO_ABOVE = 4
"""Above this many targets "auto" chooses qLogNParEGO: the hypervolume's box decompositions grow steeply with the
number of objectives."""

MC_SAMPLES = 64
"""Quasi-Monte-Carlo samples of the joint posterior for one or two targets. Against 128 it cut an ask at n = 100
(two targets, 6-d space) by about a fifth, proposing points within 0.02 of the same ones (docs/benchmarks.md)."""

MC_SAMPLES_MANY = 32
"""Samples for three or more targets: each sample's front gets its own box decomposition (computed in Python by
BoTorch for more than two objectives), which dominates the cost of an ask; 64 took about 1.5 to 1.8 times as
long."""

PARTITION_ALPHA = 0.01
"""Approximate box decompositions for three or more targets (BoTorch's ``alpha``; 0: exact): cells holding less
than this fraction of the hypervolume are left out. With three targets at n = 100 it halved the decompositions'
cost and cut an ask by about a third."""

PRUNE_SAMPLES = 256
"""Posterior samples that decide which completed experiments may be optimal (the baseline kept); BoTorch's default
of 2048 joint samples of every experiment cost more than the rest of an ask at n = 100."""

BASELINE_MOST = 64
"""Completed experiments kept in the baseline at most (those most often on the sampled fronts): with three or more
targets each posterior sample's front gets a box decomposition whose cost grows steeply with its size."""

REFERENCE_SCALE = 0.1
"""Reference point from the data: the observed front's nadir minus this fraction of its range per target."""

Score = Callable[["Tensor"], "Tensor"]
"""Values in lab units (any shape) -> maximisation-sense values, or slacks (<= 0 when satisfied), same shape."""


@dataclass(frozen=True)
class Outcomes:
    """How the outputs of a model list become objectives and constraints.

    Attributes:
        targets: (output column, score) per objective, in target order; ``score`` as ``Target.score``.
        constraints: (output column, slack) per outcome constraint; ``slack`` as ``OutcomeConstraint.slack``.
    """

    targets: tuple[tuple[int, Score], ...]
    constraints: tuple[tuple[int, Score], ...] = ()


def check_mo_acquisition(kind: str, field: str = "acquisition") -> str:
    """``kind`` if it is a known multi-objective acquisition setting, else ValidationError naming ``field``."""
    if not isinstance(kind, str) or kind not in MO_ACQUISITIONS:
        raise ValidationError(field, kind, f"known acquisitions are {list(MO_ACQUISITIONS)}", "use one of them")
    return kind


def chosen_acquisition(kind: str, targets: int, unmet: bool = False) -> str:
    """The acquisition that setting ``kind`` gives with ``targets`` objectives: "qlognei", "qlognehvi" or
    "qlognparego"; with ``unmet`` (outcome constraints that no completed experiment meets, to be sought first:
    the multi-objective strategy's ``feasibility_first``) "qlogpof" whatever the setting, the probability of
    feasibility alone, as in Optuna's constrained GP sampler and Gelbart et al. (2014)."""
    check_mo_acquisition(kind)
    if unmet:
        return "qlogpof"
    if targets <= 1:
        return "qlognei"
    if kind == "auto":
        return "qlognparego" if targets > PAREGO_ABOVE else "qlognehvi"
    return kind


def scaled(fitted: FittedModelList, outcomes: Outcomes, scores: np.ndarray) -> np.ndarray:
    """Observed scores (n x k, maximisation sense, lab units, target order) -> the objective's units (each target
    divided by its quantity's spread), as the acquisitions see them."""
    import numpy as np

    spread = np.array([fitted.stds[column] for column, _ in outcomes.targets], dtype=float)
    return np.asarray(scores, dtype=float).reshape(-1, len(spread)) / spread


def reference_point(front: np.ndarray, given: Sequence[float | None] | None = None) -> list[float]:
    """The hypervolume reference point (k,), in the objective's units.

    ``front``: objective values (n x k) of the observed experiments to measure against (the feasible ones);
    ``given``: per target a value (objective units) or None. Missing entries come from BoTorch's
    ``infer_reference_point`` on the non-dominated rows of ``front`` (nadir minus ``REFERENCE_SCALE`` times the
    range; with one row, minus that fraction of its magnitude), or 0 when ``front`` is empty.
    """
    import numpy as np
    import torch
    from botorch.utils.multi_objective.hypervolume import infer_reference_point
    from botorch.utils.multi_objective.pareto import is_non_dominated

    Y = torch.as_tensor(np.asarray(front, dtype=float), dtype=torch.float64)
    k = Y.shape[-1]
    fixed = [None] * k if given is None else list(given)
    if len(Y) == 0:
        return [0.0 if value is None else float(value) for value in fixed]
    pareto = Y[is_non_dominated(Y)]
    if len(pareto) == 1:
        point = pareto[0] - REFERENCE_SCALE * pareto[0].abs().clamp_min(1e-6)
    else:
        point = infer_reference_point(pareto, scale=REFERENCE_SCALE)
    return [float(point[i]) if value is None else float(value) for i, value in enumerate(fixed)]


def _sampler(fitted: FittedModelList, samples: int, seed: int) -> Any:
    """One quasi-Monte-Carlo sampler per output (BoTorch's ListSampler for a model list's posteriors)."""
    import torch
    from botorch.sampling.list_sampler import ListSampler
    from botorch.sampling.normal import SobolQMCNormalSampler

    shape = torch.Size([samples])
    return ListSampler(*(SobolQMCNormalSampler(shape, seed=seed + i) for i in range(len(fitted.gps))))


def _objective(fitted: FittedModelList, outcomes: Outcomes) -> Callable[[Tensor, Tensor | None], Tensor]:
    """Samples ``... x m`` (standardised) -> objective values ``... x k``."""
    import torch

    spread = [fitted.stds[column] for column, _ in outcomes.targets]

    def objective(samples: Tensor, X: Tensor | None = None) -> Tensor:
        raw = fitted.raw(samples)
        values = [score(raw[..., column]) / s for (column, score), s in zip(outcomes.targets, spread, strict=True)]
        return torch.stack(values, dim=-1)

    return objective


def constraint_callables(fitted: FittedModelList, outcomes: Outcomes) -> list[Callable[[Tensor], Tensor]] | None:
    """BoTorch constraint callables: samples ``... x m`` -> slack ``...`` (<= 0 feasible) in units of the
    constrained quantity's spread; None without constraints."""

    def one(column: int, slack: Score) -> Callable[[Tensor], Tensor]:
        spread = fitted.stds[column]
        return lambda samples: slack(fitted.raw(samples)[..., column]) / spread

    return [one(column, slack) for column, slack in outcomes.constraints] or None


def build_mo_acquisition(
    kind: str,
    fitted: FittedModelList,
    outcomes: Outcomes,
    *,
    baseline: np.ndarray,
    pending: np.ndarray | None = None,
    reference: Sequence[float] | None = None,
    seed: int = 0,
) -> AcquisitionFunction:
    """The acquisition ``kind`` ("qlognehvi", "qlognparego", "qlognei" or "qlogpof"; see ``chosen_acquisition``)
    on the model list.

    Args:
        baseline: model coordinates of the completed experiments (n x d), pruned to the possibly optimal ones.
        pending: experiments in flight (k x d), integrated over jointly with each candidate; None or empty: none.
        reference: the hypervolume reference point (objective units; see ``reference_point``), qLogNEHVI only.
        seed: fixes the quasi-Monte-Carlo base samples and ParEGO's random weights.
    """
    import numpy as np
    import torch
    from botorch.acquisition.multi_objective.objective import GenericMCMultiOutputObjective
    from botorch.acquisition.multi_objective.utils import prune_inferior_points_multi_objective
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.acquisition.utils import prune_inferior_points

    from kiln.models.gp import quiet

    X_baseline = torch.as_tensor(np.asarray(baseline, dtype=float).reshape(-1, fitted.dim), dtype=torch.float64)
    X_pending = None
    if pending is not None and len(pending):
        X_pending = torch.as_tensor(np.asarray(pending, dtype=float).reshape(-1, fitted.dim), dtype=torch.float64)
    objective = _objective(fitted, outcomes)
    constraints = constraint_callables(fitted, outcomes)
    k = len(outcomes.targets)
    samples = MC_SAMPLES if k <= 2 else MC_SAMPLES_MANY
    sampler = _sampler(fitted, samples, seed)

    def first(samples: Tensor, X: Tensor | None = None) -> Tensor:
        return objective(samples, X)[..., 0]

    single = GenericMCObjective(first)
    multi = GenericMCMultiOutputObjective(objective)
    if kind not in ("qlognei", "qlognehvi", "qlognparego", "qlogpof"):
        raise ValidationError(
            "acquisition", kind, "qlognehvi, qlognparego, qlognei or qlogpof", "see chosen_acquisition"
        )
    if kind == "qlogpof":
        if constraints is None:
            raise ValidationError("acquisition", kind, "outcome constraints to satisfy", "use qlognei")
        from botorch.acquisition.logei import qLogProbabilityOfFeasibility

        with quiet():
            return qLogProbabilityOfFeasibility(fitted.model, constraints, sampler=sampler, X_pending=X_pending)
    if kind != "qlognei" and (reference is None or len(reference) != k):
        raise ValidationError("reference point", reference, f"{k} values, one per target", "")
    with quiet(), torch.random.fork_rng():  # samplers made inside BoTorch draw their seeds from torch
        torch.manual_seed(seed)
        if kind == "qlognei":
            X_baseline = prune_inferior_points(
                fitted.model, X_baseline, objective=single, constraints=constraints, num_samples=PRUNE_SAMPLES
            )
        else:
            kept = prune_inferior_points_multi_objective(
                fitted.model,
                X_baseline,
                ref_point=torch.tensor([float(r) for r in reference or ()], dtype=torch.float64),
                objective=multi,
                constraints=constraints,
                num_samples=PRUNE_SAMPLES,
                max_frac=min(1.0, BASELINE_MOST / len(X_baseline)),
            )
            X_baseline = kept if len(kept) else X_baseline  # none probably feasible and above the reference: all
        shared: dict[str, Any] = {  # what every one of the three takes alike
            "sampler": sampler,
            "constraints": constraints,
            "X_pending": X_pending,
            "prune_baseline": False,
            "cache_root": False,
        }
        if kind == "qlognei":
            from botorch.acquisition.logei import qLogNoisyExpectedImprovement

            return qLogNoisyExpectedImprovement(fitted.model, X_baseline, objective=single, **shared)
        if kind == "qlognehvi":
            from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement

            return qLogNoisyExpectedHypervolumeImprovement(
                fitted.model,
                ref_point=[float(r) for r in reference or ()],
                alpha=PARTITION_ALPHA if k > 2 else 0.0,
                X_baseline=X_baseline,
                objective=multi,
                **shared,
            )
        from botorch.acquisition.multi_objective.parego import qLogNParEGO
        from botorch.utils.sampling import sample_simplex

        weights = sample_simplex(k, n=1, seed=seed, dtype=torch.float64).reshape(k)
        return qLogNParEGO(fitted.model, X_baseline, scalarization_weights=weights, objective=multi, **shared)


def score_points(acquisition: AcquisitionFunction, X: np.ndarray, *, chunk: int = 1024) -> np.ndarray:
    """Acquisition values of single points X (m x d), shape (m,); -inf where not finite.

    The torch generator is fixed while scoring: with outcome constraints and no experiment that probably
    satisfies them, BoTorch's noisy EI (and so ParEGO) estimates a lower bound of the objective from fresh random
    posterior draws on every call, which would make the same points score differently from call to call."""
    import numpy as np
    import torch

    from kiln.models.gp import quiet, torch_threads

    X = np.asarray(X, dtype=float)
    if len(X) == 0:
        return np.zeros(0)
    values = []
    with torch.no_grad(), torch_threads(), quiet(), torch.random.fork_rng():
        torch.manual_seed(0)
        for start in range(0, len(X), chunk):
            rows = torch.as_tensor(X[start : start + chunk], dtype=torch.float64).unsqueeze(-2)
            values.append(acquisition(rows).reshape(-1).numpy())
    out = np.concatenate(values)
    return np.where(np.isfinite(out), out, -np.inf)
