"""The JSON bodies of the REST API's writes, bounded so that no body makes the server do work out of proportion.

A results map (``{"yield": 82, "cost": 3.1}``) names a campaign's measured quantities; it is refused whole, with one
error, when it has more than ``RESULT_NAMES`` keys or a key longer than ``RESULT_NAME_MAX`` characters, before any
value is looked at (pydantic would otherwise check, and report, every one of a hundred thousand keys).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from kiln.server.limits import IMPORT_ROWS
from kiln.store.schema import NOTE_MAX

RESULT_NAMES = 100
"""Most quantities in one results map (a campaign's targets and constrained quantities are far fewer)."""
RESULT_NAME_MAX = 120
"""Longest quantity name (``kiln.space.parameters.check_name``'s limit)."""

Number = Annotated[float, Field(strict=True)]
"""A result: a JSON number (true and false are not numbers here, nor are numeric strings)."""


def bounded_results(value: Any) -> Any:
    """``value`` unchanged when it is not a map, or a map within the bounds; one error otherwise."""
    if not isinstance(value, dict):
        return value  # pydantic reports what it is
    if len(value) > RESULT_NAMES:
        raise PydanticCustomError(
            "too_many_quantities",
            "a results map holds at most {most} quantities, not {count}; send the campaign's quantities only",
            {"most": RESULT_NAMES, "count": len(value)},
        )
    for key in value:
        if isinstance(key, str) and len(key) > RESULT_NAME_MAX:
            raise PydanticCustomError(
                "quantity_name_too_long",
                "a quantity name has at most {most} characters, not {length}",
                {"most": RESULT_NAME_MAX, "length": len(key)},
            )
    return value


QuantityName = Annotated[str, StringConstraints(min_length=1, max_length=RESULT_NAME_MAX)]
Results = Annotated[
    dict[QuantityName, Number],
    BeforeValidator(bounded_results),
    Field(max_length=RESULT_NAMES),
]
"""Quantity name -> measured value: some or all of the campaign's targets and constrained quantities."""


class AskBody(BaseModel):
    n: int = Field(1, ge=1, le=1000, description="Suggestions wanted.")


class TellBody(BaseModel):
    value: Number | None = Field(None, description="The value of the campaign's single quantity.")
    results: Results | None = Field(
        None,
        description="Quantity name -> value: some or all of the targets and constrained quantities; the experiment "
        "stays pending until every one has a value (the others can be told later).",
    )
    outputs: dict[str, Any] | None = Field(None, description="Other data kept with the result.")
    note: str = Field("", max_length=NOTE_MAX, description="Free text a person wrote about the result.")


class FailBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=10_000)


class AmendBody(BaseModel):
    value: Number | None = Field(None, description="The corrected value (a number, not true/false).")
    results: Results | None = Field(None, description="Corrected quantity name -> value.")
    failure: str | None = Field(None, min_length=1, max_length=10_000, description="Turn it into a failure: why.")
    reason: str = Field(..., min_length=1, max_length=10_000, description="Why it is corrected (kept).")
    expect: int | None = Field(None, ge=0, description="Only if it has been amended this many times.")


class RetractBody(BaseModel):
    reason: str = Field(..., min_length=1, max_length=10_000, description="Why (kept in its history).")
    undo: bool = Field(False, description="Take an earlier retraction back.")


class DiscardBody(BaseModel):
    reason: str = Field("", max_length=10_000, description="Why the suggestion will not be run (optional).")


class ImportBody(BaseModel):
    rows: list[dict[str, Any]] = Field(..., min_length=1, max_length=IMPORT_ROWS)
