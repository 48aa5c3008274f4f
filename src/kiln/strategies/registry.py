"""Strategies by stable kind name, and their JSON configurations."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kiln.core.errors import SpecError
from kiln.strategies.base import Strategy


def _random(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.simple import RandomStrategy

    return RandomStrategy(**options)


def _sobol(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.simple import SpaceFillingStrategy

    return SpaceFillingStrategy(**options)


def _bayes(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.acquisition import fold_flat_kappa
    from kiln.strategies.bayes import BayesStrategy

    return BayesStrategy(**fold_flat_kappa(options, "logei", "strategy 'bayes'"))


def _multi(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.multi_objective import MultiObjectiveStrategy

    return MultiObjectiveStrategy(**options)


def _map(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.active import MapStrategy

    return MapStrategy(**options)


def _default(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.acquisition import fold_flat_kappa
    from kiln.strategies.default import DefaultStrategy

    return DefaultStrategy(**fold_flat_kappa(options, "ucb", "strategy 'default'"))


def _dkl(options: dict[str, Any]) -> Strategy:
    from kiln.strategies.dkl import DKLStrategy

    return DKLStrategy(**options)


STRATEGY_KINDS: dict[str, Callable[[dict[str, Any]], Strategy]] = {
    "random": _random,
    "sobol": _sobol,
    "bayes": _bayes,
    "multi": _multi,
    "default": _default,
    "dkl": _dkl,
    "map": _map,
}


def register_strategy(kind: str, factory: Callable[[dict[str, Any]], Strategy]) -> None:
    """Make a strategy available under ``kind`` in specs and stored configurations."""
    STRATEGY_KINDS[kind] = factory


def strategy_from_config(config: Mapping[str, Any] | str | None) -> Strategy:
    """A strategy from ``{kind: ..., **options}`` (or just its kind). None gives the default strategy."""
    if config is None:
        config = {"kind": "default"}
    if isinstance(config, str):
        config = {"kind": config}
    if not isinstance(config, Mapping):
        raise SpecError("strategy", config, "a map with a kind is required", "e.g. {kind: default}")
    options = dict(config)
    kind = options.pop("kind", "default")
    if kind not in STRATEGY_KINDS:
        raise SpecError(
            "strategy: kind",
            kind,
            f"known kinds are {sorted(STRATEGY_KINDS)}",
            "use one of them, or add one with kiln.strategies.register_strategy",
        )
    try:
        return STRATEGY_KINDS[kind](options)
    except TypeError as error:
        raise SpecError(
            f"strategy '{kind}'", sorted(options), f"unknown or missing options ({error})", "see docs/spec.md"
        ) from None
