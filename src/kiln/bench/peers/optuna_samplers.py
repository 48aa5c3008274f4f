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
        return _propose_with("TPESampler", self.kind, self.initial_points, domain, objective, history, n, seed)

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
        return _propose_with("GPSampler", self.kind, self.initial_points, domain, objective, history, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "initial_points": self.initial_points}


def _propose_with(
    sampler: str,
    kind: str,
    initial_points: int | None,
    domain: Domain,
    objective: Objective,
    history: History,
    n: int,
    seed: int,
) -> list[Proposal]:
    """Tell the history to a fresh Optuna study with ``optuna.samplers.<sampler>``, then ask it ``n`` times."""
    problem = peer_problem(domain, objective, history, kind)
    if empty_result(problem, n):
        return []
    with quiet():
        import optuna.samplers

        options: dict[str, Any] = {}
        if initial_points is not None:
            options["n_startup_trials"] = initial_points
        answers = _ask(problem, getattr(optuna.samplers, sampler)(seed=small_seed(seed), **options), n)
    return to_proposals(problem, answers, n, seed)
