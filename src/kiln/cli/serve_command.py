"""``kiln serve`` and ``kiln token``: the REST server and its API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from kiln.cli.help import KilnGroup
from kiln.cli.options import StoreOption

token_app = typer.Typer(help="API tokens of the server: create, list, revoke.", no_args_is_help=True, cls=KilnGroup)

TokenNameArgument = Annotated[
    str, typer.Argument(metavar="TOKEN", help="The token's name, e.g. robot-1 (kiln token list shows them).")
]


def serve(
    store: StoreOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    public_read: Annotated[bool, typer.Option("--public-read", help="Let anyone read without a token.")] = False,
    max_body: Annotated[
        float, typer.Option("--max-body", help="Largest request body in MiB (413 beyond).", min=0.001)
    ] = 8.0,
    max_asks: Annotated[
        int, typer.Option("--max-asks", help="Asks queued or running at once (429 beyond).", min=1)
    ] = 64,
) -> None:
    """Serve the REST API under /api/v1 (OpenAPI document at /openapi.json)."""
    import uvicorn

    from kiln.cli.app import store_url
    from kiln.core.errors import ValidationError
    from kiln.server.app import create_app
    from kiln.server.limits import MIB, ServerLimits

    if not 0 < port < 65536:
        raise ValidationError("--port", port, "a port number between 1 and 65535", "e.g. --port 8000")
    limits = ServerLimits(max_body=max(1, round(max_body * MIB)), open_asks=max_asks)
    app = create_app(store_url(store), public_read=public_read, limits=limits)
    uvicorn.run(app, host=host, port=port, log_level="info")


@token_app.command("create")
def create(
    name: TokenNameArgument,
    scope: Annotated[str, typer.Option("--scope", help="read, write or admin.")] = "read",
    campaign: Annotated[
        list[str] | None, typer.Option("--campaign", help="Limit the token to this campaign; repeat it.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Make a token and print its secret (shown once; only its hash is stored)."""
    from kiln.cli.app import out, store_url
    from kiln.server.auth import create_token
    from kiln.store import open_store

    record, secret = create_token(open_store(store_url(store)), name, scope, campaign)
    where = ", ".join(record.campaigns) if record.campaigns else "every campaign"
    out.print(f"token [bold]{record.name}[/] ({record.scope}, {where}):")
    print(secret)


@token_app.command("list")
def list_tokens(
    store: StoreOption = None,
) -> None:
    """The tokens of the store (names, scopes, campaigns; never the secrets)."""
    from kiln.cli.app import existing_store_url, out
    from kiln.store import open_store

    for record in open_store(existing_store_url(store)).list_tokens():
        state = "revoked" if record.revoked_at else "live"
        where = ", ".join(record.campaigns) if record.campaigns else "every campaign"
        out.print(f"{record.name}: {record.scope}, {where}, {state}")


@token_app.command("revoke")
def revoke(
    name: TokenNameArgument,
    store: StoreOption = None,
) -> None:
    """Revoke a token: it stops working at once."""
    from kiln.cli.app import existing_store_url, out
    from kiln.store import open_store

    open_store(existing_store_url(store)).revoke_token(name)
    out.print(f"token {name} revoked")
