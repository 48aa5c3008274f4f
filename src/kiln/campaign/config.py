"""A campaign's configuration: the JSON document stored with it, and how it is built back into objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.campaign.table import EXPORT_COLUMNS_AFTER, EXPORT_COLUMNS_BEFORE
from kiln.core.errors import SpecError
from kiln.objective import Objective, objective_from_config
from kiln.space.config import Domain, space_from_config
from kiln.strategies.base import Strategy
from kiln.strategies.registry import strategy_from_config

CONFIG_SCHEMA = 1
"""Version of the stored configuration document; bumped when its shape changes."""


@dataclass(frozen=True)
class CampaignConfig:
    """Everything that defines a campaign's behaviour, JSON-able through ``to_json``."""

    domain: Domain
    objective: Objective
    strategy: Strategy
    seed: int = 0
    extra: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        check_column_names(self.domain.names, self.objective.names)

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schema": CONFIG_SCHEMA,
            "space": self.domain.to_config(),
            "objective": self.objective.to_config(),
            "strategy": self.strategy.to_config(),
            "seed": self.seed,
        }
        if self.extra:
            document["extra"] = dict(self.extra)
        return document

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> CampaignConfig:
        schema = document.get("schema")
        if schema != CONFIG_SCHEMA:
            raise SpecError(
                "campaign config: schema",
                schema,
                f"this Kiln reads schema {CONFIG_SCHEMA}",
                "upgrade Kiln to open campaigns written by a newer version",
            )
        strategy = dict(document["strategy"])
        if strategy.get("kind") == "default":
            strategy.setdefault("transform", "none")  # stored before the option existed: nothing was transformed
        return cls(
            domain=space_from_config(document["space"]),
            objective=objective_from_config(document["objective"]),
            strategy=strategy_from_config(strategy),
            seed=int(document.get("seed", 0)),
            extra=document.get("extra"),
        )


def check_column_names(parameters: list[str], targets: list[str]) -> None:
    """Parameters and targets become columns of exports and imports: their names must not collide."""
    reserved = {*EXPORT_COLUMNS_BEFORE, *EXPORT_COLUMNS_AFTER}
    for name in (*parameters, *targets):
        if name in reserved:
            raise SpecError(
                "name",
                name,
                f"names of parameters and targets may not be one of the table's own columns {sorted(reserved)}",
                "rename it, e.g. with a unit or a prefix",
            )
    shared = sorted(set(parameters) & set(targets))
    if shared:
        raise SpecError("objective: target", shared, "a target may not share its name with a parameter", "rename one")
