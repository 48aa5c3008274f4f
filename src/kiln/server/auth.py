"""API tokens: made once, shown once, stored as a SHA-256 of the secret; scopes read < write < admin.

A token may be limited to some campaigns: it then reaches no other campaign's data (the campaign list shows only
those). Tokens are long random secrets, so a fast hash is enough to keep a stolen database from giving them away.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from kiln.core.errors import ValidationError
from kiln.core.records import TokenRecord
from kiln.store.base import Store

SCOPES = ("read", "write", "admin")
"""Token scopes, weakest first; a scope includes those before it."""

PREFIX = "kiln_"


def hash_secret(secret: str) -> str:
    """SHA-256 of a token's secret, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    store: Store, name: str, scope: str = "read", campaigns: Sequence[str] | None = None
) -> tuple[TokenRecord, str]:
    """Make and store a token; returns its record and its secret (shown once, never stored)."""
    if scope not in SCOPES:
        raise ValidationError("--scope", scope, f"one of {list(SCOPES)}", "e.g. --scope write")
    secret = PREFIX + secrets.token_urlsafe(32)
    record = store.add_token(TokenRecord(name, scope, None if not campaigns else tuple(campaigns), hash_secret(secret)))
    return record, secret


def allows(token: TokenRecord | None, scope: str, campaign: str | None = None) -> bool:
    """Whether ``token`` (None: no token) has at least ``scope`` and reaches ``campaign`` (None: any)."""
    if token is None:
        return False
    if SCOPES.index(token.scope) < SCOPES.index(scope):
        return False
    return campaign is None or token.campaigns is None or campaign in token.campaigns
