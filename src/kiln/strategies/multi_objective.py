"""Bayesian optimisation of several targets and of outcome constraints, on independent GPs.

Each ``propose`` call fits one Kiln GP per modelled quantity (``kiln.models.model_list``) on the experiments that
have a value for it (a partly measured experiment teaches each of its quantities' GPs), and picks points one at a
time (sequential greedy), each chosen point joining the experiments in flight:
- several targets (no scalarisation): qLogNEHVI on the targets' scores, or qLogNParEGO (selectable; chosen above
  ``PAREGO_ABOVE`` targets), see ``kiln.strategies.mo_acquisition``;
- one target, or a scalarised objective (desirability, priority): qLogNEI on the target (or on one GP of the
  utility);
- outcome constraints: each constrained quantity gets its own GP, and the acquisition weights improvement by the
  probability of satisfying every constraint.

With a CandidatePool every remaining row is scored exactly. With a SearchSpace the acquisition is optimised over the
box under the space's linear and composition constraints from the best of ``raw_samples`` random feasible points,
decoded to lab units and compared with those points (at least 1024 of them when the space is not fully
continuous). Candidates the failure classifier (``kiln.models.feasibility``) deems probably infeasible come after
all others. With fewer than two completed experiments it falls back to a space-filling design.

torch and BoTorch are imported inside the methods: importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.core.errors import ValidationError
from kiln.core.records import DISPATCH_FAILURE, Experiment
from kiln.models.feasibility import FeasibilityModel, fit_feasibility
from kiln.models.gp import check_kernel
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, Proposal, available_candidates
from kiln.strategies.mo_acquisition import (
    Outcomes,
    Score,
    build_mo_acquisition,
    check_mo_acquisition,
    chosen_acquisition,
    reference_point,
    scaled,
    score_points,
)
from kiln.strategies.simple import SpaceFillingStrategy
from kiln.strategies.space_points import check_search_settings, first_new, maximise

if TYPE_CHECKING:
    import numpy as np
    from botorch.acquisition import AcquisitionFunction

    from kiln.models.model_list import FittedModelList

DISCRETE_CANDIDATES = 1024
"""Random feasible points compared with the decoded optimum in spaces that are not fully continuous."""


OPTIMISER_FTOL = 1e-5
"""The local optimiser stops a start once an iteration improves the (log) acquisition by less than this, relative.
Log acquisitions are flat near their maxima: at n = 100 (6-d, two and three targets, 10 seeds each) it saved a
fifth to a quarter of the evaluations against L-BFGS-B's default (about 2e-9) and every maximum was the same to
four decimals of the log acquisition (docs/benchmarks.md, latency, "Several targets")."""


UTILITY = "(utility)"
"""The modelled column of a scalarised objective (not a quantity name: those are identifiers)."""


@dataclass(frozen=True)
class Problem:
    """What the models are fitted to and how their outputs are read.

    Attributes:
        names: the modelled columns (quantity names, or ``UTILITY``).
        columns: per column (X n_i x d, values n_i): the experiments with a value of it, lab units.
        outcomes: the objectives and constraints on the columns (see ``Outcomes``).
        baseline: model coordinates of the completed experiments (n x d).
        pending: model coordinates of the experiments in flight, partly measured ones included (k x d).
        front: maximisation-sense scores (f x targets) of the feasible completed experiments (of all completed
            ones while none is feasible), lab units.
        reference: per target the score of the given reference value, or None.
        unmet: there are outcome constraints and no completed experiment satisfies them all.
    """

    names: tuple[str, ...]
    columns: tuple[tuple[np.ndarray, np.ndarray], ...]
    outcomes: Outcomes
    baseline: np.ndarray
    pending: np.ndarray
    front: np.ndarray
    reference: tuple[float | None, ...]
    unmet: bool = False


def build_problem(domain: Domain, objective: Objective, history: History) -> Problem:
    """The modelled columns of ``objective`` from ``history``: each target (several unscalarised targets or one),
    or the utility (a scalarisation of several), then each constrained quantity not already a column."""
    import numpy as np

    measured: list[Experiment] = [*history.completed, *history.pending]
    targets = list(objective.targets)
    objectives: tuple[tuple[int, Score], ...]
    if objective.is_multi or len(targets) == 1:
        names = [t.name for t in targets]
        objectives = tuple((i, t.score) for i, t in enumerate(targets))
    else:
        names = [UTILITY]
        objectives = ((0, _identity),)
    constraints = []
    for constraint in objective.constraints:
        if constraint.name not in names:
            names.append(constraint.name)
        constraints.append((names.index(constraint.name), constraint.slack))
    columns = [_column(domain, objective, measured, name) for name in names]
    feasible = [e.results for e in history.completed if objective.feasible(e.results)]
    unmet = bool(objective.constraints) and not feasible
    feasible = feasible or [e.results for e in history.completed]  # no feasible one yet: measure against all
    front = np.array([[t.score(float(r[t.name])) for t in targets] for r in feasible], dtype=float)
    given = objective.reference or {}
    reference = tuple(None if t.name not in given else float(t.score(float(given[t.name]))) for t in targets)
    return Problem(
        names=tuple(names),
        columns=tuple(columns),
        outcomes=Outcomes(objectives, tuple(constraints)),
        baseline=domain.encode([e.params for e in history.completed]).reshape(-1, domain.dim),
        pending=domain.encode([e.params for e in history.pending]).reshape(-1, domain.dim),
        front=front.reshape(-1, len(targets)),
        reference=reference,
        unmet=unmet,
    )


def _identity(values: Any) -> Any:
    return values


def _column(
    domain: Domain, objective: Objective, measured: list[Experiment], name: str
) -> tuple[np.ndarray, np.ndarray]:
    """(X n x d, values (n,)) of the experiments with a value of column ``name``: a quantity's measurements, or
    for ``UTILITY`` the scalarised utility of those with every target (over their own score bounds)."""
    import numpy as np

    if name == UTILITY:
        known = [e for e in measured if all(t.name in e.results for t in objective.targets)]
        values = objective.utilities([e.results for e in known]) if known else []
    else:
        known = [e for e in measured if name in e.results]
        values = [float(e.results[name]) for e in known]
    X = domain.encode([e.params for e in known]).reshape(-1, domain.dim)
    return X, np.asarray(values, dtype=float).reshape(-1)


@dataclass(frozen=True)
class MultiObjectiveStrategy:
    """Bayesian optimisation of several targets and outcome constraints (one Kiln GP per quantity).

    Args:
        acquisition: "auto" (default: qLogNEHVI up to four targets, qLogNParEGO above), "qlognehvi" or
            "qlognparego"; with one target (or a scalarised objective) qLogNEI in every case.
        kernel: GP kernel of every quantity, "matern52" (default) or "rbf".
        ard: one lengthscale per input dimension (True, default) or one shared by all.
        raw_samples: random feasible points scored to choose the optimiser's starts (search spaces only).
        restarts: local optimiser runs, from the best raw samples (search spaces only).
        feasibility: learn where experiments fail and rank probable failures after every other candidate.
        feasibility_first: while no completed experiment meets every outcome constraint, propose by the
            probability of meeting them alone (qLogPoF) instead of the constrained acquisition. Off by default:
            on the two constrained development sets it helped where 3 of 75 rows are feasible and cost where 46
            of 352 are (docs/benchmarks.md, "Feasibility first").
    """

    acquisition: str = "auto"
    kernel: str = "matern52"
    ard: bool = True
    raw_samples: int = 256
    restarts: int = 4
    feasibility: bool = True
    feasibility_first: bool = False
    kind: ClassVar[str] = "multi"

    def __post_init__(self) -> None:
        check_mo_acquisition(self.acquisition, f"strategy '{self.kind}': acquisition")
        check_kernel(self.kernel, f"strategy '{self.kind}': kernel")
        for name in ("ard", "feasibility", "feasibility_first"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(
                    f"strategy '{self.kind}': {name}", getattr(self, name), f"{name} must be true or false", "true"
                )
        check_search_settings(self.kind, self.raw_samples, self.restarts)

    def to_config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "acquisition": self.acquisition,
            "kernel": self.kernel,
            "ard": self.ard,
            "raw_samples": self.raw_samples,
            "restarts": self.restarts,
            "feasibility": self.feasibility,
        } | ({"feasibility_first": True} if self.feasibility_first else {})  # configs stored before it stay equal

    # ------------------------------------------------------------------------------------------------ proposing
    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        """Up to ``n`` distinct proposals (fewer only when a pool runs out); deterministic for a given seed."""
        import numpy as np

        from kiln.models.gp import torch_threads
        from kiln.models.model_list import fit_model_list

        if n <= 0 or (isinstance(domain, CandidatePool) and len(available_candidates(domain, history)) == 0):
            return []
        if len(history.completed) < 2:
            return SpaceFillingStrategy().propose(domain, objective, history, n, seed=seed)
        problem = build_problem(domain, objective, history)
        seeds = [int(s) for s in np.random.default_rng(seed).integers(0, 2**31 - 1, size=n)]
        with torch_threads():
            fitted = fit_model_list(
                problem.columns,
                problem.names,
                kernel=self.kernel,
                ard=self.ard,
                seed=seed,
                layout=domain.kernel_layout,
            )
            feasibility = self._fit_feasibility(domain, problem.baseline, history, seed)
            chooser = AcquisitionChooser(self.acquisition, fitted, problem, self.feasibility_first)
            if isinstance(domain, CandidatePool):
                return self._from_pool(domain, chooser, history, n, seeds, feasibility)
            return self._from_space(domain, chooser, history, n, seeds, feasibility)

    def _fit_feasibility(
        self, domain: Domain, succeeded: np.ndarray, history: History, seed: int
    ) -> FeasibilityModel | None:
        """The failure classifier, or None when switched off or with too few failures (failed dispatches, where
        the instrument never ran the experiment, say nothing about the parameters and are left out)."""
        failed = [e.params for e in history.failed if not e.reason.startswith(DISPATCH_FAILURE)]
        if not self.feasibility or not failed:
            return None
        return fit_feasibility(succeeded, domain.encode(failed).reshape(-1, domain.dim), seed=seed)

    def _from_pool(
        self,
        pool: CandidatePool,
        chooser: AcquisitionChooser,
        history: History,
        n: int,
        seeds: list[int],
        feasibility: FeasibilityModel | None,
    ) -> list[Proposal]:
        """Score every remaining row exactly; take the best; repeat with it pending."""
        import numpy as np

        keys = available_candidates(pool, history)
        X = pool.encoded[keys] if len(keys) else np.zeros((0, pool.dim))
        alive = np.ones(len(keys), dtype=bool)
        pending = chooser.problem.pending
        proposals: list[Proposal] = []
        for i in range(min(n, len(keys))):
            rows = np.flatnonzero(alive)
            acquisition = chooser.acquisition(pending, seeds[i])
            values = score_points(acquisition, X[rows])
            best = int(rows[int(_order(values, X[rows], feasibility)[0])])
            alive[best] = False
            pending = np.vstack([pending, X[best]])
            key = int(keys[best])
            proposals.append(Proposal(pool.row(key), key))
        return proposals

    def _from_space(
        self,
        space: SearchSpace,
        chooser: AcquisitionChooser,
        history: History,
        n: int,
        seeds: list[int],
        feasibility: FeasibilityModel | None,
    ) -> list[Proposal]:
        """Optimise the acquisition over [0, 1]^dim, decode, compare with random feasible points; take the best
        new point; repeat with it pending."""
        import numpy as np

        seen = [e.params for e in (*history.completed, *history.pending, *history.failed)]
        taken = space.encode(seen).reshape(-1, space.dim) if seen else np.zeros((0, space.dim))
        size = self.raw_samples if space.is_continuous else max(self.raw_samples, DISCRETE_CANDIDATES)
        sampled = sample_points(space, size, seed=seeds[0], method="random")
        sampled_X = space.encode(sampled).reshape(-1, space.dim)
        pending = chooser.problem.pending
        proposals: list[Proposal] = []
        for i in range(n):
            acquisition = chooser.acquisition(pending, seeds[i])
            values = score_points(acquisition, sampled_X)
            starts = sampled_X[_order(values, sampled_X, feasibility)[: self.restarts]]
            optimum = space.decode(maximise(space, acquisition, starts, seeds[i], ftol=OPTIMISER_FTOL))
            optimum_X = space.encode(optimum).reshape(1, space.dim)
            options, X = optimum + sampled, np.vstack([optimum_X, sampled_X])
            values = np.concatenate([score_points(acquisition, optimum_X), values])
            point = first_new(space, options, X, _order(values, X, feasibility), taken)
            if point is None:  # every option is taken: try fresh random feasible points
                extra = sample_points(space, size, seed=seeds[i] + 1, method="random")
                extra_X = space.encode(extra).reshape(-1, space.dim)
                order = _order(score_points(acquisition, extra_X), extra_X, feasibility)
                point = first_new(space, extra, extra_X, order, taken)
            if point is None:
                break
            x = space.encode([point]).reshape(1, space.dim)
            taken = np.vstack([taken, x])
            pending = np.vstack([pending, x])
            proposals.append(Proposal(point))
        return proposals


class AcquisitionChooser:
    """The fitted model list and the problem; ``kind`` is the acquisition the setting gives for the number of
    targets ("qlogpof" while the outcome constraints are unmet, with ``feasibility_first``) and
    ``reference`` the hypervolume's reference point (objective units; None for qLogNEI and qLogPoF).
    ``acquisition(pending, seed)`` builds it for the experiments in flight (k x d)."""

    def __init__(
        self, setting: str, fitted: FittedModelList, problem: Problem, feasibility_first: bool = False
    ) -> None:
        self.fitted = fitted
        self.problem = problem
        self.kind = chosen_acquisition(setting, len(problem.outcomes.targets), problem.unmet and feasibility_first)
        self.reference: list[float] | None = None
        if self.kind not in ("qlognei", "qlogpof"):
            front = scaled(fitted, problem.outcomes, problem.front)
            given = _scaled_reference(fitted, problem)
            self.reference = reference_point(front, given)

    def acquisition(self, pending: np.ndarray, seed: int) -> AcquisitionFunction:
        return build_mo_acquisition(
            self.kind,
            self.fitted,
            self.problem.outcomes,
            baseline=self.problem.baseline,
            pending=pending,
            reference=self.reference,
            seed=seed,
        )


def _scaled_reference(fitted: FittedModelList, problem: Problem) -> list[float | None]:
    """The given reference scores in the objective's units (None where not given)."""
    out: list[float | None] = []
    for (column, _), value in zip(problem.outcomes.targets, problem.reference, strict=True):
        out.append(None if value is None else value / fitted.stds[column])
    return out


def _order(values: np.ndarray, X: np.ndarray, feasibility: FeasibilityModel | None) -> np.ndarray:
    """Indices of the points X (m x d) by their acquisition ``values`` (m,), best first; points the failure
    classifier deems probably infeasible after all others (unless every point is)."""
    import numpy as np

    doubtful = ~feasibility.feasible(X) if feasibility is not None else np.zeros(len(X), dtype=bool)
    if doubtful.all():
        doubtful = np.zeros(len(X), dtype=bool)
    return np.lexsort((-np.round(values, 12), doubtful))
