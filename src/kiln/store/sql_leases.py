"""Run leases in the SQL store: the statements of taking, renewing, releasing and reading a campaign's lease,
each run inside a write (or read) transaction that the store opens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from kiln.core.errors import LeaseHeldError, StateError, ValidationError
from kiln.core.records import LeaseRecord, utc_now
from kiln.store.schema import ID_MAX, NAME_MAX
from kiln.store.schema import leases as lease_table
from kiln.store.sql_checks import bounded_text


@dataclass(frozen=True)
class Wanted:
    """A lease a run asks for: its owner id, host, pid and expiry (seconds), checked."""

    owner: str
    host: str
    pid: int
    seconds: float

    @classmethod
    def checked(cls, owner: Any, host: Any, pid: Any, expiry: Any) -> Wanted:
        """The request, or ValidationError naming the field at fault."""
        host = bounded_text(host, "host", NAME_MAX)
        if isinstance(pid, bool) or not isinstance(pid, int) or not 0 <= pid < 2**31:
            raise ValidationError("pid", pid, "a process id: a whole number >= 0", "pass os.getpid()")
        return cls(lease_owner(owner), host, pid, lease_expiry(expiry))


def take(conn: Connection, campaign: str, campaign_id: int, wanted: Wanted, replace: str) -> LeaseRecord:
    """Take the lease if it is free, expired, ``wanted.owner``'s or ``replace``'s; else LeaseHeldError."""
    row = conn.execute(select(lease_table).where(lease_table.c.campaign_id == campaign_id)).first()
    now = utc_now()
    if row is not None:
        current = row_to_lease(campaign, row)
        if current.owner not in (wanted.owner, replace) and current.expires_at > now:
            raise LeaseHeldError(
                f"campaign {campaign!r} is being run by process {current.pid} on {current.host!r} since "
                f"{current.since.isoformat(timespec='seconds')} (lease until "
                f"{current.expires_at.isoformat(timespec='seconds')})",
                current,
            )
        conn.execute(delete(lease_table).where(lease_table.c.campaign_id == campaign_id))
    since = row.since if row is not None and row.owner == wanted.owner else now
    values = {
        "campaign_id": campaign_id,
        "owner": wanted.owner,
        "host": wanted.host,
        "pid": wanted.pid,
        "since": since,
        "heartbeat_at": now,
        "expires_at": now + timedelta(seconds=wanted.seconds),
    }
    conn.execute(insert(lease_table).values(**values))
    stored = conn.execute(select(lease_table).where(lease_table.c.campaign_id == campaign_id)).one()
    return row_to_lease(campaign, stored)


def renew(conn: Connection, campaign: str, campaign_id: int, owner: str, seconds: float) -> LeaseRecord:
    """Extend ``owner``'s lease to ``seconds`` from now; StateError if ``owner`` does not hold it."""
    now = utc_now()
    mine = (lease_table.c.campaign_id == campaign_id, lease_table.c.owner == owner)
    result = conn.execute(
        update(lease_table).where(*mine).values(heartbeat_at=now, expires_at=now + timedelta(seconds=seconds))
    )
    if result.rowcount != 1:
        raise StateError(
            f"the run lease of campaign {campaign!r} is no longer held by {owner!r}: it expired and another "
            "run took it, or it was released"
        )
    return row_to_lease(campaign, conn.execute(select(lease_table).where(*mine)).one())


def release(conn: Connection, campaign_id: int, owner: str) -> bool:
    """Give ``owner``'s lease up; False if ``owner`` does not hold it."""
    result = conn.execute(
        delete(lease_table).where(lease_table.c.campaign_id == campaign_id, lease_table.c.owner == owner)
    )
    return bool(result.rowcount == 1)


def held(conn: Connection, campaign: str, campaign_id: int) -> LeaseRecord | None:
    """The campaign's lease (expired or not), or None."""
    row = conn.execute(select(lease_table).where(lease_table.c.campaign_id == campaign_id)).first()
    return None if row is None else row_to_lease(campaign, row)


def row_to_lease(campaign: str, row: Any) -> LeaseRecord:
    """A leases row as a LeaseRecord of ``campaign``."""
    m = row._mapping
    return LeaseRecord(
        campaign=campaign,
        owner=m["owner"],
        host=m["host"],
        pid=int(m["pid"]),
        since=m["since"],
        heartbeat_at=m["heartbeat_at"],
        expires_at=m["expires_at"],
    )


def lease_owner(owner: Any) -> str:
    """``owner`` if it is a lease holder's id: non-empty text of at most ID_MAX characters."""
    if not isinstance(owner, str) or not owner or len(owner) > ID_MAX or "\x00" in owner:
        raise ValidationError("owner", owner, f"a run's id: text of 1 to {ID_MAX} characters", "e.g. uuid4().hex")
    return owner


def lease_expiry(expiry: Any) -> float:
    """``expiry`` as seconds: a finite number > 0 and at most a day."""
    if isinstance(expiry, bool) or not isinstance(expiry, int | float) or not 0 < expiry <= 86_400:
        raise ValidationError("expiry", expiry, "seconds: a number > 0 and at most 86400", "e.g. 30")
    return float(expiry)
