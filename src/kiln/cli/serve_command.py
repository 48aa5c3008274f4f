"""``kiln serve`` and ``kiln token``: the REST server and its API tokens."""

from __future__ import annotations

import errno
import socket
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
    listening = bound_socket(host, port)
    app = create_app(store_url(store), public_read=public_read, limits=limits)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info")).run(sockets=[listening])


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, or a ValidationError in one line when the port is taken or the address
    is not this machine's (uvicorn would log a traceback-like error and exit)."""
    from kiln.core.errors import ValidationError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        if error.errno == errno.EADDRINUSE:
            raise ValidationError(
                "--port", port, f"a free port (another program listens on {host}:{port})", "stop it, or use --port 8001"
            ) from None
        raise ValidationError(
            "--host", host, f"an address of this machine ({error.strerror})", "e.g. --host 127.0.0.1 or 0.0.0.0"
        ) from None
    listening.listen(2048)
    listening.set_inheritable(True)
    return listening


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
    from kiln.cli.app import err, out, store_url
    from kiln.server.auth import create_token
    from kiln.store import open_store

    backend = open_store(store_url(store))
    record, secret = create_token(backend, name, scope, campaign)
    known = {c.name for c in backend.list_campaigns()}
    for unknown in [c for c in record.campaigns or () if c not in known]:
        err.print(
            f"[yellow]warning:[/] no campaign {unknown!r} in this store yet; the token works for it once it is "
            "created (check the spelling with kiln list)",
            highlight=False,
        )
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
