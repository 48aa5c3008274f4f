"""Benchmark strategy names: configs resolved lazily, peers optional, unknown names listed."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kiln.bench.registry import (
    DEFAULT_STRATEGIES,
    STRATEGIES,
    available_peers,
    resolve_strategies,
    resolve_strategy,
    strategy_names,
)
from kiln.core.errors import KilnError, SpecError


def test_names_and_configs() -> None:
    names = strategy_names()
    for name in ("kiln", "random", "gp-ard-ei", "gp-iso-ucb", "rf-pi"):
        assert name in names
    assert STRATEGIES["kiln"] == {"kind": "default"} and STRATEGIES["random"] == {"kind": "random"}
    assert STRATEGIES["gp-ard-ei"] == {"kind": "bayes", "model": "gp", "ard": True, "acquisition": "logei"}
    assert STRATEGIES["gp-iso-pi"] == {"kind": "bayes", "model": "gp", "ard": False, "acquisition": "pi"}
    assert STRATEGIES["rf-ucb"] == {"kind": "bayes", "model": "forest", "acquisition": "ucb"}
    assert [e.name for e in resolve_strategies(None)] == list(DEFAULT_STRATEGIES) == ["kiln", "random"]
    assert isinstance(available_peers(), list)


def test_entries_build_lazily() -> None:
    assert resolve_strategy("random").build().kind == "random"
    assert resolve_strategy("kiln").build().kind == "default"
    entry = resolve_strategy('{"kind": "sobol"}')
    assert entry.name == '{"kind":"sobol"}' and entry.build().kind == "sobol"
    assert entry.describe() == {"config": {"kind": "sobol"}}
    resolve_strategy("gp-ard-ei")  # resolving never builds: the options may not exist yet
    broken = resolve_strategy('{"kind": "default", "colour": "red"}')
    with pytest.raises(KilnError, match="--strategy"):
        broken.build()


def test_unknown_names_list_every_known_name() -> None:
    with pytest.raises(SpecError) as error:
        resolve_strategy("gp-magic")
    assert error.value.field == "--strategy"
    for name in strategy_names():
        assert name in str(error.value)
    for bad in ("{not json", '{"acquisition": "ucb"}', "[1]"):
        with pytest.raises(SpecError):
            resolve_strategy(bad)
    with pytest.raises(SpecError, match="once"):
        resolve_strategies(["random", "random"])


def test_peers_are_looked_up_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from kiln.bench import registry
    from kiln.bench.backtest import PoolProblem, run_trajectory
    from kiln.strategies.simple import RandomStrategy

    def missing() -> RandomStrategy:
        raise ImportError("No module named 'fancylib'")

    fake = SimpleNamespace(
        PEERS={"fake-peer": RandomStrategy, "broken-peer": missing}, available_peers=lambda: ["fake-peer"]
    )
    monkeypatch.setattr(registry, "_peers_module", lambda: fake)
    assert strategy_names()[-2:] == ["broken-peer", "fake-peer"] and available_peers() == ["fake-peer"]
    entry = resolve_strategy("fake-peer")
    assert entry.peer and entry.describe() == {"peer": "fake-peer"}
    problem = PoolProblem.from_frame(pd.DataFrame({"x": range(20), "y": range(20)}), ["x"], "y")
    assert len(run_trajectory(problem, entry.build(), seed=1, budget=5).found) == 5
    with pytest.raises(SpecError, match="fancylib"):
        resolve_strategy("broken-peer").build()
    with pytest.raises(SpecError) as error:
        resolve_strategy("nope")
    assert "fake-peer" in str(error.value) and "broken-peer" in str(error.value)


def test_hindsight_grid_is_twelve_or_more_distinct_buildable_configs() -> None:
    from kiln.bench.registry import HINDSIGHT_GRID

    configs = [json.dumps(STRATEGIES[name], sort_keys=True) for name in HINDSIGHT_GRID]
    assert len(HINDSIGHT_GRID) >= 12 and len(set(configs)) == len(configs) and "kiln" not in HINDSIGHT_GRID
    for name in HINDSIGHT_GRID:
        resolve_strategy(name).build()
