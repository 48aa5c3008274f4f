"""A plain-BoTorch reference: what the BoTorch tutorials do, with their default settings, and nothing more.

SingleTaskGP (BoTorch's default kernel and priors, ``Normalize`` inputs over the unit box, ``Standardize``
outcome) fitted by ``fit_gpytorch_mll`` to the completed experiments in Kiln's model coordinates, then

* search space: ``qLogExpectedImprovement`` maximised by ``optimize_acqf`` over the unit box (10 restarts,
  512 raw samples), running experiments passed as ``X_pending``; the optimum is decoded to lab units;
* pool: analytic ``LogExpectedImprovement`` of every remaining row, the argmax taken (lowest row key on ties);
  for n > 1, ``optimize_acqf_discrete`` with qLogEI (sequential greedy over the remaining rows).

With fewer than two completed experiments it proposes random points or rows (seeded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from kiln.bench.peers.common import check_supported, quiet
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, Proposal, available_candidates, training_data
from kiln.strategies.simple import RandomStrategy

if TYPE_CHECKING:
    from botorch.models import SingleTaskGP

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

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "num_restarts": self.num_restarts, "raw_samples": self.raw_samples}


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
