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

CONFIG_SCHEMA = 3
"""Version of the stored configuration document; bumped when its shape changes. 2: several targets, outcome
constraints and scalarisations in the objective, acquisitions as maps with their own settings. 3: encodings of
categorical parameters and pool text columns (computed tables stored with the campaign)."""

READABLE_SCHEMAS = (1, 2, 3)
"""Schemas this version reads (older documents are read in their current form: a flat kappa moves onto UCB, a
default strategy without ``transform`` keeps "none", text choices stay one-hot). A Kiln that reads only schema 1
refuses a schema-2 document with an "upgrade Kiln" message instead of failing on a shape it does not know."""


@dataclass(frozen=True)
class CampaignConfig:
    """Everything that defines a campaign's behaviour, JSON-able through ``to_json``."""

    domain: Domain
    objective: Objective
    strategy: Strategy
    seed: int = 0
    extra: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        check_column_names(self.domain.names, self.objective.quantities)
        check = getattr(self.strategy, "check_objective", None)
        if callable(check):  # a strategy that cannot optimise this objective says so before anything is stored
            check(self.objective)
        check_domain = getattr(self.strategy, "check_domain", None)
        if callable(check_domain):  # nor one that cannot model this domain (Thompson sampling on layout kernels)
            check_domain(self.domain)

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
        if schema not in READABLE_SCHEMAS or isinstance(schema, bool):
            raise SpecError(
                "campaign config: schema",
                schema,
                f"this Kiln reads schemas {list(READABLE_SCHEMAS)}",
                "upgrade Kiln to open campaigns written by a newer version",
            )
        space = document["space"]
        if schema in (1, 2):
            space = onehot_as_before(space)
        strategy = dict(document["strategy"])
        if strategy.get("kind") == "default":
            strategy.setdefault("transform", "none")  # stored before the option existed: nothing was transformed
        return cls(
            domain=space_from_config(space),
            objective=objective_from_config(document["objective"]),
            strategy=strategy_from_config(strategy),
            seed=int(document.get("seed", 0)),
            extra=document.get("extra"),
        )


def onehot_as_before(space: Any) -> Any:
    """A space stored before encodings existed (schemas 1 and 2), with its text choices one-hot as they were then
    (the default is now ``auto``, which would turn SMILES into descriptors)."""
    if not isinstance(space, Mapping):
        return space
    if space.get("kind") == "pool":
        return {**space, "encoding": "onehot"} if "encodings" not in space else dict(space)
    parameters = space.get("parameters")
    if not isinstance(parameters, list):
        return dict(space)
    return {
        **space,
        "parameters": [
            {**p, "encoding": "onehot"}
            if isinstance(p, Mapping) and p.get("type") == "categorical" and not {"encoding", "descriptors"} & set(p)
            else p
            for p in parameters
        ],
    }


def without_computed(document: Any) -> Any:
    """A configuration document as two documents of one campaign compare: a categorical's ``encoded`` table and a
    pool's ``encodings`` (computed from the user's request when the campaign was made) give way to what they
    resolved to (the encoding kind of each parameter or text column, the element columns), and a composition's
    ``elements`` properties are left out. So the same spec matches its campaign when RDKit or pymatgen now computes
    other numbers, and a campaign stored before encodings (one-hot) matches a spec whose ``auto`` is one-hot too;
    a spec whose encodings would differ still does not match."""
    if not isinstance(document, Mapping) or not isinstance(document.get("space"), Mapping):
        return document
    space = dict(document["space"])
    stored = space.pop("encodings", None)
    if isinstance(stored, Mapping):
        resolved: dict[str, Any] = {
            str(c): e.get("kind") for c, e in stored.items() if c != "(elements)" and isinstance(e, Mapping)
        }
        block = stored.get("(elements)")
        if isinstance(block, Mapping):
            resolved["(elements)"] = block.get("columns")
        space["encoding"] = resolved
    if isinstance(space.get("parameters"), list):
        space["parameters"] = [_resolved_parameter(p) for p in space["parameters"]]
    if isinstance(space.get("compositions"), list):
        space["compositions"] = [
            {k: v for k, v in g.items() if k != "elements"} if isinstance(g, Mapping) else g
            for g in space["compositions"]
        ]
    return {**document, "space": space}


def _resolved_parameter(parameter: Any) -> Any:
    """A categorical's config with its request replaced by the encoding kind it resolved to, table left out."""
    if not isinstance(parameter, Mapping) or not isinstance(parameter.get("encoded"), Mapping):
        return parameter
    kept = {k: v for k, v in parameter.items() if k != "encoded"}
    return {**kept, "encoding": parameter["encoded"].get("kind")}


def config_differences(stored: Any, given: Any, *, path: str = "", limit: int = 3) -> list[str]:
    """Where two configuration documents differ, as lines like ``"strategy.acquisition.kind: stored ucb, spec logei"``.

    Walks maps by key and lists by index (a list of another length is one difference); at most ``limit`` lines.
    """
    found: list[str] = []
    _walk(stored, given, path, found, limit)
    return found


def _walk(stored: Any, given: Any, path: str, found: list[str], limit: int) -> None:
    if len(found) >= limit:
        return
    if isinstance(stored, Mapping) and isinstance(given, Mapping):
        for key in [*stored, *(k for k in given if k not in stored)]:
            _walk(stored.get(key, _UNSET), given.get(key, _UNSET), f"{path}.{key}" if path else str(key), found, limit)
        return
    if isinstance(stored, list | tuple) and isinstance(given, list | tuple):
        if len(stored) != len(given):
            found.append(f"{path or 'config'}: stored {len(stored)} entries, spec {len(given)}")
            return
        for index, (a, b) in enumerate(zip(stored, given, strict=True)):
            _walk(a, b, f"{path}[{index}]", found, limit)
        return
    if stored != given:
        found.append(f"{path or 'config'}: stored {_shown(stored)}, spec {_shown(given)}")


class _Unset:
    def __repr__(self) -> str:
        return "(not set)"


_UNSET = _Unset()


def _shown(value: Any, width: int = 40) -> str:
    """A value as a user wrote it: text bare, others as JSON-like reprs, cut to ``width`` characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def check_column_names(parameters: list[str], targets: list[str]) -> None:
    """Parameters and measured quantities (targets and constrained quantities) become columns of exports and
    imports: their names must not collide."""
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
        raise SpecError(
            "objective: target",
            shared,
            "a target or constrained quantity may not share its name with a parameter",
            "rename one",
        )
