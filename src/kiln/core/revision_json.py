"""The JSON form of a Revision, one for every view that writes it (``kiln history --json``, REST
``GET .../experiments/{id}/history``) and its reading back (the Python client)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kiln.core.records import Change, ExperimentStatus, Revision


def revision_json(revision: Revision) -> dict[str, Any]:
    """``revision`` as JSON: number, change, status, results ({name: value}), reason, retracted, note, actor and
    at (ISO 8601, UTC); the experiment's id is left out (the caller names it)."""
    return {
        "number": revision.number,
        "change": revision.change.value,
        "status": revision.status.value,
        "results": dict(revision.results),
        "reason": revision.reason,
        "retracted": revision.retracted,
        "note": revision.note,
        "actor": revision.actor,
        "at": revision.at.isoformat(),
    }


def revision_from_json(data: Mapping[str, Any], experiment: str = "") -> Revision:
    """The Revision of experiment ``experiment`` that ``revision_json`` wrote as ``data``."""
    return Revision(
        experiment=experiment,
        number=int(data["number"]),
        change=Change(data["change"]),
        status=ExperimentStatus(data["status"]),
        results={k: float(v) for k, v in data["results"].items()},
        reason=data["reason"],
        retracted=bool(data["retracted"]),
        note=data["note"],
        actor=data["actor"],
        at=datetime.fromisoformat(data["at"]),
    )
