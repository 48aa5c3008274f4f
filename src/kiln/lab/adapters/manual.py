"""A person as an instrument: the experiment waits until someone records its outcome.

``kiln run`` lists manual experiments as in flight; a person measures them and records the result with
``kiln tell CAMPAIGN ID VALUE`` / ``kiln fail CAMPAIGN ID REASON`` or a CSV import (``kiln import``), from any
shell. The instrument notices by reading the store every ``poll_interval`` seconds. Nothing is held in memory, so
after a restart Kiln simply waits on (``resumable``). A person may record the quantities one at a time (yield today,
stability tomorrow): the experiment stays in flight until the last one (``waits_for_all``), after a restart too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from kiln.campaign import Campaign
from kiln.core.errors import NotFoundError, StateError, ValidationError
from kiln.core.records import CANCELLED, ExperimentStatus
from kiln.lab.protocol import Failure, Observation, Outcome, RunStatus


class ManualInstrument:
    """See the module docstring. The Orchestrator attaches it to its campaign before the first experiment."""

    resumable = True
    waits_for_all = True
    """A person records the quantities one by one: the experiment stays in flight until every one has a value."""

    def __init__(self, name: str = "manual", *, poll_interval: float = 2.0) -> None:
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, int | float) or poll_interval <= 0:
            raise ValidationError("instrument: poll_interval", poll_interval, "a number of seconds > 0", "e.g. 2")
        self.name = name
        self.poll_interval = float(poll_interval)
        self.campaign: Campaign | None = None

    def attach(self, campaign: Campaign) -> None:
        """Read outcomes from ``campaign``'s store."""
        self.campaign = campaign

    def _campaign(self) -> Campaign:
        if self.campaign is None:
            raise StateError(f"manual instrument {self.name!r} is not attached to a campaign")
        return self.campaign

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        if not key:
            raise ValidationError("key", key, "the experiment id", "the Orchestrator passes it")
        return key

    async def _record(self, handle: str) -> Any:
        campaign = self._campaign()
        try:
            return await asyncio.to_thread(campaign.experiment, handle)
        except NotFoundError:
            return None

    async def status(self, handle: str) -> RunStatus:
        record = await self._record(handle)
        if record is None:
            return RunStatus.UNKNOWN
        return {
            ExperimentStatus.PENDING: RunStatus.RUNNING,
            ExperimentStatus.COMPLETED: RunStatus.DONE,
            ExperimentStatus.FAILED: RunStatus.FAILED,
            ExperimentStatus.DISCARDED: RunStatus.CANCELLED,
        }[record.status]

    async def outcome(self, handle: str) -> Outcome:
        while True:
            record = await self._record(handle)
            if record is None:
                return Failure(f"experiment {handle!r} is not in the campaign")
            if record.status is ExperimentStatus.COMPLETED:
                return Observation(dict(record.results))
            if record.status is ExperimentStatus.FAILED:
                return Failure(record.reason)
            if record.status is ExperimentStatus.DISCARDED:
                return Failure(f"{CANCELLED}discarded: {record.reason}")
            await asyncio.sleep(self.poll_interval)

    async def cancel(self, handle: str) -> None:
        return None
