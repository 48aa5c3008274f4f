"""API tokens: made once, shown once, stored as a SHA-256 of the secret; scopes read < write < admin.

A token may be limited to some campaigns: it then reaches no other campaign's data (the campaign list shows only
those). Tokens are long random secrets, so a fast hash is enough to keep a stolen database from giving them away.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from kiln.core.errors import KilnError, ValidationError
from kiln.core.records import TokenRecord
from kiln.store.base import Store

SCOPES = ("read", "write", "admin")
"""Token scopes, weakest first; a scope includes those before it."""

PREFIX = "kiln_"


class AuthError(KilnError):
    """A missing, unknown or too weak token (401 / 403)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


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


def token_of(store: Store, authorization: str | None) -> TokenRecord | None:
    """The live token of an ``Authorization: Bearer <secret>`` header; None without a header. AuthError (401)
    for another scheme or a secret that is unknown or revoked."""
    if authorization is None:
        return None
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    found = None
    if scheme.lower() == "bearer" and secret:
        found = store.token_by_hash(hash_secret(secret))
    if found is None:
        raise AuthError("the token is unknown or revoked; send Authorization: Bearer <token>", 401)
    return found


def require(token: TokenRecord | None, scope: str, campaign: str | None = None, *, public_read: bool = False) -> None:
    """AuthError unless ``token`` gives ``scope`` on ``campaign`` (None: any); no token may read under
    ``public_read``. 401 without a token, 403 with one too weak or limited to other campaigns."""
    if scope == "read" and public_read and token is None:
        return
    if token is None:
        raise AuthError(f"a {scope} token is required: Authorization: Bearer <token> (kiln token create)", 401)
    if not allows(token, scope, campaign):
        what = f"campaign {campaign!r}" if campaign and not allows(token, "read", campaign) else f"{scope} access"
        raise AuthError(f"token {token.name!r} ({token.scope}) does not give {what}", 403)
