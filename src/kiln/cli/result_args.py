"""The results of ``kiln tell`` and ``kiln amend`` as typed: ``82`` (the single quantity) or ``yield=82 cost=3.1``.

A bare value is kept as the text typed and a named one as ``{name: text}``: the campaign's objective reads the
numbers (``Objective.parse_results``), so a bad number or an unknown name gets the same message from the command
line as from Python or the server.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiln.core.errors import ValidationError

EXAMPLE = "e.g. 82 for a single target, or yield=82 cost=3.1 for each quantity measured"


def parse_result_args(items: Sequence[str], *, field: str = "VALUE") -> str | dict[str, str]:
    """``items`` (the command's VALUE arguments) as the value to tell: the text of one bare value, or a map
    quantity name -> text of its value. ValidationError naming ``field`` for no value, several bare values, a bare
    value mixed with named ones, a name without a value (or a value without a name), or a name given twice."""
    items = [item.strip() for item in items]
    if not items or not any(items):
        raise ValidationError(field, list(items), "a measured value is required", EXAMPLE)
    named = [item for item in items if _is_named(item)]
    if not named:
        if len(items) > 1:
            raise ValidationError(
                field,
                list(items),
                "one bare value is the value of the single target; several need their names",
                "name each quantity: yield=82 cost=3.1",
            )
        return items[0]
    if len(named) < len(items):
        bare = [item for item in items if not _is_named(item)]
        raise ValidationError(
            field, bare, "every value needs its quantity's name when several are given", "e.g. yield=82 cost=3.1"
        )
    results: dict[str, str] = {}
    for item in named:
        name, _, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not name:
            raise ValidationError(field, item, "NAME=VALUE needs the quantity's name before '='", "e.g. yield=82")
        if not text:
            raise ValidationError(field, item, f"NAME=VALUE needs a number after '=' for {name!r}", "e.g. yield=82")
        if name in results:
            raise ValidationError(
                field, item, f"each quantity once ({name!r} is given twice)", "keep the one measured value"
            )
        results[name] = text
    return results


def _is_named(item: str) -> bool:
    """Whether ``item`` is ``NAME=VALUE`` rather than a bare value."""
    return "=" in item
