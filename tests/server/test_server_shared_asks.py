"""Asks of one campaign that reach the server together are answered by one round: one Campaign.ask for all."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kiln.campaign.campaign import Campaign
from kiln.server.app import create_app
from kiln.server.auth import create_token
from kiln.store import open_store
from server_helpers import SPEC, http

WAIT = 60.0


def _finished(client: TestClient, answer: dict[str, Any]) -> dict[str, Any]:
    """Poll a job until it is no longer running (the server answers at once with ask_wait=0)."""
    deadline = time.monotonic() + WAIT
    while answer["status"] == "running":
        assert time.monotonic() < deadline, "the ask job did not finish"
        time.sleep(0.02)
        answer = client.get(f"/api/v1/jobs/{answer['job']}").json()
    return answer


def test_asks_that_wait_for_a_running_one_share_the_next_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    _, admin = create_token(store, "admin", "admin")
    _, writer = create_token(store, "writer", "write")
    sizes: list[int] = []
    entered, released = threading.Event(), threading.Event()
    real_ask = Campaign.ask

    def held_ask(self: Campaign, n: int = 1) -> Any:
        sizes.append(n)
        if len(sizes) == 1:
            entered.set()
            assert released.wait(WAIT)
        return real_ask(self, n)

    monkeypatch.setattr(Campaign, "ask", held_ask)
    app = create_app(store, ask_wait=0.0)
    http(app, admin).post("/api/v1/campaigns", json=SPEC)
    client = http(app, writer)
    first = client.post("/api/v1/campaigns/films/ask", json={"n": 1}).json()
    assert entered.wait(WAIT)
    later = [client.post("/api/v1/campaigns/films/ask", json={"n": n}).json() for n in (2, 1, 3)]
    released.set()
    answers = [_finished(client, a) for a in (first, *later)]
    assert [a["status"] for a in answers] == ["done"] * 4
    assert [len(a["experiments"]) for a in answers] == [1, 2, 1, 3]
    assert sizes == [1, 6]  # the three that waited were answered by one round
    ids = [e["id"] for a in answers for e in a["experiments"]]
    assert len(set(ids)) == 7
    assert sorted(ids) == sorted(e["id"] for e in client.get("/api/v1/campaigns/films/pending").json())
    store.close()
