"""``GET .../report`` pages (``kiln.report``: GP fits and simulations, seconds each), made once per campaign state.

A page is keyed by (campaign, event cursor, seed), as the model and front caches key theirs: the cursor changes
with every write, so a page is never stale, and asking again between writes costs nothing. Pages are made by one
worker thread, one at a time; a request for a page already being made waits for that one instead of making its
own, and at most ``queued`` different pages wait or run at once (``Busy``, 429 with Retry-After, beyond). A page
made while the campaign changed is answered but not kept (it may hold part of the newer state). At most ``size``
pages are kept (about 5 MB each: plotly.js is inlined), least recently used dropped first.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections import OrderedDict

from kiln.campaign import Campaign
from kiln.server.jobs import Busy

Key = tuple[str, int, int]
"""(campaign name, event cursor, seed)."""


def report_etag(cursor: int, seed: int) -> str:
    """The entity tag of the page of a campaign at event ``cursor`` with ``seed`` (weak: two pages made at one
    state may differ in bytes, never in content), with Kiln's version, whose report may differ."""
    from kiln.core.version import VERSION

    return f'W/"report-{cursor}-{seed}-{VERSION}"'


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header (``*`` or a comma-separated list of tags) holds ``etag`` (weak comparison:
    the ``W/`` prefix is ignored on both sides)."""

    def bare(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    tags = [bare(tag) for tag in if_none_match.split(",")]
    return "*" in tags or bare(etag) in tags


def report_page(campaign: Campaign, seed: int) -> bytes:
    """The page ``kiln report NAME --seed SEED`` writes, as UTF-8 bytes."""
    from kiln.report.findings import campaign_findings
    from kiln.report.html import report_html

    return report_html(campaign_findings(campaign, seed=seed)).encode("utf-8")


class ReportCache:
    """Report pages by campaign state and seed; see the module docstring. Thread-safe."""

    def __init__(self, size: int, queued: int, retry_after: int) -> None:
        self.size = size
        self.queued = queued
        self.retry_after = retry_after
        self.computed = 0
        """Pages made so far (a kept page, or one already being made, makes none)."""
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiln-report")
        self._pages: OrderedDict[Key, bytes] = OrderedDict()
        self._making: dict[Key, concurrent.futures.Future[bytes]] = {}
        self._lock = threading.Lock()  # guards _pages, _making and computed

    def report(self, campaign: Campaign, seed: int, cursor: int | None = None) -> concurrent.futures.Future[bytes]:
        """The page of ``campaign`` at event ``cursor`` (None: now) with ``seed``: done at once when kept, else the
        future of the page being made. Busy when ``queued`` other pages are being made or wait already."""
        if cursor is None:
            _, cursor = campaign.snapshot()
        key = (campaign.name, cursor, seed)
        with self._lock:
            kept = self._pages.get(key)
            if kept is not None:
                self._pages.move_to_end(key)
                done: concurrent.futures.Future[bytes] = concurrent.futures.Future()
                done.set_result(kept)
                return done
            making = self._making.get(key)
            if making is not None:
                return making
            if len(self._making) >= self.queued:
                raise Busy(
                    f"the server is making {len(self._making)} reports (at most {self.queued} at once); "
                    f"ask again in {self.retry_after} s",
                    self.retry_after,
                )
            future = self.pool.submit(self._make, campaign, key)
            self._making[key] = future
            return future

    def _make(self, campaign: Campaign, key: Key) -> bytes:
        """Make the page of ``key`` (in the worker thread); keep it when the campaign did not change meanwhile."""
        try:
            page = report_page(campaign, key[2])
            _, cursor = campaign.snapshot()
            with self._lock:
                self.computed += 1
                if cursor == key[1]:
                    self._pages[key] = page
                    while len(self._pages) > self.size:
                        self._pages.popitem(last=False)
            return page
        finally:
            with self._lock:
                self._making.pop(key, None)
