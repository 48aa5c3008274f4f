"""``GET .../model``, ``GET .../image-map`` and ``GET .../map`` answers, fitted once per state of a campaign and
bounded in cost.

A fit is keyed by (campaign, event cursor, parameter, points, quantity): the cursor changes with every write to the
campaign, so a cached answer is never stale, and repeated calls between writes do not refit. At most ``size``
answers are kept (least recently used dropped first), fits take turns (one at a time per server), and each is
fitted on at most ``most`` completed experiments: the best one and the most recent others.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kiln.campaign import Campaign
from kiln.core.json_values import json_safe
from kiln.core.records import Experiment
from kiln.strategies.base import History
from kiln.strategies.profile import model_profile


def bounded(experiments: list[Experiment], campaign: Campaign, most: int) -> History:
    """The history to fit on: every experiment, but at most ``most`` completed ones (the best and the latest; the
    latest alone with several targets)."""
    history = History.from_experiments(experiments)
    completed = list(history.completed)
    if len(completed) <= most:
        return history
    if campaign.objective.is_multi:  # no single best: the most recent ones
        kept = completed[-most:]
        return History(completed=tuple(kept), pending=history.pending, failed=history.failed)
    best = completed[campaign.objective.best_index([e.results for e in completed]) or 0]
    latest = [e for e in completed if e.id != best.id][-(most - 1) :] if most > 1 else []
    kept = sorted([best, *latest], key=lambda e: e.seq)
    return History(completed=tuple(kept), pending=history.pending, failed=history.failed)


class ModelCache:
    """Profiles (``kiln.strategies.profile``) by campaign state; see the module docstring. Thread-safe."""

    def __init__(self, size: int, most: int) -> None:
        self.size = size
        self.most = most
        self.fits = 0
        """Fits made so far (a cached answer makes none)."""
        self._answers: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()  # guards _answers
        self._fitting = threading.Lock()  # one fit at a time

    def _cached(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
            return found

    def profile(self, campaign: Campaign, parameter: str, points: int, quantity: str | None = None) -> dict[str, Any]:
        """The model slice along ``parameter`` (of ``quantity``, or of the single target) as JSON, from the cache
        when the campaign has not changed."""

        def fit(experiments: list[Experiment]) -> Any:
            return model_profile(
                campaign.strategy,
                campaign.domain,
                campaign.objective,
                bounded(experiments, campaign, self.most),
                parameter,
                points=points,
                quantity=quantity,
            )

        return self._answer(campaign, (parameter, str(points)), quantity, fit)

    def image_map(self, campaign: Campaign, quantity: str | None = None) -> dict[str, Any]:
        """The model's map over the campaign's overview image (``kiln.strategies.image_map``) as JSON, from the
        cache when the campaign has not changed; fitted on at most ``most`` completed experiments (the latest)."""
        from kiln.strategies.image_map import image_map

        def fit(experiments: list[Experiment]) -> Any:
            history = History.from_experiments(experiments)
            return image_map(
                campaign.strategy, campaign.domain, campaign.objective, history, target=quantity, most=self.most
            )

        return self._answer(campaign, ("image map",), quantity, fit)

    def map_error(self, campaign: Campaign) -> dict[str, Any]:
        """The estimated error of the campaign's map of every target (``kiln.campaign.map_error``) as JSON, from
        the cache when the campaign has not changed; fitted on at most ``most`` completed experiments."""
        from kiln.campaign.map_error import map_error

        def fit(experiments: list[Experiment]) -> Any:
            history = bounded(experiments, campaign, self.most)
            kept = [*history.completed, *history.pending, *history.failed]
            return map_error(campaign.domain, campaign.objective, kept, seed=campaign.config.seed)

        return self._answer(campaign, ("map error",), None, fit)

    def _answer(
        self,
        campaign: Campaign,
        what: tuple[str, ...],
        quantity: str | None,
        fit: Callable[[list[Experiment]], Any],
    ) -> dict[str, Any]:
        """A cached answer for this state of the campaign, or ``fit(experiments)`` (a dataclass) as JSON."""
        experiments, cursor = campaign.snapshot()
        key = (campaign.name, cursor, *what, quantity)
        cached = self._cached(key)
        if cached is not None:
            return cached  # without waiting for another campaign's fit
        with self._fitting:
            cached = self._cached(key)  # fitted meanwhile by a call that held the turn
            if cached is not None:
                return cached
            found = fit(experiments)
            self.fits += 1
            answer: dict[str, Any] = json_safe(dataclasses.asdict(found))
            with self._lock:
                self._answers[key] = answer
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return answer
