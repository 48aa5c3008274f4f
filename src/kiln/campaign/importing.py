"""What an import does with each row: complete a pending suggestion, add new data, or skip a row that repeats
what is stored.

A row's quantity cells (targets and constrained quantities) that are empty, or whose column the table lacks, are
not measured. A row with the id of an experiment of the campaign:

- pending, with values: adds those it has none for yet (completing it once every quantity has one; its
  parameters, where given, must be the experiment's); a value it has already is skipped when the same, refused
  when different (``kiln amend`` corrects it);
- with no value: skipped (nothing to record: an exported pending or failed row);
- finished, with the values stored: skipped (an export imported back as it is);
- finished, with other values: refused, naming ``kiln amend`` (an import never changes a finished experiment).

A row without an id is new data: completed when it has every quantity, else pending with the values it has.

Numbers are compared at the precision they were written with: ``93.4954`` (four decimals) matches a stored
``93.49536836147308``, as does any value within half a step of a parameter's declared ``precision``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kiln.core.errors import ValidationError
from kiln.core.ids import new_id
from kiln.core.json_values import blank
from kiln.core.records import Experiment, ExperimentStatus, Origin
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.parameters import Continuous
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.store.base import Completion


@dataclass(frozen=True)
class ImportPlan:
    """The writes of an import: pending experiments completed, new experiments, and the rows skipped."""

    completions: list[Completion] = field(default_factory=list)
    new: list[Experiment] = field(default_factory=list)
    skipped: int = 0


def plan_import(
    rows: Sequence[Mapping[str, Any]],
    domain: Domain,
    objective: Objective,
    experiments: Sequence[Experiment],
    *,
    campaign: str,
) -> ImportPlan:
    """Check every row (see the module docstring) and return what to store; ValidationError naming the row and
    column of the first bad one (nothing is stored then)."""
    known = {e.id: e for e in experiments}
    plan = ImportPlan()
    seen: set[str] = set()
    skipped = 0
    for row in rows:
        number = row["number"]
        identifier = row["id"]
        if identifier is None:
            plan.new.append(_new_experiment(row, domain, objective))
            continue
        if identifier in seen:
            raise ValidationError(
                f"row {number}: id", identifier, "each experiment may appear once", "remove the repeated row"
            )
        seen.add(identifier)
        existing = known.get(identifier)
        if existing is None:
            raise ValidationError(
                f"row {number}: id",
                identifier,
                "ids must name experiments of this campaign",
                "remove the id to add the row as new data",
            )
        given = _given_params(row, domain, existing)
        told = _told(row)
        if not told:
            skipped += 1  # nothing to record: a pending or failed row of an export
            continue
        results = _checked(number, lambda t=told: objective.parse_results(t))
        if existing.status is ExperimentStatus.PENDING:
            if given:
                raise ValidationError(
                    f"row {number}: parameters {sorted(given)}",
                    {k: row["params"][k] for k in given},
                    f"the row's parameters must be those of experiment {identifier} "
                    f"({ {k: existing.params.get(k) for k in given} })",
                    "correct the row, or remove the id to add it as new data",
                )
            completion = _completion(row, results, existing, campaign)
            if completion is None:
                skipped += 1  # a partly measured experiment's row, as exported: nothing new
            else:
                plan.completions.append(completion)
            continue
        if existing.status is ExperimentStatus.DISCARDED:
            raise ValidationError(
                f"row {number}: id",
                identifier,
                f"experiment {identifier} was discarded (never run), so it takes no result",
                "remove the id to add the row as new data, or remove the row",
            )
        changed = {**given, **_changed_record(row, existing)}
        if changed:
            if existing.status is ExperimentStatus.FAILED:
                stored = f"failed ({existing.reason})"
                values = _amend_values(results, objective.quantities)
                fix = f"record a value for it with kiln amend {campaign} {identifier} {values} --reason TEXT"
            else:
                stored = f"{existing.status.value} with { {k: v[1] for k, v in changed.items()} }"
                values = _amend_values({k: v for k, v in results.items() if k in changed}, ())
                fix = f"correct it with kiln amend {campaign} {identifier} {values} --reason TEXT"
            raise ValidationError(
                f"row {number}: {', '.join(changed)}",
                {k: v[0] for k, v in changed.items()},
                f"experiment {identifier} is {stored}; an import never changes a finished experiment",
                f"{fix}, or remove the row",
            )
        skipped += 1
    return ImportPlan(plan.completions, plan.new, skipped)


def _amend_values(results: Mapping[str, float], every: Sequence[str]) -> str:
    """The NAME=VALUE arguments of a ``kiln amend`` that records ``results`` (with NAME=VALUE for each of ``every``
    not among them); NAME=VALUE when there are none (a changed output or note)."""
    values = [f"{name}={value!r}" for name, value in results.items()]
    values += [f"{name}=VALUE" for name in every if name not in results]
    return " ".join(values) or "NAME=VALUE"


def _told(row: Mapping[str, Any]) -> dict[str, Any]:
    """The quantity cells of ``row`` that hold something (an empty cell: not measured)."""
    return {name: value for name, value in row["results"].items() if not blank(value)}


def _completion(
    row: Mapping[str, Any], results: Mapping[str, float], existing: Experiment, campaign: str
) -> Completion | None:
    """What a row adds to a pending experiment: the values it has none for yet, with the row's new outputs and
    note; None when it adds nothing. ValidationError when it gives another value for a quantity recorded already
    (an import never changes a recorded value), or new outputs or a note without a new value."""
    number, identifier = row["number"], existing.id
    differing = {
        name: (row["results"][name], existing.results[name])
        for name in results
        if name in existing.results
        and not same_value(row["written"].get(name, row["results"][name]), existing.results[name])
    }
    if differing:
        values = _amend_values({name: results[name] for name in differing}, ())
        raise ValidationError(
            f"row {number}: {', '.join(differing)}",
            {k: v[0] for k, v in differing.items()},
            f"experiment {identifier} is pending with { {k: v[1] for k, v in differing.items()} } recorded already; "
            "an import never changes a recorded value",
            f"correct it with kiln amend {campaign} {identifier} {values} --reason TEXT, or remove the row",
        )
    new = {name: value for name, value in results.items() if name not in existing.results}
    outputs = {
        key: value
        for key, value in row["outputs"].items()
        if key not in existing.outputs or not same_value(value, existing.outputs[key])
    }
    note = row["note"] if row["note"] and row["note"] != existing.note else ""
    if not new:
        if outputs or note:
            raise ValidationError(
                f"row {number}: {'outputs' if outputs else 'note'}",
                outputs or note,
                f"experiment {identifier} has every value of this row recorded already; outputs and a note are "
                "recorded with a new value",
                "add them with the row that brings the next value, or remove them",
            )
        return None
    return Completion(identifier, new, outputs or None, note)


def _new_experiment(row: Mapping[str, Any], domain: Domain, objective: Objective) -> Experiment:
    """A row without an id: prior data, completed when it has every quantity, else pending with the values it
    has (the others can be told later)."""
    number = row["number"]
    told = _told(row)
    if not told:
        quantities = objective.quantities
        raise ValidationError(
            f"row {number}: " + (f"result {quantities[0]!r}" if len(quantities) == 1 else "results"),
            row["results"].get(quantities[0]) if len(quantities) == 1 else dict(row["results"]),
            f"a new row needs a measured value for at least one of {quantities} (an empty cell or NaN is none)",
            "fill in the value, or remove the row",
        )
    results = _checked(number, lambda: objective.parse_results(told))
    params = _checked(number, lambda: domain.validate(row["params"]))
    candidate = domain.key_of(params) if isinstance(domain, CandidatePool) else None
    complete = objective.is_complete(results)
    return Experiment(
        id=new_id(),
        seq=0,
        params=params,
        status=ExperimentStatus.COMPLETED if complete else ExperimentStatus.PENDING,
        origin=Origin.IMPORTED,
        results=results,
        candidate=candidate,
        outputs=row["outputs"],
        note=row["note"] or "",
        retracted=bool(row.get("retracted", False)),
    )


def _given_params(row: Mapping[str, Any], domain: Domain, existing: Experiment) -> dict[str, tuple[Any, Any]]:
    """The parameters of ``row`` (those it has, non-empty) that differ from ``existing``'s: name -> (given,
    stored)."""
    differing = {}
    for name, value in row["params"].items():
        if blank(value):
            continue
        stored = existing.params.get(name)
        written = row["written"].get(name, value)
        if not same_value(written, stored, step=_declared_step(domain, name)):
            differing[name] = (value, stored)
    return differing


def _changed_record(row: Mapping[str, Any], existing: Experiment) -> dict[str, tuple[Any, Any]]:
    """What ``row`` records differently from the finished ``existing``: results, outputs given, a note given."""
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in _told(row).items():
        stored = existing.results.get(name)
        if stored is None or not same_value(row["written"].get(name, value), stored):
            changed[name] = (value, stored)
    for key, value in row["outputs"].items():
        if key not in existing.outputs or not same_value(value, existing.outputs[key]):
            changed[f"output {key!r}"] = (value, existing.outputs.get(key))
    note = row["note"]
    if note and note != existing.note:
        changed["note"] = (note, existing.note)
    return changed


def _declared_step(domain: Domain, name: str) -> float | None:
    """The precision a parameter declares (its values are multiples of it), or None."""
    parameter = domain.by_name.get(name) if isinstance(domain, SearchSpace) else None
    return parameter.precision if isinstance(parameter, Continuous) else None


def same_value(given: Any, stored: Any, *, step: float | None = None) -> bool:
    """Whether ``given`` (as written in a table) records ``stored``: numbers within half a unit of the last digit
    written (``93.4954`` matches 93.49536836147308) or within half a declared ``step``; text exactly."""
    number = _number(given)
    if number is not None and isinstance(stored, int | float) and not isinstance(stored, bool):
        difference = abs(number - stored)
        slack = 1e-9 * max(abs(number), abs(stored), 1e-300)
        if difference <= slack:
            return True
        written = written_half_unit(given)
        if written is not None and difference <= written + slack:
            return True
        return step is not None and difference <= step / 2 + slack
    if isinstance(given, str) and not isinstance(stored, str):
        return given.strip() == str(stored)
    return bool(given == stored)


def written_half_unit(value: Any) -> float | None:
    """Half a unit of the last digit ``value`` is written with (``"93.4954"`` -> 0.00005, ``"1.5e-3"`` ->
    0.00005); floats by their shortest text (``repr``). None for what is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = value.strip() if isinstance(value, str) else repr(value)
    try:
        exponent = Decimal(text).as_tuple().exponent
    except InvalidOperation:
        return None
    if not isinstance(exponent, int):  # NaN or infinity
        return None
    return 0.5 * 10.0**exponent


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _checked(row_number: int, build: Any) -> Any:
    """Run ``build`` and prefix a ValidationError's field with the row number."""
    try:
        return build()
    except ValidationError as error:
        raise ValidationError(f"row {row_number}: {error.field}", error.value, error.allowed, error.fix) from None
