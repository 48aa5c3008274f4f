"""Optuna's TPE, GP and NSGA-II samplers: a fresh in-memory study per call, told every completed experiment.

One target: a maximising study of the utility. Several targets: one maximised value per target's score (a
minimised target is negated), so Optuna's samplers work on the Pareto front (TPE and GP with their
multi-objective paths, NSGA-II with non-dominated sorting). Outcome constraints become each trial's constraint
values (the slack: <= 0 when the constraint holds), which every one of these samplers takes into account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from kiln.bench.peers.common import PeerProblem, empty_result, peer_problem, quiet, small_seed, to_proposals
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.strategies.base import History, Proposal


def _told(problem: PeerProblem) -> tuple[np.ndarray, list[dict[str, float] | None]]:
    """Each told point's values (n, k) and constraint values (None without constraints)."""
    values = problem.Y if problem.several else problem.y.reshape(-1, 1)
    slacks = problem.slacks
    constraints = [{f"c{j}": float(v) for j, v in enumerate(row)} if len(row) else None for row in slacks]
    return values, constraints


def _ask(problem: PeerProblem, sampler: Any, n: int, *, replay: bool = False) -> list[dict[str, Any]]:
    """Build a maximising study (one direction per value), add the history, then ask ``n`` trials.

    The history is added with ``create_trial``, or with ``replay`` as the sampler's own trials (enqueued, asked
    and told in order), for samplers whose state lives in their trials (NSGA-II's generations).
    """
    import optuna
    from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution

    distributions: dict[str, BaseDistribution] = {
        d.key: CategoricalDistribution(d.choices)
        if d.choices is not None
        else FloatDistribution(d.low, d.high, log=d.log)
        for d in problem.dims
    }
    values, constraints = _told(problem)
    study = optuna.create_study(directions=["maximize"] * values.shape[1], sampler=sampler)
    if replay:
        for x, row, bounds in zip(problem.X, values, constraints, strict=True):
            study.enqueue_trial(x)
            trial = study.ask(distributions)
            for name, value in (bounds or {}).items():
                trial.set_constraint(name, value)
            study.tell(trial, [float(v) for v in row])
    else:
        study.add_trials(
            [
                optuna.trial.create_trial(
                    params=x, distributions=distributions, values=[float(v) for v in row], constraints=bounds
                )
                for x, row, bounds in zip(problem.X, values, constraints, strict=True)
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
    """``optuna.samplers.GPSampler`` (a GP with log EI, or log EHVI with several targets, fitted with PyTorch)
    with Optuna's defaults, seeded.

    Args:
        initial_points: random trials before the GP is used; None keeps Optuna's default (10).
    """

    initial_points: int | None = None
    kind: ClassVar[str] = "optuna-gp"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        return _propose_with("GPSampler", self.kind, self.initial_points, domain, objective, history, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "initial_points": self.initial_points}


@dataclass(frozen=True)
class OptunaNSGA2:
    """``optuna.samplers.NSGAIISampler`` with Optuna's defaults (population 50), seeded.

    A long-lived study numbers its trials' generations as they are asked; the adapter replays the history as the
    sampler's own trials in the order they were run, so each call sees the generations a long-lived study would.

    Args:
        population_size: trials per generation; None keeps Optuna's default (50).
    """

    population_size: int | None = None
    kind: ClassVar[str] = "optuna-nsga2"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        problem = peer_problem(domain, objective, history, self.kind)
        if empty_result(problem, n):
            return []
        with quiet():
            import optuna.samplers

            options: dict[str, Any] = {}
            if self.population_size is not None:
                options["population_size"] = self.population_size
            sampler = optuna.samplers.NSGAIISampler(seed=small_seed(seed), **options)
            answers = _ask(problem, sampler, n, replay=True)
        return to_proposals(problem, answers, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "population_size": self.population_size}


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
