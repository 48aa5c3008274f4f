"""The one JSON form of a Revision (kiln history --json, REST history) reads back as the same record (client)."""

from __future__ import annotations

from datetime import UTC, datetime

from kiln.core.records import Change, ExperimentStatus, Revision
from kiln.core.revision_json import revision_from_json, revision_json


def test_a_revision_reads_back_whole() -> None:
    revision = Revision(
        experiment="exp-1",
        number=2,
        change=Change.AMENDED,
        status=ExperimentStatus.COMPLETED,
        results={"y": 3.08, "cost": -1e308},
        reason="",
        retracted=False,
        note="typo in the lab book",
        actor="ana",
        at=datetime(2026, 12, 1, 9, 43, 7, 123456, tzinfo=UTC),
    )
    data = revision_json(revision)
    assert data["at"] == "2026-12-01T09:43:07.123456+00:00" and data["change"] == "amended"
    assert "experiment" not in data
    assert revision_from_json(data, "exp-1") == revision
    assert revision_from_json(data).experiment == ""
