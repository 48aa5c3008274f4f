"""Ax's default generation strategy through the Ax 1.x ``Client`` API, a fresh Client per call.

One target: Ax maximises its utility. Several targets: Ax's multi-objective default, the objective
``"y0, y1, ..."`` (each target's score, maximised; a minimised target is negated), for which its BoTorch step uses
qLogNEHVI with objective thresholds it infers. Outcome constraints go to Ax as outcome constraints
(``"c0 >= bound"`` on the measured value), which it models and enforces itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from kiln.bench.peers.common import PeerProblem, empty_result, peer_problem, quiet, small_seed, to_proposals
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.strategies.base import History, Proposal

METRIC = "utility"
INITIALIZATION_BUDGET = 5
"""Ax's default number of initialisation (centre + Sobol) trials."""


@dataclass(frozen=True)
class AxDefault:
    """``ax.api.Client`` with its default generation strategy ("fast": centre point and Sobol, then BoTorch MBM).

    Every completed experiment is attached as a trial and completed with its utility (Ax maximises it). Once the
    history holds the initialisation budget, the strategy starts without its centre-point node: a fresh Client
    would otherwise spend its first ``get_next_trials`` on one more Sobol point on every call, which a long-lived
    Client does once only.

    Args:
        initial_points: Ax's initialization_budget; None keeps its default (5).
    """

    initial_points: int | None = None
    kind: ClassVar[str] = "ax"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        problem = peer_problem(domain, objective, history, self.kind)
        if empty_result(problem, n):
            return []
        with quiet():
            answers = self._ask(problem, n, small_seed(seed))
        return to_proposals(problem, answers, n, seed)

    def _ask(self, problem: PeerProblem, n: int, seed: int) -> list[dict[str, Any]]:
        from ax.api.client import Client
        from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
        from ax.api.utils.instantiation.from_struct import experiment_from_struct
        from ax.api.utils.structs import ExperimentStruct

        experiment = experiment_from_struct(
            ExperimentStruct(
                parameters=[
                    ChoiceParameterConfig(name=d.key, values=list(d.choices), parameter_type="str", is_ordered=False)
                    if d.choices is not None
                    else RangeParameterConfig(
                        name=d.key, bounds=(d.low, d.high), parameter_type="float", scaling="log" if d.log else "linear"
                    )
                    for d in problem.dims
                ],
                parameter_constraints=[],
                name="kiln",
                description=None,
                experiment_type=None,
                owner=None,
            )
        )
        client = Client(random_seed=seed)
        client.set_experiment(experiment)  # what configure_experiment builds, but the adapter keeps a handle on it
        names = _target_metrics(problem)
        client.configure_optimization(
            objective=", ".join(names),
            outcome_constraints=[f"c{j} {c.op} {c.bound!r}" for j, c in enumerate(problem.constraints)],
        )
        budget = INITIALIZATION_BUDGET if self.initial_points is None else self.initial_points
        client.configure_generation_strategy(
            initialization_budget=self.initial_points,
            initialization_random_seed=seed,
            initialize_with_center=len(problem.X) < budget,
        )
        _tell(client, experiment, problem)
        trials = client.get_next_trials(max_trials=n)
        return [dict(trials[index]) for index in sorted(trials)]

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "initial_points": self.initial_points}


def _target_metrics(problem: PeerProblem) -> list[str]:
    """The objective's metric names: ``utility``, or ``y0, y1, ...`` for several targets."""
    return [f"y{j}" for j in range(problem.Y.shape[1])] if problem.several else [METRIC]


def _metrics(problem: PeerProblem, index: int) -> dict[str, float]:
    """What told point ``index`` measured, by Ax metric name: the targets', then each constrained quantity."""
    targets = problem.Y[index] if problem.several else [problem.y[index]]
    values = {name: float(v) for name, v in zip(_target_metrics(problem), targets, strict=True)}
    return values | {f"c{j}": float(v) for j, v in enumerate(problem.C[index])}


def _tell(client: Any, experiment: Any, problem: PeerProblem) -> None:
    """Attach and complete one trial per completed experiment (``experiment`` is the client's).

    Equivalent to ``attach_trial`` + ``complete_trial(index, {METRIC: value})`` for each, but the data are attached
    to the experiment in one go: ``complete_trial`` re-reads the experiment's data each time (with Ax 1.3, 3.4 s for
    300 trials against 0.2 s), a cost a long-lived Client would never pay at once.
    """
    from ax.core.data import Data
    from ax.core.evaluations_to_data import raw_evaluations_to_data

    signatures = {name: metric.signature for name, metric in experiment.metrics.items()}
    indices, data = [], []
    for row, params in enumerate(problem.X):
        index = client.attach_trial(params)
        arm = experiment.trials[index].arm.name
        data.append(raw_evaluations_to_data({arm: [(math.nan, _metrics(problem, row))]}, signatures, index))
        indices.append(index)
    if data:
        experiment.attach_data(Data.from_multiple_data(data))
        for index in indices:
            experiment.trials[index].mark_completed()
