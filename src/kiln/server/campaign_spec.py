"""The spec of ``POST /campaigns``: what defines a campaign, and nothing that would make the server read a file or
run anything.

A spec sent to the server has the fields of a YAML spec that define a campaign (``SERVER_FIELDS``). A pool comes
inline, as a stored configuration has it (``space: {kind: pool, columns: [...], rows: [[...], ...]}``), or is a
built-in dataset (``pool: {dataset: NAME}``); ``pool: {csv: PATH}`` would read a file on the server's disk and is
refused, as are the fields only ``kiln run`` uses (instruments, workflow, budget, ...), each with a 422 naming the
field instead of being dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln.core.errors import SpecError
from kiln.lab.spec import SPEC_FIELDS, RunSpec, spec_from_dict

SERVER_FIELDS = frozenset({"name", "description", "space", "pool", "objective", "strategy", "seed"})
"""Fields of a spec that the server uses; the others of ``kiln.lab.spec.SPEC_FIELDS`` are for ``kiln run``."""

INLINE_POOL = "space: {kind: pool, columns: [a, b], rows: [[1, 2], [3, 4]]}"


def campaign_spec(document: Any, encoded_choices: int | None = None) -> RunSpec:
    """Check a spec sent to the server, then parse it as ``kiln.lab.spec.spec_from_dict`` does. SpecError naming
    the field for a field the server does not use, a pool read from a file, or more than ``encoded_choices``
    molecules or formulas to encode (counted before any is computed)."""
    if isinstance(document, Mapping):
        unused = sorted(str(k) for k in document if k in SPEC_FIELDS and k not in SERVER_FIELDS)
        if unused:
            raise SpecError(
                unused[0],
                document[unused[0]],
                f"the server keeps campaigns and runs no instruments; it uses the fields {sorted(SERVER_FIELDS)} "
                f"(fields not used: {unused})",
                "remove them; kiln run SPEC drives instruments",
            )
        pool = document.get("pool")
        if isinstance(pool, Mapping) and "csv" in pool:
            raise SpecError(
                "pool.csv",
                pool["csv"],
                "the server reads no files named in a request",
                f"send the pool's rows inline ({INLINE_POOL}) or use pool: {{dataset: NAME}}",
            )
        if encoded_choices is not None:
            _check_encoding_cost(document, encoded_choices)
    return spec_from_dict(document)


def _check_encoding_cost(document: Mapping[str, Any], most: int) -> None:
    """SpecError when the molecules, formulas and elements that the spec would have computed (categorical choices
    and inline pool text values under an encoding other than one-hot, no table of their own or stored encoding
    given; parts of element compositions and element columns of a pool) number more than ``most``."""
    space = document.get("space")
    if not isinstance(space, Mapping):
        return
    count = 0
    if space.get("kind") == "pool":
        count += _pool_cost(space)
    parameters = space.get("parameters")
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, Mapping) and parameter.get("type") == "categorical":
            computed = (
                parameter.get("descriptors") is None
                and parameter.get("encoded") is None
                and parameter.get("encoding") != "onehot"
            )
            choices = parameter.get("choices")
            count += len(choices) if computed and isinstance(choices, list) else 0
    compositions = space.get("compositions")
    for group in compositions if isinstance(compositions, list) else []:
        if isinstance(group, Mapping) and group.get("encoding") == "elements" and group.get("elements") is None:
            parts = group.get("parts")
            count += len(parts) if isinstance(parts, list) else 0
    if count > most:
        raise SpecError(
            "space: encoding",
            count,
            f"this server encodes at most {most} molecules, formulas or elements per campaign it creates",
            "use encoding: onehot for the longer lists, or create the campaign with kiln create on your machine",
        )


def _pool_cost(space: Mapping[str, Any]) -> int:
    """Distinct values of an inline pool that its encodings would compute: every value of a text column (a column
    with any value that is not a number: its numbers become text too) not asked to be one-hot, and every column
    when ``encoding`` is or names "elements"; 0 with stored encodings."""
    requested = space.get("encoding", "auto")
    columns, rows = space.get("columns"), space.get("rows")
    if space.get("encodings") is not None or not isinstance(columns, list) or not isinstance(rows, list):
        return 0
    count = 0
    for j, column in enumerate(columns):
        asked = requested.get(str(column), "auto") if isinstance(requested, Mapping) else requested
        values = [r[j] for r in rows if isinstance(r, list) and len(r) > j]
        text = any(isinstance(v, bool) or not isinstance(v, int | float) for v in values)
        if text and asked != "onehot":
            count += len({str(v) for v in values})
        elif not text and asked == "elements":
            count += 1
    return count
