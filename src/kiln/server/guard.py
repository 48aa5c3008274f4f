"""What every request passes before any route sees it: the token check, then the body size limit.

``RequestGuard`` is plain ASGI middleware. For the API (paths under ``/api/``) it checks the token of the
``Authorization`` header before a byte of the body is read: an unknown token is a 401, a missing one a 401 unless
the request only reads and the server has ``public_read``, a read token sending a write is a 403, a token limited
to some campaigns reaching for another campaign's path is a 403 (whether that campaign exists or not). The routes
check the finer rules (admin scope, the campaign of a job) themselves. The token found is left in the request's
state (``kiln_token``) for the routes.

Then the body is read up to ``max_body`` bytes (413 beyond, naming the limit; a ``Content-Length`` above it is
refused before reading) and handed on whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiln.core.errors import KilnError, ValidationError
from kiln.core.records import TokenRecord
from kiln.server.auth import AuthError, require
from kiln.server.errors import error_response

READS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_STATE = "kiln_token"


def route_scope(method: str, path: str) -> tuple[str, str | None]:
    """The least scope a request to the API needs, and the campaign its path names (or None).

    ``/api/v1/campaigns/NAME/...`` names NAME; creating or deleting a campaign needs admin, other writes need
    write, reads need read.
    """
    parts = path.rstrip("/").split("/")  # "", "api", "v1", "campaigns", NAME, ...
    campaign = parts[4] if len(parts) > 4 and parts[3] == "campaigns" and parts[4] else None
    if method in READS:
        return "read", campaign
    if parts[3:] == ["campaigns"] or (method == "DELETE" and len(parts) == 5 and campaign is not None):
        return "admin", campaign
    return "write", campaign


class RequestGuard:
    """ASGI middleware: token before body, bounded body (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticate: Callable[[str | None], TokenRecord | None],
        public_read: bool,
        max_body: int,
        api_prefix: str = "/api/",
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        self.public_read = public_read
        self.max_body = max_body
        self.api_prefix = api_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"].startswith(self.api_prefix):
            try:
                authorization = headers.get("authorization")
                token = None if authorization is None else await run_in_threadpool(self.authenticate, authorization)
                needed, campaign = route_scope(scope["method"], scope["path"])
                require(token, needed, campaign, public_read=self.public_read)
            except AuthError as error:
                await self._refuse(scope, receive, send, error.status, error, "Authorization")
                return
            scope.setdefault("state", {})[TOKEN_STATE] = token
        body = await self._read_body(scope, receive, send, headers)
        if body is None:
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> bytes | None:
        """The whole body, or None when it was refused (413, answered here) or the client went away."""
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(scope, receive, send, int(declared), declared=True)
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._too_large(scope, receive, send, size, declared=False)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, size: int, *, declared: bool) -> None:
        error = ValidationError(
            "body",
            f"{size} bytes" if declared else f"more than {self.max_body} bytes",
            f"a request body of at most {self.max_body} bytes",
            "send less at once (e.g. import in parts), or start the server with a larger --max-body",
        )
        await self._refuse(scope, receive, send, 413, error, "body")

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, error: KilnError, field: str) -> None:
        response: Any = error_response(status, error, field)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        await response(scope, receive, send)
