"""One run drives a campaign at a time: the run lease, held while ``kiln run`` runs and renewed by a heartbeat.

``RunLease`` takes the campaign's lease in the store (``Store.acquire_lease``: owner, host, pid, since) and a
thread renews it every ``heartbeat`` seconds; another run is refused with a message naming the holder, until the
lease expires ``expiry`` seconds after the holder's last heartbeat (the holder was killed or lost its machine).
A holder on this host whose process is gone is taken over at once. The lease is given up when the run ends.
If a heartbeat finds the lease taken over (this process stalled for longer than ``expiry``), ``on_lost`` is
called: the run must stop sending experiments, another run owns the campaign now. It is called too, with
``deleted`` set, when the campaign was deleted (its lease goes with it): the run has nowhere to store results.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiln.campaign import Campaign
from kiln.core.errors import ConflictError, LeaseHeldError, NotFoundError, StateError, ValidationError
from kiln.core.records import LeaseRecord, utc_now


@dataclass(frozen=True)
class LeaseSettings:
    """Seconds a lease lasts without a heartbeat (``expiry``) and between heartbeats (``heartbeat``; default a
    sixth of the expiry)."""

    expiry: float = 30.0
    heartbeat: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("expiry", self.expiry), ("heartbeat", self.heartbeat)):
            if value is None and name == "heartbeat":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86_400:
                raise ValidationError(f"lease: {name}", value, "seconds: a number > 0 and at most 86400", "e.g. 30")
        if self.heartbeat is not None and self.heartbeat >= self.expiry:
            raise ValidationError(
                "lease: heartbeat",
                self.heartbeat,
                f"fewer seconds than the expiry ({self.expiry:g})",
                "e.g. heartbeat: 5 with expiry: 30",
            )

    @property
    def interval(self) -> float:
        """Seconds between heartbeats."""
        return self.heartbeat if self.heartbeat is not None else self.expiry / 6


class RunLease:
    """The run lease of ``campaign`` for this process; use as a context manager around the run.

    Raises ConflictError on entry when another live run holds it; the message names that run (host, pid, since)
    and says how to proceed.
    """

    def __init__(
        self,
        campaign: Campaign,
        settings: LeaseSettings | None = None,
        *,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.campaign = campaign
        self.settings = settings or LeaseSettings()
        self.on_lost = on_lost
        self.owner = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.lost = False
        self.deleted = False
        """Whether the lease was lost because the campaign was deleted (or deleted and made again)."""
        self.campaign_id: int | None = None
        self.record: LeaseRecord | None = None
        self.took_over: LeaseRecord | None = None
        """The lease of a run that died (expired, or its process is gone), if this run took it over."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------------ taking
    def acquire(self) -> LeaseRecord:
        """Take the lease (see the module docstring); ConflictError naming the holder if it is held."""
        store, name = self.campaign.store, self.campaign.name
        self.campaign_id = store.get_campaign(name).id
        before = store.get_lease(name)
        replace = before.owner if before is not None and self._is_dead_here(before) else ""
        try:
            self.record = store.acquire_lease(
                name, self.owner, host=self.host, pid=self.pid, expiry=self.settings.expiry, replace=replace
            )
        except LeaseHeldError as held:
            raise ConflictError(refusal(name, held.lease, utc_now())) from None
        if before is not None and before.owner != self.owner:
            self.took_over = before
        self._thread = threading.Thread(target=self._beat, name=f"kiln-lease-{name}", daemon=True)
        self._thread.start()
        return self.record

    def _is_dead_here(self, lease: LeaseRecord) -> bool:
        """Whether ``lease`` is held by a process of this host that no longer exists."""
        if lease.host != self.host or lease.pid == self.pid:
            return False
        try:
            os.kill(lease.pid, 0)
        except ProcessLookupError:
            return True
        except (PermissionError, OSError):
            return False  # it exists (another user's) or cannot be checked: wait for the expiry
        return False

    def valid(self) -> bool:
        """Whether the lease is surely this run's now: held, not lost, and renewed within its expiry (after a stall
        longer than that, another run may have taken it before this one's heartbeat could tell)."""
        record = self.record
        return record is not None and not self.lost and utc_now() < record.expires_at

    # --------------------------------------------------------------------------------------------- holding
    def _beat(self) -> None:
        store, name = self.campaign.store, self.campaign.name
        while not self._stop.wait(self.settings.interval):
            try:
                self.record = store.renew_lease(name, self.owner, expiry=self.settings.expiry)
            except NotFoundError:  # the campaign was deleted, and its lease with it
                self._lose(deleted=True)
                return
            except StateError:
                self._lose(deleted=self.campaign_gone())
                return
            except Exception:  # a busy or unreachable store: try again at the next beat
                continue

    def _lose(self, *, deleted: bool) -> None:
        self.deleted = deleted
        self.lost = True
        if self.on_lost is not None:
            self.on_lost()

    def campaign_gone(self) -> bool:
        """Whether the campaign this lease was taken for is no longer in the store (deleted, or deleted and made
        again under its name); False when the store cannot tell now."""
        try:
            return self.campaign.store.get_campaign(self.campaign.name).id != self.campaign_id
        except NotFoundError:
            return True
        except Exception:
            return False

    def release(self) -> None:
        """Stop the heartbeat and give the lease up (nothing happens if it was lost)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self.record is not None and not self.lost:
            with contextlib.suppress(Exception):  # an expired lease simply lapses
                self.campaign.store.release_lease(self.campaign.name, self.owner)
        self.record = None

    def __enter__(self) -> RunLease:
        self.acquire()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.release()


def lease_json(lease: LeaseRecord | None, now: datetime) -> dict[str, Any] | None:
    """Who holds a campaign's run lease, as JSON (times in ISO 8601, UTC), with ``expired`` (its holder missed its
    heartbeats: it died or stalls, and the next run takes over); None when no run holds it."""
    if lease is None:
        return None
    return {
        "host": lease.host,
        "pid": lease.pid,
        "since": lease.since.isoformat(),
        "heartbeat_at": lease.heartbeat_at.isoformat(),
        "expires_at": lease.expires_at.isoformat(),
        "expired": now >= lease.expires_at,
    }


def holder_text(lease: LeaseRecord, now: datetime) -> str:
    """The holder of a run lease in words, e.g. ``process 4242 on host 'lab-pc' since 2026-01-05T09:00:00+00:00
    (last heartbeat 3 s ago, lease until 2026-01-05T10:00:30+00:00)``, saying so when it expired."""
    beat = max(0.0, (now - lease.heartbeat_at).total_seconds())
    until = lease.expires_at.isoformat(timespec="seconds")
    text = (
        f"process {lease.pid} on host {lease.host!r} since {lease.since.isoformat(timespec='seconds')} "
        f"(last heartbeat {beat:.0f} s ago, "
    )
    if now >= lease.expires_at:
        return text + f"lease expired at {until}: that run died or stalls; the next kiln run takes over)"
    return text + f"lease until {until})"


def refusal(campaign: str, lease: LeaseRecord, now: datetime) -> str:
    """The message for a run refused because ``lease`` is held: who holds it and how to proceed."""
    beat = max(0.0, (now - lease.heartbeat_at).total_seconds())
    left = max(0.0, (lease.expires_at - now).total_seconds())
    return (
        f"campaign {campaign!r} is being run by process {lease.pid} on host {lease.host!r} since "
        f"{lease.since.isoformat(timespec='seconds')} (last heartbeat {beat:.0f} s ago); only one kiln run drives a "
        f"campaign at a time: wait for it to finish or stop it with Ctrl-C; if it is dead (its machine is off), "
        f"run again after its lease expires in {left:.0f} s"
    )
