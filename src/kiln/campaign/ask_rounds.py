"""Asks of one campaign that arrive together, answered together: one fit and one batch acquisition.

A server gets asks for the same campaign from many clients at once. Answering them one after the other costs one
model fit and one acquisition each, and each ask waits for all those before it. ``AskRounds`` instead collects the
asks that arrive while a round runs and answers all of them with the next round: one ``Campaign.ask`` for their
summed size, whose batch acquisition treats the other clients' suggestions as pending points. Each caller gets its
own share of that batch, in arrival order.

Rounds of one campaign never overlap, so no ask is made from a stale history. A round that raises passes the error
to every ask it answered; the next round starts afresh.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections import deque
from dataclasses import dataclass, field

from kiln.campaign.campaign import MAX_BATCH, Campaign, batch_size
from kiln.core.records import Experiment


@dataclass
class _Ask:
    n: int
    future: concurrent.futures.Future[list[Experiment]] = field(default_factory=concurrent.futures.Future)


class AskRounds:
    """Combines concurrent asks of ``campaign`` into rounds run on ``executor`` (one round at a time).

    Thread-safe: ``submit`` may be called from any thread. A round answers at most ``most`` experiments (the
    campaign's largest batch); asks beyond that wait for the round after.
    """

    def __init__(self, campaign: Campaign, executor: concurrent.futures.Executor, *, most: int = MAX_BATCH) -> None:
        self.campaign = campaign
        self.most = batch_size(most)
        self._executor = executor
        self._lock = threading.Lock()
        self._waiting: deque[_Ask] = deque()
        self._running = False
        self.rounds = 0
        """Rounds run so far (each is one ``Campaign.ask``)."""

    def submit(self, n: int) -> concurrent.futures.Future[list[Experiment]]:
        """Ask for ``n`` experiments; the future holds them (fewer only when a pool ran out) or the round's error.

        Raises ValidationError at once for a bad ``n``, before anything is queued.
        """
        ask = _Ask(batch_size(n))
        with self._lock:
            self._waiting.append(ask)
            if not self._running:
                self._running = True
                self._executor.submit(self._run)
        return ask.future

    def ask(self, n: int) -> list[Experiment]:
        """``submit`` and wait for the answer."""
        return self.submit(n).result()

    def _take(self) -> list[_Ask]:
        """The asks of the next round (at least one while any waits), oldest first; ends the run when none."""
        with self._lock:
            taken: list[_Ask] = []
            total = 0
            while self._waiting and (not taken or total + self._waiting[0].n <= self.most):
                ask = self._waiting.popleft()
                if ask.future.set_running_or_notify_cancel():  # False: the caller gave up on it
                    taken.append(ask)
                    total += ask.n
            if not taken:
                self._running = False
            return taken

    def _run(self) -> None:
        while taken := self._take():
            self.rounds += 1
            try:
                made = self.campaign.ask(sum(a.n for a in taken))
            except Exception as error:  # handed to every ask of the round, the next round goes on
                for ask in taken:
                    ask.future.set_exception(error)
                continue
            start = 0
            for ask in taken:
                ask.future.set_result(made[start : start + ask.n])
                start += ask.n
