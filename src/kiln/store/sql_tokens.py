"""API tokens in the SQL store: the statements on the tokens table, run inside a transaction the store opens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update

from kiln.core.errors import ConflictError, ValidationError
from kiln.core.records import TokenRecord, utc_now
from kiln.store.schema import NAME_MAX, aware_utc
from kiln.store.schema import tokens as token_table
from kiln.store.sql_checks import bounded_text


def add(conn: Connection, token: TokenRecord, store: str) -> str:
    """Add ``token`` (its secret hashed already) and return its name; ConflictError naming ``store`` if the name
    is taken."""
    name = bounded_text(token.name, "name", NAME_MAX)
    if not name:
        raise ValidationError("name", name, "a token needs a name", "e.g. kiln token create robot-1")
    taken = conn.execute(select(token_table.c.id).where(token_table.c.name == name)).first()
    if taken is not None:
        raise ConflictError(f"a token called {name!r} exists already in {store}; choose another name")
    conn.execute(
        insert(token_table).values(
            name=name,
            scope=token.scope,
            campaigns=None if token.campaigns is None else list(token.campaigns),
            secret_hash=token.secret_hash,
            created_at=aware_utc(token.created_at, "created_at"),
            revoked_at=None,
        )
    )
    return name


def named(conn: Connection, name: str) -> TokenRecord | None:
    """The token called ``name`` (revoked or not), or None."""
    row = conn.execute(select(token_table).where(token_table.c.name == name)).first()
    return None if row is None else row_to_token(row)


def every(conn: Connection) -> list[TokenRecord]:
    """All tokens, oldest first."""
    return [row_to_token(row) for row in conn.execute(select(token_table).order_by(token_table.c.id)).all()]


def live_by_hash(conn: Connection, secret_hash: str) -> TokenRecord | None:
    """The live (not revoked) token with this secret hash, or None."""
    row = conn.execute(
        select(token_table).where(token_table.c.secret_hash == secret_hash, token_table.c.revoked_at.is_(None))
    ).first()
    return None if row is None else row_to_token(row)


def revoke(conn: Connection, name: str) -> None:
    """Revoke the live token called ``name``; nothing happens if there is none (or it is revoked already)."""
    conn.execute(
        update(token_table)
        .where(token_table.c.name == name, token_table.c.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )


def row_to_token(row: Any) -> TokenRecord:
    m = row._mapping
    campaigns = m["campaigns"]
    return TokenRecord(
        name=m["name"],
        scope=m["scope"],
        campaigns=None if campaigns is None else tuple(str(c) for c in campaigns),
        secret_hash=m["secret_hash"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )
