"""Shared pieces of the server tests: a one-parameter campaign spec, the store backends to run on, the app with a
patient ask and a test client that sends a token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backends import POSTGRES_URL, fresh_postgres
from kiln.server import app as server_app
from kiln.server.auth import create_token
from kiln.store.base import Store

SPEC: dict[str, Any] = {
    "name": "films",
    "space": {"parameters": [{"name": "x", "type": "continuous", "low": 0.0, "high": 1.0}]},
    "objective": {"target": "y", "direction": "max"},
    "strategy": {"kind": "random"},
}

BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


def backend_url(backend: str, tmp_path: Path) -> str:
    """A fresh store URL: ``sqlite`` in ``tmp_path``, or the scratch PostgreSQL database emptied."""
    return fresh_postgres() if backend == "postgresql" else f"sqlite:///{tmp_path / 'server.db'}"


def scoped_tokens(store: Store) -> dict[str, str]:
    """Secrets of a read, a write and an admin token (named ``<scope>-token``) and of ``other``: write, campaign
    ``other`` only."""
    tokens = {scope: create_token(store, f"{scope}-token", scope)[1] for scope in ("read", "write", "admin")}
    tokens["other"] = create_token(store, "other-only", "write", ["other"])[1]
    return tokens


ASK_WAIT = 120.0
"""Seconds ``create_app`` lets ``POST .../ask`` wait for its suggestions: an ask that is slow on a loaded machine is
still answered in the request (200 with its experiments), not with 202 and a job (the server's default waits
``kiln.server.app.ASK_WAIT``). Tests of the 202 path give ``ask_wait=0.0``."""


def create_app(store: Store | str, **options: Any) -> FastAPI:
    """``kiln.server.app.create_app`` over ``store`` with ``options``; ``ask_wait`` is ``ASK_WAIT`` unless given."""
    options.setdefault("ask_wait", ASK_WAIT)
    return server_app.create_app(store, **options)


def http(app: Any, token: str | None = None) -> TestClient:
    """A client of ``app`` that sends ``token`` as a bearer token (none when ``token`` is None)."""
    client = TestClient(app)
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
    return client
