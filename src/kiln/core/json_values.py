"""Values made plain JSON, for results and answers that must never fail to serialise."""

import json
import math
from collections.abc import Mapping
from typing import Any


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON: non-finite numbers become None, other objects their text."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    item = getattr(value, "item", None)  # numpy scalars
    return json_safe(item()) if callable(item) else str(value)


def value_from_text(text: str) -> Any:
    """A value typed as text (a CSV cell, ``--output NAME=VALUE``) as JSON: numbers, true/false, null, lists and
    objects are parsed as JSON; anything else (and NaN or infinity) stays the text itself.

    ``"0.93"`` -> 0.93, ``"[1, 2]"`` -> [1, 2], ``'{"T": 410}'`` -> {"T": 410}, ``"red"`` -> "red".
    """
    stripped = text.strip()
    if not stripped:
        return text
    try:
        value = json.loads(stripped)
    except ValueError:
        return text
    return text if _has_non_finite(value) else value


def value_to_text(value: Any) -> Any:
    """A JSON value for one cell of a CSV table (the inverse of ``value_from_text``): numbers and plain text stay
    as they are; true/false/null, nested values and text that would read back as something else (``"42"``) become
    JSON text."""
    if isinstance(value, bool) or value is None or isinstance(value, Mapping | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value_from_text(value) != value:
        return json.dumps(value, ensure_ascii=False)
    return value


def blank(value: Any) -> bool:
    """A table cell with nothing in it: None, NaN or blank text."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Mapping):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_non_finite(v) for v in value)
    return False
