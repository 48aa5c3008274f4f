"""Build design spaces from JSON-able configurations (the ``space`` section of a spec, or a stored config)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.core.errors import SpecError, ValidationError
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import PARAMETER_KINDS, Parameter
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace

Domain = SearchSpace | CandidatePool
"""Where suggestions come from: a declared space, or a fixed pool of candidates."""

_FIELDS = {
    "continuous": {"name", "type", "low", "high", "log", "unit", "precision", "step"},
    "integer": {"name", "type", "low", "high", "unit"},
    "discrete": {"name", "type", "values", "unit"},
    "categorical": {"name", "type", "choices", "descriptors", "encoding", "smiles", "encoded"},
}


def parameter_from_config(config: Mapping[str, Any], where: str = "space.parameters") -> Parameter:
    """One parameter from ``{name, type, ...}``; unknown types and fields are named in the error."""
    if not isinstance(config, Mapping):
        raise SpecError(
            where,
            config,
            "each parameter is a map with name and type",
            "e.g. {name: T, type: continuous, low: 20, high: 80}",
        )
    kind = config.get("type")
    if not isinstance(kind, str) or kind not in PARAMETER_KINDS:
        raise SpecError(f"{where}: type", kind, f"known types are {sorted(PARAMETER_KINDS)}", "set type to one of them")
    unknown = sorted(set(config) - _FIELDS[str(kind)])
    if unknown:
        raise SpecError(
            f"{where} '{config.get('name')}'",
            unknown,
            f"fields of a {kind} parameter are {sorted(_FIELDS[str(kind)])}",
            "remove or rename them",
        )
    arguments = {k: v for k, v in config.items() if k != "type"}
    _step_as_precision(arguments, f"{where} '{config.get('name')}'")
    if "name" not in arguments:
        raise SpecError(f"{where}: name", None, "every parameter needs a name", "add name: ...")
    for key in ("values", "choices"):
        if key in arguments and isinstance(arguments[key], list):
            arguments[key] = tuple(arguments[key])
    required = {"continuous": ["low", "high"], "integer": ["low", "high"], "discrete": ["values"]}
    missing = [f for f in required.get(str(kind), ["choices"]) if f not in arguments]
    if missing:
        raise SpecError(
            f"{where} '{arguments['name']}'",
            sorted(config),
            f"a {kind} parameter needs the fields {missing}",
            "add them (see docs/spec.md)",
        )
    return PARAMETER_KINDS[str(kind)](**arguments)


def space_from_config(config: Mapping[str, Any]) -> Domain:
    """A SearchSpace (``kind: space``) or CandidatePool (``kind: pool`` with columns and rows)."""
    if not isinstance(config, Mapping):
        raise SpecError("space", config, "a map is required", "see docs/spec.md")
    kind = config.get("kind", "space")
    if kind == "pool":
        for key in ("columns", "rows"):
            if key not in config:
                raise SpecError(f"space.{key}", None, "a pool needs columns and rows", "give a CSV file or a dataset")
        return CandidatePool(
            config["columns"],
            config["rows"],
            allow_repeats=config.get("allow_repeats", False),
            units=config.get("units"),
            encoding=config.get("encoding", "auto"),
            encodings=config.get("encodings"),
            image=_pool_image(config.get("image")),
        )
    if kind != "space":
        raise SpecError("space: kind", kind, "known kinds are 'space' and 'pool'", "fix the kind")
    unknown = sorted(set(config) - {"kind", "parameters", "compositions", "constraints"})
    if unknown:
        raise SpecError("space", unknown, "fields of a space are parameters, compositions, constraints", "remove them")
    parameters = [
        parameter_from_config(p, f"space.parameters[{i}]") for i, p in enumerate(_as_list(config, "parameters"))
    ]
    compositions = []
    for i, group in enumerate(_as_list(config, "compositions")):
        if not isinstance(group, Mapping) or "parts" not in group:
            raise SpecError(f"space.compositions[{i}]", group, "a composition needs name and parts", "add them")
        _reject_unknown(
            group,
            {"name", "parts", "total", "bounds", "unit", "precision", "step", "encoding", "elements"},
            f"space.compositions[{i}]",
        )
        settings = {k: group[k] for k in ("unit", "precision", "step", "encoding", "elements") if k in group}
        _step_as_precision(settings, f"space.compositions[{i}]")
        bounds = group.get("bounds") or {}
        if not isinstance(bounds, Mapping):
            raise SpecError(f"space.compositions[{i}].bounds", bounds, "a map part -> [low, high]", "e.g. {A: [0, 50]}")
        compositions.append(
            Composition(
                name=str(group.get("name", f"composition{i + 1}")),
                parts=group["parts"],
                total=group.get("total", 100.0),
                bounds=dict(bounds),
                **settings,
            )
        )
    constraints = []
    for i, constraint in enumerate(_as_list(config, "constraints")):
        if not isinstance(constraint, Mapping) or "coefficients" not in constraint or "rhs" not in constraint:
            raise SpecError(
                f"space.constraints[{i}]",
                constraint,
                "a constraint needs coefficients, op and rhs",
                "e.g. {coefficients: {x: 1, y: 1}, op: '<=', rhs: 10}",
            )
        _reject_unknown(constraint, {"coefficients", "op", "rhs"}, f"space.constraints[{i}]")
        constraints.append(LinearConstraint(constraint["coefficients"], constraint["rhs"], constraint.get("op", "<=")))
    return SearchSpace(parameters, compositions=compositions, constraints=constraints)


def _pool_image(config: Any) -> Any:
    """The pool's stored image (``kiln.space.pool_image``), None without one; numpy is imported only with one."""
    if config is None:
        return None
    from kiln.space.pool_image import PoolImage

    try:
        return PoolImage.from_config(config, "space.image")
    except ValidationError as error:
        raise SpecError(error.field, error.value, error.allowed, error.fix) from None


def _step_as_precision(arguments: dict[str, Any], where: str) -> None:
    """``step`` is another word for ``precision`` (a pipette's step): move it there; both at once is an error."""
    if "step" not in arguments:
        return
    if "precision" in arguments:
        raise SpecError(where, ["precision", "step"], "give precision or step, not both", "keep one of them")
    arguments["precision"] = arguments.pop("step")


def _reject_unknown(config: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(map(str, set(config) - known))
    if unknown:
        raise SpecError(where, unknown, f"known fields are {sorted(known)}", "remove or rename them")


def _as_list(config: Mapping[str, Any], key: str) -> list[Any]:
    value = config.get(key) or []
    if not isinstance(value, list):
        raise SpecError(f"space.{key}", value, "a list is required", f"write {key} as a YAML list")
    return value


__all__ = ["Domain", "ValidationError", "parameter_from_config", "space_from_config"]
