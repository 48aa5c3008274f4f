"""Bayesian optimisation: a surrogate model of the utility (a Gaussian process or a random forest) and an
acquisition function.

Each ``propose`` call fits the surrogate to the completed experiments (model coordinates in [0, 1]^d, standardised
utility) and picks points one at a time (sequential greedy): each chosen point joins the pending set, so the
acquisition of the next one accounts for experiments in flight. With a CandidatePool every remaining row is scored
exactly. With a SearchSpace and a GP the acquisition is optimised over the box (respecting linear and composition
constraints) from the best of ``raw_samples`` random feasible points, decoded to lab units (rounded, snapped,
renormalised) and compared with those points (at least 1024 of them when the space has integer, discrete or
categorical parameters). A forest is not differentiable: it scores at least 1024 random feasible points and
``LOCAL_CANDIDATES`` decoded perturbations of the best experiments so far, and takes the best. A point equal to an
earlier experiment or batch member is never proposed. With fewer than two results (or no spread in them) it falls
back to a space-filling design.

torch and BoTorch are imported inside the methods: importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.core.errors import SpecError, ValidationError
from kiln.core.records import DISPATCH_FAILURE
from kiln.models.base import Surrogate
from kiln.models.feasibility import FeasibilityModel, fit_feasibility
from kiln.models.gp import check_kernel
from kiln.models.warping import check_transform, warp
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace
from kiln.strategies.acquisition import (
    Acquisition,
    BoundAcquisition,
    LogEI,
    acquisition_from_config,
    build_acquisition,
    check_thompson_layout,
    score,
)
from kiln.strategies.base import History, Proposal, available_candidates, training_data
from kiln.strategies.simple import SpaceFillingStrategy
from kiln.strategies.space_points import check_search_settings, first_new, maximise

if TYPE_CHECKING:
    import numpy as np

    from kiln.space.kernel_layout import KernelLayout

DISCRETE_CANDIDATES = 1024
"""Random feasible points compared with the decoded optimum in spaces that are not fully continuous."""

MODELS = ("gp", "forest")
"""Surrogate model kinds."""

LOCAL_CANDIDATES = 256
"""Forest in a search space: perturbations of the best experiments scored besides the random points."""

LOCAL_SCALES = (0.02, 0.05, 0.1, 0.2)
"""Standard deviations (model coordinates) of those perturbations, one drawn per point."""

INCUMBENTS = 5
"""Best experiments that the perturbations start from."""


MAX_TREES = 10_000
"""Bound on the forest's trees (memory and time grow with them)."""


@dataclass(frozen=True)
class BayesStrategy:
    """Bayesian optimisation with a GP (default) or random-forest surrogate.

    Args:
        model: surrogate, "gp" (default) or "forest" (scikit-learn random forest; mean and spread of the trees).
        kernel: GP kernel, "matern52" (default) or "rbf".
        ard: GP only: one lengthscale per input dimension (True, default) or one shared by all (isotropic).
        trees: forest only: number of trees (>= 2).
        acquisition: the acquisition with its own settings (``kiln.strategies.acquisition``): ``LogEI()`` (log
            expected improvement, default), ``UCB(kappa=2.0)``, ``PI()`` (log probability of improvement) or
            ``TS()`` (Thompson sampling); a kind ("ucb") or a config map ({"kind": "ucb", "kappa": 2.0}) is read
            with ``acquisition_from_config``.
        raw_samples: random feasible points scored to choose the optimiser's starts; they also stand in for
            the optimum when it is taken or infeasible (search spaces only).
        restarts: local optimiser runs, from the best raw samples (search spaces, GP only).
        transform: output transform of the utilities before the surrogate is fitted: "none" (default) or
            "power" (Yeo-Johnson fitted to the observed utilities; see ``kiln.models.warping``).
        feasibility: learn where experiments fail (a GP classifier of completed against failed experiments, once
            two have failed) and rank candidates that probably fail after all others (``kiln.models.feasibility``).
    """

    kernel: str = "matern52"
    acquisition: Acquisition = field(default_factory=LogEI)
    raw_samples: int = 256
    restarts: int = 4
    model: str = "gp"
    ard: bool = True
    trees: int = 100
    transform: str = "none"
    feasibility: bool = True
    kind: ClassVar[str] = "bayes"

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or self.model not in MODELS:
            raise ValidationError(
                "strategy 'bayes': model", self.model, f"known models are {sorted(MODELS)}", "use one of them"
            )
        if not isinstance(self.feasibility, bool):
            raise ValidationError(
                "strategy 'bayes': feasibility", self.feasibility, "feasibility must be true or false", "e.g. true"
            )
        if not isinstance(self.ard, bool):
            raise ValidationError("strategy 'bayes': ard", self.ard, "ard must be true or false", "e.g. true")
        trees = self.trees
        if isinstance(trees, bool) or not isinstance(trees, int) or not 2 <= trees <= MAX_TREES:
            raise ValidationError(
                "strategy 'bayes': trees", trees, f"trees must be an integer from 2 to {MAX_TREES}", "e.g. 100"
            )
        check_kernel(self.kernel, "strategy 'bayes': kernel")
        check_transform(self.transform, "strategy 'bayes': transform")
        object.__setattr__(
            self, "acquisition", acquisition_from_config(self.acquisition, "strategy 'bayes': acquisition")
        )
        check_search_settings(self.kind, self.raw_samples, self.restarts)

    def to_config(self) -> dict[str, Any]:
        """The settings; model, ard, trees, transform and feasibility only where they differ from their defaults,
        so the configs of strategies without them (stored before they existed) are unchanged."""
        config: dict[str, Any] = {
            "kind": self.kind,
            "kernel": self.kernel,
            "acquisition": self.acquisition.to_config(),
            "raw_samples": self.raw_samples,
            "restarts": self.restarts,
        }
        for name in ("model", "ard", "trees", "transform", "feasibility"):
            if getattr(self, name) != BayesStrategy.__dataclass_fields__[name].default:
                config[name] = getattr(self, name)
        return config

    # ------------------------------------------------------------------------------------------------ proposing
    def check_objective(self, objective: Objective) -> None:
        """Raise SpecError unless the objective is one utility without outcome constraints (one target, or a
        scalarisation of several): the model is of the utility alone, so a constraint would be silently ignored."""
        if objective.constraints or objective.is_multi:
            what = "outcome constraints" if objective.constraints else "several targets without a scalarisation"
            raise SpecError(
                "strategy 'bayes'",
                what,
                "this strategy models one utility: one target, or several with a scalarisation, no constraints",
                "use strategy kind 'default' or 'multi', which model each target and constrained quantity",
            )

    def check_domain(self, domain: Domain) -> None:
        """Raise SpecError when this strategy cannot model the domain: Thompson sampling on a GP needs a Matern or
        RBF kernel on every column, so not a domain whose kernel layout has blocks (fingerprints, elements)."""
        if self.model == "gp" and self.acquisition.kind == "ts":
            check_thompson_layout(domain.kernel_layout, "strategy 'bayes': acquisition")

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        """Up to ``n`` distinct proposals (fewer only when a pool runs out); deterministic for a given seed."""
        import numpy as np

        from kiln.models.gp import torch_threads

        self.check_objective(objective)
        self.check_domain(domain)
        if n <= 0 or (isinstance(domain, CandidatePool) and len(available_candidates(domain, history)) == 0):
            return []
        data = training_data(domain, objective, history)
        if len(data.y) < 2 or float(np.ptp(data.y)) <= 0.0:
            return SpaceFillingStrategy().propose(domain, objective, history, n, seed=seed)
        seeds = [int(s) for s in np.random.default_rng(seed).integers(0, 2**31 - 1, size=n)]
        with torch_threads():
            fitted = self.fit(data.X, data.y, seed=seed, layout=domain.kernel_layout)
            feasibility = self._fit_feasibility(domain, data.X, history, seed)
            if isinstance(domain, CandidatePool):
                return self._from_pool(domain, fitted, history, data.pending, n, seeds, feasibility)
            local = _local_points(domain, data.X, data.y, seeds[0]) if self.model == "forest" else []
            return self._from_space(domain, fitted, history, data.pending, n, seeds, local, feasibility)

    def _fit_feasibility(
        self, domain: Domain, succeeded: np.ndarray, history: History, seed: int
    ) -> FeasibilityModel | None:
        """The failure classifier, or None when switched off or with too few failures. Failed dispatches (the
        instrument never ran the experiment) say nothing about the parameters and are left out."""
        failed = [e.params for e in history.failed if not e.reason.startswith(DISPATCH_FAILURE)]
        if not self.feasibility or not failed:
            return None
        return fit_feasibility(succeeded, domain.encode(failed).reshape(-1, domain.dim), seed=seed)

    def fit(self, X: np.ndarray, y: np.ndarray, *, seed: int, layout: KernelLayout | None = None) -> Surrogate:
        """The surrogate of this strategy fitted to X (n x d, model coordinates) and utilities y (n,) (after the
        output transform). ``layout``: the domain's kernel layout (``Domain.kernel_layout``), read by the GP; the
        forest splits on every column alike and ignores it."""
        y = warp(y, self.transform)
        if self.model == "forest":
            from kiln.models.forest import fit_forest

            return fit_forest(X, y, trees=self.trees, seed=seed)
        from kiln.models.gp import fit_gp

        return fit_gp(X, y, kernel=self.kernel, seed=seed, ard=self.ard, layout=layout)

    def _acquisition(self, fitted: Surrogate, pending: np.ndarray, seed: int) -> BoundAcquisition:
        return build_acquisition(self.acquisition, fitted, pending=pending if len(pending) else None, seed=seed)

    def _from_pool(
        self,
        pool: CandidatePool,
        fitted: Surrogate,
        history: History,
        pending: np.ndarray,
        n: int,
        seeds: list[int],
        feasibility: FeasibilityModel | None = None,
    ) -> list[Proposal]:
        """Score every remaining row exactly; take the best; repeat with it pending."""
        import numpy as np

        keys = available_candidates(pool, history)
        X = pool.encoded[keys] if len(keys) else np.zeros((0, pool.dim))
        alive = np.ones(len(keys), dtype=bool)
        proposals: list[Proposal] = []
        for i in range(min(n, len(keys))):
            rows = np.flatnonzero(alive)
            order = self._order(self._acquisition(fitted, pending, seeds[i]), fitted, X[rows], seeds[i], feasibility)
            best = int(rows[int(order[0])])
            alive[best] = False
            pending = np.vstack([pending.reshape(-1, pool.dim), X[best]])
            key = int(keys[best])
            proposals.append(Proposal(pool.row(key), key))
        return proposals

    def _from_space(
        self,
        space: SearchSpace,
        fitted: Surrogate,
        history: History,
        pending: np.ndarray,
        n: int,
        seeds: list[int],
        local: list[dict[str, Any]],
        feasibility: FeasibilityModel | None = None,
    ) -> list[Proposal]:
        """GP: optimise the acquisition over [0, 1]^dim, decode, compare with discrete candidates; forest: score
        random feasible points and the ``local`` ones (lab units); take the best new point; repeat."""
        import numpy as np

        seen = [e.params for e in (*history.completed, *history.pending, *history.failed)]
        taken = space.encode(seen).reshape(-1, space.dim) if seen else np.zeros((0, space.dim))
        gp = self.model == "gp"
        size = self.raw_samples if space.is_continuous and gp else max(self.raw_samples, DISCRETE_CANDIDATES)
        sampled = sample_points(space, size, seed=seeds[0], method="random") + local
        sampled_X = space.encode(sampled).reshape(-1, space.dim)
        pending = pending.reshape(-1, space.dim)
        proposals: list[Proposal] = []
        for i in range(n):
            acquisition = self._acquisition(fitted, pending, seeds[i])
            options, X = sampled, sampled_X
            if gp:
                starts = sampled_X[self._order(acquisition, fitted, sampled_X, 0, feasibility)[: self.restarts]]
                optimum = space.decode(self._optimise(space, acquisition, starts, seeds[i]))
                options, X = optimum + sampled, np.vstack([space.encode(optimum), sampled_X])
            order = self._order(acquisition, fitted, X, seeds[i], feasibility)
            point = first_new(space, options, X, order, taken)
            if point is None:  # every option is taken: try fresh random feasible points
                extra = sample_points(space, size, seed=seeds[i] + 1, method="random")
                extra_X = space.encode(extra)
                order = self._order(acquisition, fitted, extra_X, seeds[i], feasibility)
                point = first_new(space, extra, extra_X, order, taken)
            if point is None:
                break
            x = space.encode([point])
            taken = np.vstack([taken, x])
            pending = np.vstack([pending, x])
            proposals.append(Proposal(point))
        return proposals

    def _order(
        self,
        acquisition: BoundAcquisition,
        fitted: Surrogate,
        X: np.ndarray,
        seed: int = 0,
        feasibility: FeasibilityModel | None = None,
    ) -> np.ndarray:
        """Indices of the points X (m x d), best acquisition value first.

        Points the failure classifier (if any) deems probably infeasible come after all others. Ties at the top
        (probabilities of improvement saturate at 1 where the model is sure) are broken by the
        same acquisition without pending points, then by the posterior mean. A forest is piecewise constant, so
        its remaining ties are broken at random (by ``seed``) rather than by position.
        """
        import numpy as np
        import torch

        values = np.round(score(acquisition, X), 12)
        alone, mean = np.zeros(len(X)), np.zeros(len(X))
        doubtful = ~feasibility.feasible(X) if feasibility is not None else np.zeros(len(X), dtype=bool)
        candidates = values if doubtful.all() else np.where(doubtful, -np.inf, values)
        top = np.flatnonzero(candidates == candidates.max())
        if len(top) > 1 and self.acquisition.kind != "ts":
            single = self._acquisition(fitted, np.zeros((0, fitted.dim)), 0)
            alone[top] = np.round(score(single, X[top]), 12)
            mean[top] = fitted.moments(torch.as_tensor(X[top], dtype=torch.float64))[0].numpy()
        if self.model == "forest":
            return np.lexsort((np.random.default_rng(seed).permutation(len(X)), -mean, -alone, -values, doubtful))
        return np.lexsort((-mean, -alone, -values, doubtful))

    def _optimise(self, space: SearchSpace, acquisition: BoundAcquisition, starts: np.ndarray, seed: int) -> np.ndarray:
        """The acquisition's maximiser over [0, 1]^dim under the space's linear constraints, shape 1 x dim, from
        ``starts`` (restarts x dim): the best of ``raw_samples`` random feasible points (see
        ``kiln.strategies.space_points.maximise``)."""
        return maximise(space, acquisition.function, starts, seed)


def _local_points(space: SearchSpace, X: np.ndarray, y: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """``LOCAL_CANDIDATES`` perturbations of the ``INCUMBENTS`` best experiments (X n x dim, utilities y),
    Gaussian in model coordinates, decoded to lab units (rounded, snapped, renormalised); points that break a
    linear constraint are dropped later by ``first_new``."""
    import numpy as np

    if len(X) == 0:
        return []
    rng = np.random.default_rng(seed + 1)
    best = X[np.argsort(-y, kind="stable")[:INCUMBENTS]]
    centres = best[rng.integers(len(best), size=LOCAL_CANDIDATES)]
    scales = rng.choice(LOCAL_SCALES, size=(LOCAL_CANDIDATES, 1))
    return space.decode(np.clip(centres + scales * rng.standard_normal(centres.shape), 0.0, 1.0))
