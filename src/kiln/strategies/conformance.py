"""The Strategy conformance suite: every strategy, built in or a plug-in, runs these checks.

Use from pytest (``tests/strategies/test_strategy_conformance.py`` runs it for every registered kind)::

    from kiln.strategies.conformance import STRATEGY_CHECKS

    @pytest.mark.parametrize("check", STRATEGY_CHECKS, ids=lambda c: c.__name__)
    def test_my_strategy(check):
        check(MyStrategy())

Each check raises AssertionError saying what broke the contract of ``kiln.strategies.base.Strategy``: at most
``n`` proposals, valid in the domain, distinct from each other and from every pending experiment, in pool mode
never a row already suggested, the row key matching the parameters, deterministic for a seed, fewer only when the
pool runs out, and a JSON configuration that rebuilds the same strategy. A problem the strategy refuses through its
``check_domain`` / ``check_objective`` hooks (a SpecError) is skipped; a strategy must accept at least one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.errors import SpecError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, Target
from kiln.space.config import Domain
from kiln.space.parameters import Categorical, Continuous, Integer
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.base import History, Proposal, Strategy

Check = Callable[[Strategy], None]


@dataclass(frozen=True)
class Problem:
    """A small domain, its objective, and a history on it: completed, pending and failed experiments."""

    name: str
    domain: Domain
    objective: Objective
    history: History


def measured(params: Mapping[str, Any]) -> float:
    """A smooth synthetic response of any parameters (numbers only; a category by its position)."""
    total = 0.0
    for i, value in enumerate(params.values()):
        number = float(ord(value[0]) - 97) / 3 if isinstance(value, str) else float(value)
        total += math.sin(1.3 * (i + 1) * number) - 0.1 * number**2
    return total


def _history(domain: Domain, rows: Sequence[Mapping[str, Any]], keys: Sequence[int | None]) -> History:
    """The first rows completed, the next two pending, the last one failed."""
    experiments = []
    for i, (params, key) in enumerate(zip(rows, keys, strict=True)):
        status = ExperimentStatus.COMPLETED
        if i >= len(rows) - 3:
            status = ExperimentStatus.PENDING if i < len(rows) - 1 else ExperimentStatus.FAILED
        results = {"y": measured(params)} if status is ExperimentStatus.COMPLETED else {}
        reason = "did not form" if status is ExperimentStatus.FAILED else ""
        experiments.append(
            Experiment(
                id=f"exp-{i}",
                seq=i + 1,
                params=dict(params),
                status=status,
                results=results,
                candidate=key,
                reason=reason,
            )
        )
    return History.from_experiments(experiments)


def problems() -> list[Problem]:
    """A mixed search space (continuous, integer, categorical) and a two-column pool, each with a history of six
    completed, two pending and one failed experiment, maximising ``y``."""
    objective = Objective((Target("y"),))
    space = SearchSpace([Continuous("x", 0.0, 1.0), Integer("n", 1, 6), Categorical("s", ("a", "b", "c"))])
    space_rows = [{"x": (0.13 * i + 0.05) % 1.0, "n": 1 + (i * 2) % 6, "s": "abc"[i % 3]} for i in range(9)]
    pool = CandidatePool(["a", "b"], [[i % 6, 0.5 * (i // 6)] for i in range(30)])
    pool_keys = [0, 4, 9, 13, 18, 22, 25, 27, 29]
    pool_rows = [pool.row(k) for k in pool_keys]
    return [
        Problem("mixed space", space, objective, _history(space, space_rows, [None] * 9)),
        Problem("pool", pool, objective, _history(pool, pool_rows, pool_keys)),
    ]


def accepted(strategy: Strategy) -> list[Problem]:
    """The problems the strategy does not refuse through its check hooks; at least one is required."""
    kept = []
    for problem in problems():
        try:
            for hook, argument in (("check_domain", problem.domain), ("check_objective", problem.objective)):
                check = getattr(strategy, hook, None)
                if callable(check):
                    check(argument)
        except SpecError:
            continue
        kept.append(problem)
    assert kept, f"{strategy.kind}: refuses every conformance problem {[p.name for p in problems()]}"
    return kept


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps({k: params[k] for k in sorted(params)}, sort_keys=True, default=str)


def _proposed(
    strategy: Strategy, problem: Problem, n: int, *, seed: int = 7, history: History | None = None
) -> list[Proposal]:
    found = strategy.propose(
        problem.domain, problem.objective, problem.history if history is None else history, n, seed=seed
    )
    assert isinstance(found, list) and all(isinstance(p, Proposal) for p in found), (
        f"{strategy.kind} on {problem.name}: propose must return a list of Proposal, got {type(found).__name__}"
    )
    return found


def check_valid_and_distinct(strategy: Strategy) -> None:
    """n proposals, each valid in the domain (validating changes nothing), distinct from each other."""
    for problem in accepted(strategy):
        found = _proposed(strategy, problem, 3)
        assert len(found) == 3, f"{strategy.kind} on {problem.name}: asked for 3, got {len(found)}"
        for proposal in found:
            valid = problem.domain.validate(proposal.params)
            assert _key(valid) == _key(proposal.params), (
                f"{strategy.kind} on {problem.name}: {dict(proposal.params)} is not a point of the domain as given"
            )
        assert len({_key(p.params) for p in found}) == 3, f"{strategy.kind} on {problem.name}: repeated proposals"


def check_avoids_pending(strategy: Strategy) -> None:
    """No proposal repeats an experiment still running."""
    for problem in accepted(strategy):
        running = {_key(e.params) for e in problem.history.pending}
        for proposal in _proposed(strategy, problem, 3):
            assert _key(proposal.params) not in running, (
                f"{strategy.kind} on {problem.name}: proposed the pending experiment {dict(proposal.params)}"
            )


def check_pool_rows(strategy: Strategy) -> None:
    """In a pool without repeats: each proposal names its row, the row holds its parameters, and no row of the
    history (any status) comes back."""
    for problem in accepted(strategy):
        if not isinstance(problem.domain, CandidatePool):
            continue
        used = problem.history.used_candidates()
        for proposal in _proposed(strategy, problem, 4):
            assert proposal.candidate is not None, f"{strategy.kind}: a pool proposal must carry its row key"
            assert problem.domain.key_of(proposal.params) == proposal.candidate, (
                f"{strategy.kind}: row {proposal.candidate} does not hold {dict(proposal.params)}"
            )
            assert proposal.candidate not in used, f"{strategy.kind}: proposed row {proposal.candidate} again"


def check_deterministic(strategy: Strategy) -> None:
    """The same seed and inputs give the same proposals."""
    for problem in accepted(strategy):
        first = [_key(p.params) for p in _proposed(strategy, problem, 2, seed=11)]
        again = [_key(p.params) for p in _proposed(strategy, problem, 2, seed=11)]
        assert first == again, f"{strategy.kind} on {problem.name}: seed 11 gave {first} then {again}"


def check_empty_history(strategy: Strategy) -> None:
    """A campaign's first ask (nothing measured) gets valid proposals."""
    for problem in accepted(strategy):
        found = _proposed(strategy, problem, 2, history=History())
        assert len(found) == 2, f"{strategy.kind} on {problem.name}, empty history: asked for 2, got {len(found)}"
        for proposal in found:
            problem.domain.validate(proposal.params)


def check_pool_runs_out(strategy: Strategy) -> None:
    """Asking for more than a pool has left gives what is left, each row once."""
    for problem in accepted(strategy):
        if not isinstance(problem.domain, CandidatePool):
            continue
        left = len(problem.domain) - len(problem.history.used_candidates())
        found = _proposed(strategy, problem, left + 5)
        keys = [p.candidate for p in found]
        assert len(found) == left and len(set(keys)) == left, (
            f"{strategy.kind}: {left} rows were left and it proposed {len(found)} ({len(set(keys))} distinct)"
        )


def check_config_round_trip(strategy: Strategy) -> None:
    """``to_config`` is JSON and rebuilds a strategy with the same configuration and the same proposals."""
    from kiln.strategies.registry import strategy_from_config

    config = strategy.to_config()
    text = json.dumps(config)
    rebuilt = strategy_from_config(json.loads(text))
    assert rebuilt.to_config() == config, f"{strategy.kind}: {config} came back as {rebuilt.to_config()}"
    problem = accepted(strategy)[0]
    assert [_key(p.params) for p in _proposed(strategy, problem, 2)] == [
        _key(p.params) for p in _proposed(rebuilt, problem, 2)
    ], f"{strategy.kind}: the rebuilt strategy proposes differently"


STRATEGY_CHECKS: tuple[Check, ...] = (
    check_valid_and_distinct,
    check_avoids_pending,
    check_pool_rows,
    check_deterministic,
    check_empty_history,
    check_pool_runs_out,
    check_config_round_trip,
)
"""Every check of the Strategy contract, in the order they are cheapest to fail."""


def check_strategy(strategy: Strategy) -> None:
    """Run every check on ``strategy``; the first broken one raises AssertionError."""
    for check in STRATEGY_CHECKS:
        check(strategy)
