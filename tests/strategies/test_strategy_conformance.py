"""Every registered strategy kind, with its default settings and with the settings that change how it proposes,
runs the shipped Strategy conformance suite (``kiln.strategies.conformance``).

A kind registered without an entry in ``CONFIGS`` runs with its defaults, so a new strategy cannot skip the suite.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiln.strategies.conformance import STRATEGY_CHECKS, Check, problems
from kiln.strategies.registry import STRATEGY_KINDS, strategy_from_config

CONFIGS: dict[str, list[dict[str, Any]]] = {
    "bayes": [{"kind": "bayes"}, {"kind": "bayes", "model": "forest", "acquisition": "ucb"}],
    "default": [{"kind": "default"}, {"kind": "default", "initial": 2}],
    "dkl": [{"kind": "dkl"}, {"kind": "dkl", "acquisition": "ei", "initial": 2, "iterations": 50}],
    "map": [{"kind": "map"}, {"kind": "map", "acquisition": "variance"}, {"kind": "map", "acquisition": "spacefill"}],
}
"""Kinds tested with more than their defaults (e.g. the forest, a short initial design)."""


def configurations() -> list[dict[str, Any]]:
    return [config for kind in sorted(STRATEGY_KINDS) for config in CONFIGS.get(kind, [{"kind": kind}])]


@pytest.mark.parametrize("config", configurations(), ids=lambda c: "-".join(str(v) for v in c.values()))
@pytest.mark.parametrize("check", STRATEGY_CHECKS, ids=lambda c: c.__name__)
def test_strategy_conforms(check: Check, config: dict[str, Any]) -> None:
    check(strategy_from_config(config))


def test_the_suite_catches_a_strategy_that_repeats_itself() -> None:
    """A strategy that proposes one point n times fails the suite (the checks can fail)."""
    from kiln.strategies.base import Proposal
    from kiln.strategies.conformance import check_valid_and_distinct

    class Stuck:
        kind = "stuck"

        def propose(self, domain: Any, objective: Any, history: Any, n: int, *, seed: int) -> list[Proposal]:
            params = {"x": 0.5, "n": 2, "s": "a"} if "x" in domain.names else domain.row(1)
            return [Proposal(params, None if "x" in domain.names else 1)] * n

        def to_config(self) -> dict[str, Any]:
            return {"kind": "stuck"}

    with pytest.raises(AssertionError, match="repeated proposals"):
        check_valid_and_distinct(Stuck())


def test_the_problems_hold_every_status() -> None:
    for problem in problems():
        assert problem.history.completed and len(problem.history.pending) == 2 and len(problem.history.failed) == 1
