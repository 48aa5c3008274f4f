"""Records that flow between the campaign, the strategies and the store.

They are small frozen dataclasses of plain JSON-able values so that every store can persist them without pickle.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class ExperimentStatus(enum.StrEnum):
    """Lifecycle of an experiment: pending -> completed | failed | discarded.

    A completed or failed experiment may be amended later (a new value, a failure, or back to a value) and
    retracted (kept in the record, learned from by nothing); see ``Experiment.amended`` and
    ``Experiment.retracted``. A discarded experiment is a suggestion that was never run: not a failure, and
    nothing learns from it.
    """

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    DISCARDED = "discarded"


class Origin(enum.StrEnum):
    """Where an experiment came from."""

    SUGGESTED = "suggested"  # proposed by the campaign's strategy
    IMPORTED = "imported"  # prior data added by the user


DISPATCH_FAILURE = "dispatch to "
"""Start of the reason of an experiment that never reached its instrument (the dispatch kept failing)."""

CANCELLED = "cancelled: "
"""Start of the reason of an experiment cancelled while it ran."""


@dataclass(frozen=True)
class Experiment:
    """One experiment of a campaign: its parameters, and its results once it finished.

    Attributes:
        id: stable id, e.g. ``exp-3f9c2a71d0``.
        seq: 1-based position in the campaign, in the order experiments were created.
        params: parameter name -> value in lab units (float, int or str).
        status: pending, completed, failed or discarded.
        origin: suggested by the strategy or imported as prior data.
        results: target name -> measured value (empty until completed).
        reason: why it failed, or why it was discarded (empty otherwise).
        strategy: the strategy kind that proposed it (empty for imported data).
        batch: the ask() call that created it (0 for imported data).
        candidate: row key in the candidate pool, when the campaign has one.
        created_at / finished_at: UTC timestamps.
        instrument / handle / dispatched_at: where and when it was sent to run (empty until dispatched; the
            handle is empty while the dispatch is recorded but not yet acknowledged by the instrument).
        outputs: anything else recorded with the result (JSON), e.g. each workflow step's measurements.
        note: free text a person recorded with the result (e.g. "film cracked at the edge"); empty if none.
        attention: why an operator must look at it (e.g. in flight on an instrument that cannot be asked
            after a crash); empty when nothing is needed.
        amended: how many times its result was corrected after it first finished (0: as first recorded);
            ``Store.history`` holds every earlier value.
        retracted: True when it stays in the record but no model, ``best``, plot or count of results uses it.
    """

    id: str
    seq: int
    params: Mapping[str, Any]
    status: ExperimentStatus = ExperimentStatus.PENDING
    origin: Origin = Origin.SUGGESTED
    results: Mapping[str, float] = field(default_factory=dict)
    reason: str = ""
    strategy: str = ""
    batch: int = 0
    candidate: int | None = None
    created_at: datetime = field(default_factory=utc_now)
    finished_at: datetime | None = None
    instrument: str = ""
    handle: str = ""
    dispatched_at: datetime | None = None
    attention: str = ""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""
    amended: int = 0
    retracted: bool = False

    @property
    def learned(self) -> bool:
        """Whether models learn from it: finished (completed or failed), and not retracted."""
        return not self.retracted and self.status in (ExperimentStatus.COMPLETED, ExperimentStatus.FAILED)

    @property
    def counts_as_result(self) -> bool:
        """Whether it is a current result: completed and not retracted (what ``best`` and plots use)."""
        return not self.retracted and self.status is ExperimentStatus.COMPLETED


class Change(enum.StrEnum):
    """How a version of an experiment came to be (``Revision.change``)."""

    RECORDED = "recorded"  # the value as first recorded (told, failed, imported, or suggested)
    AMENDED = "amended"  # a new value, or turned into a failure, or back to a value
    RETRACTED = "retracted"
    UNRETRACTED = "unretracted"
    DISCARDED = "discarded"


@dataclass(frozen=True)
class Revision:
    """One version of an experiment's outcome, in its history (``Store.history``), oldest first.

    Attributes:
        experiment: the experiment's id.
        number: 0 for the value as first recorded, then 1, 2, ... for each correction.
        change: how this version came to be (``Change``).
        status / results / reason / retracted: the outcome in this version.
        note: why the change was made (the reason a user gave; empty for version 0).
        actor: who made it: the API token's name on a server, empty for local use.
        at: when this version was recorded (UTC).
    """

    experiment: str
    number: int
    change: Change
    status: ExperimentStatus
    results: Mapping[str, float]
    reason: str
    retracted: bool
    note: str
    actor: str
    at: datetime


class Imported(list[Experiment]):
    """What an import did: the experiments it completed or added (a list), and ``skipped``, how many rows it left
    alone because they repeat what is stored or carry no result."""

    def __init__(self, experiments: Sequence[Experiment] = (), *, skipped: int = 0) -> None:
        super().__init__(experiments)
        self.skipped = skipped


@dataclass(frozen=True)
class CampaignRecord:
    """A campaign as stored: its name and its configuration (a JSON-able dict with a schema version)."""

    id: int
    name: str
    config: Mapping[str, Any]
    created_at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class Event:
    """One entry of a campaign's append-only log; ``cursor`` grows strictly within a store."""

    cursor: int
    campaign: str
    kind: str
    payload: Mapping[str, Any]
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class TokenRecord:
    """An API token as stored: its name, scope ("read", "write" or "admin"), the campaigns it may reach (None:
    all), the SHA-256 of its secret (the secret itself is never stored) and when it was made / revoked."""

    name: str
    scope: str
    campaigns: tuple[str, ...] | None
    secret_hash: str
    created_at: datetime = field(default_factory=utc_now)
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class LeaseRecord:
    """Who runs a campaign now: the holder of its run lease (``kiln run`` takes it; one holder at a time).

    Attributes:
        campaign: the campaign's name.
        owner: the holder's random id (one per run).
        host / pid: where the holder runs (the host name and the process id), for people and for finding a
            holder that died.
        since: when the holder took the lease; heartbeat_at: its last renewal; expires_at: when another run may
            take it over unless it is renewed first (all UTC).
    """

    campaign: str
    owner: str
    host: str
    pid: int
    since: datetime
    heartbeat_at: datetime
    expires_at: datetime
