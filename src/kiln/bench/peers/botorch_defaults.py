"""A plain-BoTorch reference: what the BoTorch tutorials do, with their default settings, and nothing more.

SingleTaskGP (BoTorch's default kernel and priors, ``Normalize`` inputs over the unit box, ``Standardize``
outcome) fitted by ``fit_gpytorch_mll`` to the completed experiments in Kiln's model coordinates, then

* search space: ``qLogExpectedImprovement`` maximised by ``optimize_acqf`` over the unit box (10 restarts,
  512 raw samples), running experiments passed as ``X_pending``; the optimum is decoded to lab units;
* pool: analytic ``LogExpectedImprovement`` of every remaining row, the argmax taken (lowest row key on ties);
  for n > 1, ``optimize_acqf_discrete`` with qLogEI (sequential greedy over the remaining rows).

Several targets, or outcome constraints (the multi-objective recipe of the BoTorch tutorials): one SingleTaskGP as
above per target's score (a minimised target negated) and per constrained quantity, in a ``ModelListGP``; then
``qLogNoisyExpectedHypervolumeImprovement`` over the targets with the reference point from BoTorch's
``infer_reference_point`` on the feasible observed front, each constraint passed as its slack on the model's
samples (``constraints``), running experiments as ``X_pending``. One target with constraints uses
``qLogNoisyExpectedImprovement`` the same way. A pool is scored by ``optimize_acqf_discrete`` over the remaining
rows, a space by ``optimize_acqf`` as above.

With fewer than two completed experiments it proposes random points or rows (seeded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from kiln.bench.peers.common import check_supported, quiet
from kiln.objective import Objective, OutcomeConstraint
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, Proposal, available_candidates, training_data
from kiln.strategies.simple import RandomStrategy

if TYPE_CHECKING:
    from botorch.models import SingleTaskGP
    from torch import Tensor

CHUNK = 8192
"""Pool rows scored per batch (bounds the memory of the posterior)."""


@dataclass(frozen=True)
class BotorchDefaults:
    """Plain BoTorch: SingleTaskGP + (q)LogEI with the library's usual settings."""

    num_restarts: int = 10
    raw_samples: int = 512
    kind: ClassVar[str] = "botorch-defaults"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        check_supported(domain, self.kind)
        if n < 1:
            return []
        if len(history.completed) < 2:
            return RandomStrategy().propose(domain, objective, history, n, seed=seed)
        import torch

        if objective.is_multi or objective.constraints:
            with quiet(), torch.random.fork_rng():
                torch.manual_seed(seed)
                return self._several(domain, objective, history, n)
        data = training_data(domain, objective, history)
        with quiet(), torch.random.fork_rng():
            torch.manual_seed(seed)
            model = fit_model(data.X, data.y)
            if isinstance(domain, CandidatePool):
                free = available_candidates(domain, history)
                rows = self._pool_choice(model, data.y, domain.encoded[free], n) if len(free) else []
                return [Proposal(domain.row(int(free[i])), int(free[i])) for i in rows]
            X = self._optimise(model, data.y, data.pending, domain.dim, n)
        return [Proposal(point) for point in domain.decode(X)]

    def _optimise(self, model: SingleTaskGP, y: np.ndarray, pending: np.ndarray, dim: int, n: int) -> np.ndarray:
        import torch
        from botorch.acquisition import qLogExpectedImprovement
        from botorch.optim import optimize_acqf

        X_pending = torch.as_tensor(pending, dtype=torch.double) if pending.size else None
        acquisition = qLogExpectedImprovement(model, best_f=float(y.max()), X_pending=X_pending)
        bounds = torch.stack([torch.zeros(dim, dtype=torch.double), torch.ones(dim, dtype=torch.double)])
        candidates, _ = optimize_acqf(
            acquisition, bounds=bounds, q=n, num_restarts=self.num_restarts, raw_samples=self.raw_samples
        )
        return np.asarray(candidates.detach().numpy(), dtype=float)

    @staticmethod
    def _pool_choice(model: SingleTaskGP, y: np.ndarray, X_free: np.ndarray, n: int) -> list[int]:
        """Indices into ``X_free`` of the proposed rows."""
        import torch

        choices = torch.as_tensor(np.ascontiguousarray(X_free), dtype=torch.double)
        if n == 1:
            return [int(np.argmax(log_ei(model, float(y.max()), choices)))]
        from botorch.acquisition import qLogExpectedImprovement
        from botorch.optim import optimize_acqf_discrete

        acquisition = qLogExpectedImprovement(model, best_f=float(y.max()))
        picked, _ = optimize_acqf_discrete(acquisition, q=min(n, len(choices)), choices=choices, unique=True)
        # map the chosen points back to their rows (exact copies of rows of `choices`)
        return [int(torch.cdist(p.unsqueeze(0), choices).argmin()) for p in picked]

    def _several(self, domain: Domain, objective: Objective, history: History, n: int) -> list[Proposal]:
        """qLogNEHVI (several targets) or qLogNEI (one) with outcome constraints, on a list of SingleTaskGPs."""
        import torch
        from botorch.models import ModelListGP

        done = [e for e in history.completed if objective.is_complete(e.results)]
        if len(done) < 2:
            return RandomStrategy().propose(domain, objective, history, n, seed=int(torch.randint(2**31, ()).item()))
        X = domain.encode([e.params for e in done]).reshape(-1, domain.dim)
        scores = np.array([objective.scores(e.results) for e in done], dtype=float)
        measured = np.array([[e.results[c.name] for c in objective.constraints] for e in done], dtype=float)
        outcomes = np.column_stack([scores, measured.reshape(len(done), -1)])
        model = ModelListGP(*(fit_model(X, outcomes[:, j]) for j in range(outcomes.shape[1])))
        feasible = np.array([objective.feasible(e.results) for e in done])
        pending = domain.encode([e.params for e in history.pending]).reshape(-1, domain.dim)
        acquisition = _constrained_acquisition(model, objective, X, scores, feasible, pending)
        if isinstance(domain, CandidatePool):
            from botorch.optim import optimize_acqf_discrete

            free = available_candidates(domain, history)
            if not len(free):
                return []
            choices = torch.as_tensor(np.ascontiguousarray(domain.encoded[free]), dtype=torch.double)
            picked, _ = optimize_acqf_discrete(acquisition, q=min(n, len(choices)), choices=choices, unique=True)
            rows = [int(torch.cdist(p.unsqueeze(0), choices).argmin()) for p in picked]
            return [Proposal(domain.row(int(free[i])), int(free[i])) for i in rows]
        from botorch.optim import optimize_acqf

        bounds = torch.stack([torch.zeros(domain.dim, dtype=torch.double), torch.ones(domain.dim, dtype=torch.double)])
        candidates, _ = optimize_acqf(
            acquisition, bounds=bounds, q=n, num_restarts=self.num_restarts, raw_samples=self.raw_samples
        )
        return [Proposal(point) for point in domain.decode(np.asarray(candidates.detach().numpy(), dtype=float))]

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "num_restarts": self.num_restarts, "raw_samples": self.raw_samples}


def _constrained_acquisition(
    model: Any, objective: Objective, X: np.ndarray, scores: np.ndarray, feasible: np.ndarray, pending: np.ndarray
) -> Any:
    """qLogNEHVI over the m targets (outputs 0..m-1), or qLogNEI for one, with a slack per constraint.

    ``scores`` (n, m) are the observed targets' scores and ``feasible`` (n,) whether each point met every
    constraint; the reference point is ``infer_reference_point`` of the feasible observed front (of every
    observation while none is feasible).
    """
    import torch
    from botorch.acquisition import qLogNoisyExpectedImprovement
    from botorch.acquisition.multi_objective import qLogNoisyExpectedHypervolumeImprovement
    from botorch.acquisition.multi_objective.objective import IdentityMCMultiOutputObjective
    from botorch.acquisition.objective import GenericMCObjective
    from botorch.utils.multi_objective.hypervolume import infer_reference_point
    from botorch.utils.multi_objective.pareto import is_non_dominated

    m = len(objective.targets)
    constraints = [_slack(c, m + j) for j, c in enumerate(objective.constraints)] or None
    baseline = torch.as_tensor(X, dtype=torch.double)
    X_pending = torch.as_tensor(pending, dtype=torch.double) if pending.size else None
    if m == 1:
        return qLogNoisyExpectedImprovement(
            model,
            X_baseline=baseline,
            objective=GenericMCObjective(_first_output),
            constraints=constraints,
            X_pending=X_pending,
        )
    Y = torch.as_tensor(scores[feasible] if feasible.any() else scores, dtype=torch.double)
    ref_point = infer_reference_point(Y[is_non_dominated(Y)])
    return qLogNoisyExpectedHypervolumeImprovement(
        model,
        ref_point=ref_point.tolist(),
        X_baseline=baseline,
        objective=IdentityMCMultiOutputObjective(outcomes=list(range(m))),
        constraints=constraints,
        X_pending=X_pending,
    )


def fit_model(X: np.ndarray, y: np.ndarray) -> SingleTaskGP:
    """SingleTaskGP with Normalize (unit-box bounds) and Standardize, fitted by ``fit_gpytorch_mll``."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    train_X = torch.as_tensor(X, dtype=torch.double)
    train_Y = torch.as_tensor(y, dtype=torch.double).unsqueeze(-1)
    d = train_X.shape[-1]
    bounds = torch.stack([torch.zeros(d, dtype=torch.double), torch.ones(d, dtype=torch.double)])
    model = SingleTaskGP(
        train_X, train_Y, input_transform=Normalize(d=d, bounds=bounds), outcome_transform=Standardize(m=1)
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    return model


def log_ei(model: SingleTaskGP, best_f: float, choices: Any) -> np.ndarray:
    """Analytic LogExpectedImprovement of each row of ``choices`` (an N x d tensor), scored in chunks."""
    import torch
    from botorch.acquisition import LogExpectedImprovement

    acquisition = LogExpectedImprovement(model, best_f=best_f)
    with torch.no_grad():
        values = [acquisition(chunk.unsqueeze(1)) for chunk in torch.split(choices, CHUNK)]
    return torch.cat(values).numpy()


def _slack(constraint: OutcomeConstraint, output: int) -> Callable[[Tensor], Tensor]:
    """The constraint's slack on model output ``output`` of samples Z (... x q x outputs): <= 0 where it holds."""

    def slack(Z: Tensor) -> Tensor:
        return constraint.slack(Z[..., output])  # type: ignore[no-any-return]

    return slack


def _first_output(Z: Tensor, X: Tensor | None = None) -> Tensor:
    return Z[..., 0]
