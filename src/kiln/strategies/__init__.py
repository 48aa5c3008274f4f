"""Strategies that propose experiments: random, space-filling, Bayesian optimisation, and the default."""

from kiln.strategies.base import History, Proposal, Strategy
from kiln.strategies.registry import STRATEGY_KINDS, register_strategy, strategy_from_config

__all__ = ["STRATEGY_KINDS", "History", "Proposal", "Strategy", "register_strategy", "strategy_from_config"]
