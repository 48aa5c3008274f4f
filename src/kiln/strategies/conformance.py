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
from kiln.space.pool_image import pixel_pool
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
    """A mixed search space (continuous, integer, categorical), a two-column pool and the pixel pool of a small
    overview image (``kiln.space.pool_image``), each with a history of six completed, two pending and one failed
    experiment, maximising ``y``."""
    objective = Objective((Target("y"),))
    space = SearchSpace([Continuous("x", 0.0, 1.0), Integer("n", 1, 6), Categorical("s", ("a", "b", "c"))])
    space_rows = [{"x": (0.13 * i + 0.05) % 1.0, "n": 1 + (i * 2) % 6, "s": "abc"[i % 3]} for i in range(9)]
    pool = CandidatePool(["a", "b"], [[i % 6, 0.5 * (i // 6)] for i in range(30)])
    pool_keys = [0, 4, 9, 13, 18, 22, 25, 27, 29]
    pool_rows = [pool.row(k) for k in pool_keys]
    pixels = pixel_pool(_overview(), patch=5)
    pixel_keys = [0, 17, 40, 63, 77, 90, 101, 120, 143]
    pixel_rows = [pixels.row(k) for k in pixel_keys]
    return [
        Problem("mixed space", space, objective, _history(space, space_rows, [None] * 9)),
        Problem("pool", pool, objective, _history(pool, pool_rows, pool_keys)),
        Problem("image pool", pixels, objective, _history(pixels, pixel_rows, pixel_keys)),
    ]


def _overview() -> list[list[float]]:
    """A 12 x 12 overview image of two bright blobs on a gradient (for strategies that read pool images)."""
    return [
        [
            0.05 * x + math.exp(-((x - 3) ** 2 + (y - 4) ** 2) / 4) + math.exp(-((x - 8) ** 2 + (y - 9) ** 2) / 6)
            for x in range(12)
        ]
        for y in range(12)
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


ASKED = 4
"""Proposals of the standard ask (seed 7, the problem's history) that several checks read."""

_standard: dict[tuple[str, str, str], list[Proposal]] = {}


def _standard_ask(strategy: Strategy, problem: Problem) -> list[Proposal]:
    """The standard ask, made once per strategy configuration and problem (a strategy is deterministic for a
    seed, and ``check_deterministic`` checks that a second ask agrees)."""
    key = (type(strategy).__qualname__, json.dumps(strategy.to_config(), sort_keys=True, default=str), problem.name)
    if key not in _standard:
        _standard[key] = _proposed(strategy, problem, ASKED)
    return _standard[key]


def check_valid_and_distinct(strategy: Strategy) -> None:
    """n proposals, each valid in the domain (validating changes nothing), distinct from each other."""
    for problem in accepted(strategy):
        found = _standard_ask(strategy, problem)
        assert len(found) == ASKED, f"{strategy.kind} on {problem.name}: asked for {ASKED}, got {len(found)}"
        for proposal in found:
            valid = problem.domain.validate(proposal.params)
            assert _key(valid) == _key(proposal.params), (
                f"{strategy.kind} on {problem.name}: {dict(proposal.params)} is not a point of the domain as given"
            )
        assert len({_key(p.params) for p in found}) == ASKED, f"{strategy.kind} on {problem.name}: repeated proposals"


def check_avoids_pending(strategy: Strategy) -> None:
    """No proposal repeats an experiment still running."""
    for problem in accepted(strategy):
        running = {_key(e.params) for e in problem.history.pending}
        for proposal in _standard_ask(strategy, problem):
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
        for proposal in _standard_ask(strategy, problem):
            assert proposal.candidate is not None, f"{strategy.kind}: a pool proposal must carry its row key"
            assert problem.domain.key_of(proposal.params) == proposal.candidate, (
                f"{strategy.kind}: row {proposal.candidate} does not hold {dict(proposal.params)}"
            )
            assert proposal.candidate not in used, f"{strategy.kind}: proposed row {proposal.candidate} again"


def check_deterministic(strategy: Strategy) -> None:
    """The same seed and inputs give the same proposals."""
    for problem in accepted(strategy):
        first = [_key(p.params) for p in _standard_ask(strategy, problem)]
        again = [_key(p.params) for p in _proposed(strategy, problem, ASKED)]
        assert first == again, f"{strategy.kind} on {problem.name}: seed 7 gave {first} then {again}"


def check_empty_history(strategy: Strategy) -> None:
    """A campaign's first ask (nothing measured) gets valid proposals."""
    for problem in accepted(strategy):
        found = _proposed(strategy, problem, 2, history=History())
        assert len(found) == 2, f"{strategy.kind} on {problem.name}, empty history: asked for 2, got {len(found)}"
        for proposal in found:
            problem.domain.validate(proposal.params)


def check_pool_runs_out(strategy: Strategy) -> None:
    """Asking for more than a pool has left gives what is left, each row once (here all but two rows were
    tried: the problem's history, and every other row but two failed)."""
    for problem in accepted(strategy):
        if not isinstance(problem.domain, CandidatePool):
            continue
        used = problem.history.used_candidates()
        free = [k for k in range(len(problem.domain)) if k not in used]
        failed = [
            Experiment(
                id=f"gone-{k}",
                seq=100 + k,
                params=problem.domain.row(k),
                status=ExperimentStatus.FAILED,
                reason="did not form",
                candidate=k,
            )
            for k in free[2:]
        ]
        history = History(problem.history.completed, problem.history.pending, (*problem.history.failed, *failed))
        found = _proposed(strategy, problem, 4, history=history)
        keys = sorted(p.candidate for p in found if p.candidate is not None)
        assert keys == free[:2] and len(found) == 2, (
            f"{strategy.kind} on {problem.name}: rows {free[:2]} were left and it proposed {keys} ({len(found)})"
        )


def check_config_round_trip(strategy: Strategy) -> None:
    """``to_config`` is JSON and rebuilds a strategy with the same configuration and the same proposals."""
    from kiln.strategies.registry import strategy_from_config

    config = strategy.to_config()
    text = json.dumps(config)
    rebuilt = strategy_from_config(json.loads(text))
    assert rebuilt.to_config() == config, f"{strategy.kind}: {config} came back as {rebuilt.to_config()}"
    problem = accepted(strategy)[0]
    assert [_key(p.params) for p in _standard_ask(strategy, problem)] == [
        _key(p.params) for p in _proposed(rebuilt, problem, ASKED)
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
