"""scikit-optimize's GP optimiser (the engine of ``gp_minimize``), rebuilt from the history on every call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kiln.bench.peers.common import empty_result, peer_problem, quiet, single_objective, small_seed, to_proposals
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.strategies.base import History, Proposal


@dataclass(frozen=True)
class SkoptGP:
    """``skopt.Optimizer(base_estimator="GP")`` told every completed experiment (as -utility: skopt minimises).

    Args:
        acq_func: skopt's acquisition, "gp_hedge" (its default and gp_minimize's: a portfolio of EI, PI and LCB),
            "EI", "PI" or "LCB".
        initial_points: random points before the GP is used; None keeps skopt's default (10).
    """

    acq_func: str = "gp_hedge"
    initial_points: int | None = None
    kind: ClassVar[str] = "skopt-gp"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        problem = peer_problem(domain, objective, history, self.kind)
        single_objective(problem, self.kind)
        if empty_result(problem, n):
            return []
        with quiet():
            from skopt import Optimizer
            from skopt.space import Categorical, Real

            dimensions = [
                Categorical(list(d.choices), name=d.key)
                if d.choices is not None
                else Real(d.low, d.high, prior="log-uniform" if d.log else "uniform", name=d.key)
                for d in problem.dims
            ]
            options: dict[str, Any] = {}
            if self.initial_points is not None:
                options["n_initial_points"] = self.initial_points
            optimizer = Optimizer(
                dimensions, base_estimator="GP", acq_func=self.acq_func, random_state=small_seed(seed), **options
            )
            if problem.X:
                optimizer.tell([[x[d.key] for d in problem.dims] for x in problem.X], [float(-v) for v in problem.y])
            asked = optimizer.ask(n_points=n) if n > 1 else [optimizer.ask()]
        answers = [{d.key: value for d, value in zip(problem.dims, point, strict=True)} for point in asked]
        return to_proposals(problem, answers, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "acq_func": self.acq_func, "initial_points": self.initial_points}
