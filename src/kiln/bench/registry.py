"""Strategy names of the benchmarks: Kiln's own strategies as configs, and peer libraries loaded lazily.

A name resolves to a ``StrategyEntry``; nothing is built until ``StrategyEntry.build`` is called (at run time), so
listing the names never fails, even when a config needs options or libraries that are not there yet.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiln.core.errors import KilnError, SpecError
from kiln.strategies.base import Strategy


def _bayes(model: str, ard: bool | None, acquisition: str) -> dict[str, Any]:
    config: dict[str, Any] = {"kind": "bayes", "model": model, "ard": ard, "acquisition": acquisition}
    return {k: v for k, v in config.items() if v is not None}


_ACQUISITIONS = {"ei": "logei", "pi": "pi", "ucb": "ucb"}

STRATEGIES: dict[str, dict[str, Any]] = {
    "kiln": {"kind": "default"},
    "random": {"kind": "random"},
    "sobol": {"kind": "sobol"},
    **{f"gp-ard-{short}": _bayes("gp", True, acq) for short, acq in _ACQUISITIONS.items()},
    **{f"gp-iso-{short}": _bayes("gp", False, acq) for short, acq in _ACQUISITIONS.items()},
    **{f"rf-{short}": _bayes("forest", None, acq) for short, acq in _ACQUISITIONS.items()},
    **{
        f"gp-ard-ucb-k{kappa:g}": {**_bayes("gp", True, "ucb"), "acquisition": {"kind": "ucb", "kappa": kappa}}
        for kappa in (1.0, 4.0)
    },
    "gp-ard-ucb-power": {**_bayes("gp", True, "ucb"), "transform": "power"},
    "gp-iso-ucb-power": {**_bayes("gp", False, "ucb"), "transform": "power"},
    "gp-ard-ei-power": {**_bayes("gp", True, "logei"), "transform": "power"},
    "gp-rbf-ard-ucb": {**_bayes("gp", True, "ucb"), "kernel": "rbf"},
    "map-ipv": {"kind": "map", "acquisition": "ipv"},
    "map-variance": {"kind": "map", "acquisition": "variance"},
}
"""Kiln's strategies by benchmark name: configs for ``kiln.strategies.strategy_from_config``. Besides the default,
random and Sobol, the fifteen fixed configurations (kernels, ARD or not, acquisitions, UCB's kappa, output
transforms, the forest) are the grid whose best on a dataset, chosen in hindsight, bounds what any fixed default
could do there (``HINDSIGHT_GRID``; docs/benchmarks.md)."""

HINDSIGHT_GRID: tuple[str, ...] = tuple(
    name for name in STRATEGIES if name not in ("kiln", "random", "sobol") and not name.startswith("map-")
)

MAP_STRATEGIES: tuple[str, ...] = ("kiln", "random", "sobol")
"""The strategies of ``kiln bench pool --goal map`` when none are named: the default (active learning under
``goal: map``) beside random and space-filling sampling."""

DEFAULT_STRATEGIES: tuple[str, ...] = ("kiln", "random")
PEERS_EXTRA = "pip install 'kiln[peers]'"


@dataclass(frozen=True)
class StrategyEntry:
    """A named strategy: a Kiln config, or a peer library's factory (looked up by name when built)."""

    name: str
    config: dict[str, Any] | None = field(default=None)
    peer: bool = False

    def build(self) -> Strategy:
        """The strategy object; a KilnError (one line) if its config or its library is not usable here."""
        if self.peer:
            factory = peer_factories().get(self.name)
            if factory is None:
                raise SpecError("--strategy", self.name, "this peer is not available here", f"run {PEERS_EXTRA}")
            try:
                return factory()
            except ImportError as error:
                raise SpecError(
                    "--strategy", self.name, f"its library is not installed ({error})", f"run {PEERS_EXTRA}"
                ) from None
        from kiln.strategies.registry import strategy_from_config

        try:
            return strategy_from_config(self.config)
        except KilnError as error:
            raise SpecError("--strategy", self.name, f"it cannot be built here ({error})", None) from None

    def describe(self) -> dict[str, Any]:
        """JSON-able description for results files: ``{"config": {...}}`` or ``{"peer": name}``."""
        return {"peer": self.name} if self.peer else {"config": dict(self.config or {})}


def _peers_module() -> Any:
    """``kiln.bench.peers`` (written separately; it may be missing or incomplete), or None."""
    import importlib

    try:
        return importlib.import_module("kiln.bench.peers")
    except ImportError:
        return None


def peer_factories() -> Mapping[str, Callable[[], Strategy]]:
    """Every known peer (``kiln.bench.peers.PEERS``), or nothing when that module is missing."""
    peers = getattr(_peers_module(), "PEERS", None)
    return dict(peers) if isinstance(peers, Mapping) else {}


def available_peers() -> list[str]:
    """The peers whose libraries are installed (``kiln.bench.peers.available_peers()``), or none."""
    available = getattr(_peers_module(), "available_peers", None)
    if available is None:
        return []
    try:
        return sorted(available())
    except Exception:  # a broken optional library must not break the listing
        return []


def strategy_names() -> list[str]:
    """Every known name: Kiln's strategies, then the peers (installed or not)."""
    return [*STRATEGIES, *sorted(set(peer_factories()) - set(STRATEGIES))]


def resolve_strategy(name: str) -> StrategyEntry:
    """The entry called ``name``, or a JSON config ``{"kind": ...}`` named by its own text.

    Raises SpecError listing every known name when ``name`` is unknown.
    """
    text = name.strip()
    if text.startswith("{"):
        try:
            config = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError("--strategy", name, f"a JSON strategy config is required ({error.msg})", None) from None
        if not isinstance(config, dict) or "kind" not in config:
            raise SpecError("--strategy", name, "a JSON object with a kind is required", 'e.g. {"kind": "default"}')
        return StrategyEntry(json.dumps(config, separators=(",", ":")), config)
    if text in STRATEGIES:
        return StrategyEntry(text, dict(STRATEGIES[text]))
    if text in peer_factories():
        return StrategyEntry(text, None, peer=True)
    raise SpecError(
        "--strategy",
        name,
        f"known strategies are {strategy_names()}",
        'or give a JSON config such as \'{"kind": "default"}\'',
    )


def resolve_strategies(names: list[str] | None) -> list[StrategyEntry]:
    """Entries for ``names`` in order (``DEFAULT_STRATEGIES`` when empty); a name given twice is an error."""
    entries = [resolve_strategy(n) for n in (names or DEFAULT_STRATEGIES)]
    seen: set[str] = set()
    for entry in entries:
        if entry.name in seen:
            raise SpecError("--strategy", entry.name, "each strategy may be given once", "remove the repeat")
        seen.add(entry.name)
    return entries
