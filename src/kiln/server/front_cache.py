"""``GET .../front`` answers (the Pareto front and its hypervolume curve), computed once per state of a campaign.

Keyed by (campaign, event cursor) as the model cache is: the cursor changes with every write, so an answer is
never stale, and the dashboard's polling between writes costs nothing. At most ``size`` answers are kept (least
recently used dropped first) and one is computed at a time per server.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from kiln.campaign import Campaign
from kiln.core.json_values import json_safe
from kiln.report.front import front_json


class FrontCache:
    """Front answers by campaign state; see the module docstring. Thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.computed = 0
        """Answers computed so far (a cached answer computes none)."""
        self._answers: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()  # guards _answers
        self._computing = threading.Lock()  # one computation at a time

    def _cached(self, key: tuple[str, int]) -> dict[str, Any] | None:
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
            return found

    def front(self, campaign: Campaign) -> dict[str, Any]:
        """``kiln.report.front.front_json`` of the campaign now, with the ``cursor`` it is up to date with."""
        experiments, cursor = campaign.snapshot()
        key = (campaign.name, cursor)
        cached = self._cached(key)
        if cached is not None:
            return cached
        with self._computing:
            cached = self._cached(key)
            if cached is not None:
                return cached
            answer: dict[str, Any] = json_safe({**front_json(campaign.objective, experiments), "cursor": cursor})
            self.computed += 1
            with self._lock:
                self._answers[key] = answer
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return answer
