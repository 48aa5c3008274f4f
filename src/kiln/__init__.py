"""Kiln: an open engine for closed-loop materials and chemistry experiments.

Quick start::

    from kiln import Campaign, Continuous, Objective, SearchSpace

    space = SearchSpace([Continuous("temperature", 20, 200), Continuous("time", 1, 60)])
    campaign = Campaign.create("demo", space=space, objective=Objective.maximize("yield"), store="sqlite:///kiln.db")
    for experiment in campaign.ask(2):
        campaign.tell(experiment.id, 42.0)

Importing kiln is light: PyTorch and BoTorch load only when a model is fitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.core.lazy_names import lazy_names

if TYPE_CHECKING:
    from kiln.campaign import Campaign, CampaignConfig
    from kiln.core import (
        ConflictError,
        Experiment,
        ExperimentStatus,
        KilnError,
        NotFoundError,
        SpecError,
        StateError,
        ValidationError,
    )
    from kiln.objective import Direction, Objective, OutcomeConstraint, Target
    from kiln.space import (
        CandidatePool,
        Categorical,
        Composition,
        Continuous,
        Discrete,
        Integer,
        LinearConstraint,
        SearchSpace,
    )
    from kiln.store import Store, open_store
    from kiln.strategies import strategy_from_config

from kiln.core.version import VERSION as __version__

_HOMES = {
    "kiln.campaign": ("Campaign", "CampaignConfig"),
    "kiln.core": (
        "ConflictError",
        "Experiment",
        "ExperimentStatus",
        "KilnError",
        "NotFoundError",
        "SpecError",
        "StateError",
        "ValidationError",
    ),
    "kiln.objective": ("Direction", "Objective", "OutcomeConstraint", "Target"),
    "kiln.space": (
        "CandidatePool",
        "Categorical",
        "Composition",
        "Continuous",
        "Discrete",
        "Integer",
        "LinearConstraint",
        "SearchSpace",
    ),
    "kiln.store": ("Store", "open_store"),
    "kiln.strategies": ("strategy_from_config",),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())

__all__ = [
    "Campaign",
    "CampaignConfig",
    "CandidatePool",
    "Categorical",
    "Composition",
    "ConflictError",
    "Continuous",
    "Direction",
    "Discrete",
    "Experiment",
    "ExperimentStatus",
    "Integer",
    "KilnError",
    "LinearConstraint",
    "NotFoundError",
    "Objective",
    "OutcomeConstraint",
    "SearchSpace",
    "SpecError",
    "StateError",
    "Store",
    "Target",
    "ValidationError",
    "__version__",
    "open_store",
    "strategy_from_config",
]
