"""Checks of values the SQL store is given: corrections, completions, texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.core.errors import StateError, ValidationError
from kiln.core.records import Change, ExperimentStatus
from kiln.store.base import Completion
from kiln.store.schema import check_text, json_object, note_text, results_map
from kiln.store.schema import experiments as experiment_table


def touched(payload: Mapping[str, Any]) -> list[str]:
    """The experiment ids an event's payload names (``id`` or ``ids``)."""
    single = payload.get("id")
    return [str(i) for i in payload.get("ids", [])] + ([str(single)] if single is not None else [])


def not_dispatched(change: Change) -> list[Any]:
    """Conditions of a discard's compare-and-set: the suggestion was never sent (a dispatch that wins the race
    makes the discard fail, and the other way round)."""
    if change is not Change.DISCARDED:
        return []
    return [experiment_table.c.instrument == "", experiment_table.c.dispatched_at.is_(None)]


CORRECTABLE = (ExperimentStatus.COMPLETED.value, ExperimentStatus.FAILED.value)


def check_correction(row: Any, change: Change, values: Mapping[str, Any], expect: int | None) -> None:
    """StateError (ValidationError for a no-op amendment) unless ``change`` may be applied to ``row`` now."""
    exp_id, status = row.id, row.status
    if change is Change.DISCARDED:
        if status != ExperimentStatus.PENDING.value:
            raise StateError(
                f"experiment {exp_id} is {status}, not pending; only an open suggestion can be discarded "
                "(retract a finished experiment to keep models from learning from it)"
            )
        if row.instrument or row.dispatched_at is not None:
            since = "" if row.dispatched_at is None else f" since {row.dispatched_at.isoformat(timespec='seconds')}"
            raise StateError(
                f"experiment {exp_id} is in flight on instrument {row.instrument!r}{since}: only a suggestion never "
                "sent can be discarded; let it finish and retract its result, or fail it with a reason (kiln fail), "
                "or stop the run that sent it"
            )
        return
    if status == ExperimentStatus.PENDING.value and change is Change.AMENDED and row.results:
        if values["status"] != ExperimentStatus.COMPLETED.value:
            raise StateError(
                f"experiment {exp_id} is pending with part of its results: fail it (kiln fail) rather than amend it "
                "into a failure"
            )
    elif status == ExperimentStatus.PENDING.value:
        raise StateError(
            f"experiment {exp_id} is pending: it has no result to correct yet; record its result with tell (or "
            "fail), or discard it if it will not be run"
        )
    if status not in CORRECTABLE and not (status == ExperimentStatus.PENDING.value and row.results):
        raise StateError(f"experiment {exp_id} is {status}: it was never run, so it has no result to correct")
    if change is Change.RETRACTED and row.retracted:
        raise StateError(f"experiment {exp_id} is retracted already")
    if change is Change.UNRETRACTED and not row.retracted:
        raise StateError(f"experiment {exp_id} is not retracted; there is no retraction to take back")
    if change is Change.AMENDED:
        if expect is not None and row.amended != expect:
            raise StateError(
                f"experiment {exp_id} has been amended {row.amended} times, not {expect}: it changed meanwhile; "
                "look at its history and retry"
            )
        kept = status if status == ExperimentStatus.PENDING.value else values["status"]  # partial stays pending
        if kept == status and dict(values["results"]) == dict(row.results) and values["reason"] == row.reason:
            shown = row.reason if status == ExperimentStatus.FAILED.value else dict(row.results)
            raise ValidationError("value", shown, "a result different from the current one", "give the corrected value")


def checked_completion(completion: Completion, index: int) -> tuple[str, dict[str, Any]]:
    """(id, column values) of one completion of ``record_results``; ValidationError naming it if malformed."""
    where = f"completions[{index}]"
    values = {
        "results": results_map(completion.results, f"{where}.results"),
        "outputs": None if not completion.outputs else json_object(completion.outputs, f"{where}.outputs"),
        "note": note_text(completion.note, f"{where}.note"),
    }
    return str(completion.id), values


def bounded_text(value: Any, field: str, most: int) -> str:
    """``value`` if it is a string of at most ``most`` characters without NUL, else ValidationError naming
    ``field``."""
    if not isinstance(value, str) or len(value) > most:
        raise ValidationError(field, value, f"a string of at most {most} characters", "shorten it")
    return check_text(value, field)


def lookup_text(value: Any, field: str) -> None:
    """A name or id to look up: text without NUL (which PostgreSQL cannot even compare), else ValidationError."""
    if isinstance(value, str):
        check_text(value, field)


def required_names(required: Any) -> list[str]:
    """The quantity names an experiment needs before it is complete: a sequence of strings."""
    if isinstance(required, str) or not all(isinstance(name, str) for name in required):
        raise ValidationError("required", required, "a list of quantity names", "e.g. ['yield', 'cost']")
    return [check_text(name, "required") for name in required]
