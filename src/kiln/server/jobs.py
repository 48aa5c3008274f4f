"""Asks running in worker threads, each with an unguessable job id to poll; bounded in number and in time.

The asks of one campaign go through its ``AskRounds``: those that arrive while a round runs are answered together
by the next one (one fit, one batch acquisition), so many clients of one campaign do not each wait for a fit of
their own, and no ask is made from a stale history.

Bounds (``ServerLimits``): at most ``open_asks`` asks queued or running (``Busy`` beyond: the server answers 429
with Retry-After); a finished job is kept ``job_seconds`` to be polled, and at most ``jobs_kept`` finished jobs
are kept (oldest dropped first).
"""

from __future__ import annotations

import concurrent.futures
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from kiln.campaign import Campaign
from kiln.campaign.ask_rounds import AskRounds
from kiln.core.errors import KilnError
from kiln.core.records import Experiment
from kiln.server.limits import ServerLimits


class Busy(KilnError):
    """Too many asks queued or running; try again after ``retry_after`` seconds (429)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Job:
    """One ask: the campaign it asks of, and its future (the experiments, or the error)."""

    campaign: str
    future: concurrent.futures.Future[list[Experiment]]


class Jobs:
    """The asks of a server (see the module docstring). Thread-safe."""

    def __init__(self, limits: ServerLimits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="kiln-ask")
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, Job] = {}
        self._finished: OrderedDict[str, tuple[float, Job]] = OrderedDict()  # oldest first
        self._rounds: dict[str, AskRounds] = {}

    def ask(self, campaign: Campaign, n: int) -> tuple[str, concurrent.futures.Future[list[Experiment]]]:
        """Queue an ask of ``n`` experiments of ``campaign``; its job id and future. Busy when ``open_asks`` asks
        are queued or running already."""
        with self._lock:
            self._settle()
            if len(self._open) >= self.limits.open_asks:
                raise Busy(
                    f"the server has {len(self._open)} asks queued or running (at most {self.limits.open_asks}); "
                    f"ask again in {self.limits.retry_after} s",
                    self.limits.retry_after,
                )
            rounds = self._rounds.get(campaign.name)
            if rounds is None or rounds.campaign is not campaign:  # first ask, or the campaign was made anew
                rounds = self._rounds[campaign.name] = AskRounds(campaign, self.pool)
            job = f"job-{secrets.token_urlsafe(18)}"
            future = rounds.submit(n)
            self._open[job] = Job(campaign.name, future)
        return job, future

    def get(self, job: str) -> Job | None:
        """The job of that id, or None (never made, or dropped)."""
        with self._lock:
            self._settle()
            found = self._open.get(job)
            if found is not None:
                return found
            kept = self._finished.get(job)
            return None if kept is None else kept[1]

    def open_count(self) -> int:
        """Asks queued or running now."""
        with self._lock:
            self._settle()
            return len(self._open)

    def _settle(self) -> None:
        """Move finished jobs out of the open ones; drop those kept too long or beyond the count (lock held)."""
        now = self._clock()
        for job, entry in [(j, e) for j, e in self._open.items() if e.future.done()]:
            del self._open[job]
            self._finished[job] = (now, entry)
        while self._finished:
            job, (finished_at, _) = next(iter(self._finished.items()))
            if len(self._finished) <= self.limits.jobs_kept and now - finished_at <= self.limits.job_seconds:
                break
            del self._finished[job]
