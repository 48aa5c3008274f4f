"""A campaign's experiments held in memory and brought up to date from the store's event log.

Reading a campaign of n experiments costs O(n) rows; a mirror reads them once, then only the experiments that
events since its cursor name, so a server answering many asks on a growing campaign reads O(changes) per ask.
The store stays the source of truth: every ``current()`` call asks it what changed.
"""

from __future__ import annotations

import threading

from kiln.core.records import Experiment
from kiln.store.base import Store


class ExperimentMirror:
    """The experiments of ``campaign`` in ``store``, in seq order; safe to share between threads."""

    def __init__(self, store: Store, campaign: str) -> None:
        self.store = store
        self.campaign = campaign
        self._cursor = 0
        self._ordered: list[Experiment] = []
        self._position: dict[str, int] = {}
        self._lock = threading.Lock()

    def current(self) -> list[Experiment]:
        """Every experiment as the store has it now, in seq order: a new list, of records shared with the mirror
        (frozen; leave their maps unchanged)."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[list[Experiment], int]:
        """``current()`` and the event cursor it is up to date with (events after it are newer)."""
        with self._lock:
            changed, cursor, complete = self.store.changes(self.campaign, after=self._cursor)
            if complete:  # the first look, or the campaign was deleted and made again under its name
                self._ordered, self._position = [], {}
            self._apply(changed)
            self._cursor = cursor
            return list(self._ordered), cursor

    def _apply(self, changed: list[Experiment]) -> None:
        """Replace changed experiments in place and append new ones, keeping seq order."""
        appended = False
        for experiment in changed:
            at = self._position.get(experiment.id)
            if at is None:
                self._position[experiment.id] = len(self._ordered)
                self._ordered.append(experiment)
                appended = True
            else:
                self._ordered[at] = experiment
        if appended and any(a.seq > b.seq for a, b in zip(self._ordered, self._ordered[1:], strict=False)):
            self._ordered.sort(key=lambda e: e.seq)
            self._position = {e.id: i for i, e in enumerate(self._ordered)}
