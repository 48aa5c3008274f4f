"""Optuna's TPE and GP samplers: a fresh in-memory study per call, told every completed experiment as a trial."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kiln.bench.peers.common import PeerProblem, empty_result, peer_problem, quiet, small_seed, to_proposals
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.strategies.base import History, Proposal


def _ask(problem: PeerProblem, sampler: Any, n: int) -> list[dict[str, Any]]:
    """Build a maximising study, add the history with ``create_trial``, then ask ``n`` trials."""
    import optuna
    from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution

    distributions: dict[str, BaseDistribution] = {
        d.key: CategoricalDistribution(d.choices)
        if d.choices is not None
        else FloatDistribution(d.low, d.high, log=d.log)
        for d in problem.dims
    }
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.add_trials(
        [
            optuna.trial.create_trial(params=x, distributions=distributions, value=float(v))
            for x, v in zip(problem.X, problem.y, strict=True)
        ]
    )
    return [dict(study.ask(distributions).params) for _ in range(n)]


@dataclass(frozen=True)
class OptunaTPE:
    """``optuna.samplers.TPESampler`` with Optuna's defaults, seeded.

    Args:
        initial_points: random trials before TPE is used; None keeps Optuna's default (10).
    """

    initial_points: int | None = None
    kind: ClassVar[str] = "optuna-tpe"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        problem = peer_problem(domain, objective, history, self.kind)
        if empty_result(problem, n):
            return []
        with quiet():
            from optuna.samplers import TPESampler

            options: dict[str, Any] = {}
            if self.initial_points is not None:
                options["n_startup_trials"] = self.initial_points
            answers = _ask(problem, TPESampler(seed=small_seed(seed), **options), n)
        return to_proposals(problem, answers, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "initial_points": self.initial_points}


@dataclass(frozen=True)
class OptunaGP:
    """``optuna.samplers.GPSampler`` (a GP with log EI, fitted with PyTorch) with Optuna's defaults, seeded.

    Args:
        initial_points: random trials before the GP is used; None keeps Optuna's default (10).
    """

    initial_points: int | None = None
    kind: ClassVar[str] = "optuna-gp"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        problem = peer_problem(domain, objective, history, self.kind)
        if empty_result(problem, n):
            return []
        with quiet():
            from optuna.samplers import GPSampler

            options: dict[str, Any] = {}
            if self.initial_points is not None:
                options["n_startup_trials"] = self.initial_points
            answers = _ask(problem, GPSampler(seed=small_seed(seed), **options), n)
        return to_proposals(problem, answers, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "initial_points": self.initial_points}
