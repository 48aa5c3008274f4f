"""GET /campaigns/{name}: counts that split the experiments (retracted and discarded apart from completed), and
who holds the run lease (a kiln run driving the campaign)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kiln.server.auth import create_token
from kiln.store.base import Store
from server_helpers import SPEC, create_app, http

API = "/api/v1/campaigns/films"


@pytest.fixture
def setup(backend_store: Store) -> tuple[Store, TestClient]:
    """The store and a client with an admin token, campaign films created."""
    client = http(create_app(backend_store), create_token(backend_store, "boss", "admin")[1])
    assert client.post("/api/v1/campaigns", json=SPEC).status_code == 201
    return backend_store, client


def _post(client: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"{API}{path}", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_counts_split_the_experiments(setup: tuple[Store, TestClient]) -> None:
    _, client = setup
    made = client.post(f"{API}/ask", json={"n": 5}).json()["experiments"]
    for e, value in zip(made[:3], (1.0, 2.0, 3.0), strict=True):
        _post(client, f"/experiments/{e['id']}/tell", {"value": value})
    _post(client, f"/experiments/{made[1]['id']}/amend", {"value": 2.5, "reason": "typo"})
    _post(client, f"/experiments/{made[2]['id']}/retract", {"reason": "wrong sample"})
    _post(client, f"/experiments/{made[3]['id']}/discard", {})
    counts = client.get(API).json()["counts"]
    assert counts == {"completed": 2, "failed": 0, "pending": 1, "retracted": 1, "discarded": 1, "amended": 1}


def test_the_run_lease_holder_is_shown(setup: tuple[Store, TestClient]) -> None:
    store, client = setup
    assert client.get(API).json()["run"] is None
    store.acquire_lease("films", "run-1", host="lab-pc", pid=4242, expiry=600)
    run = client.get(API).json()["run"]
    assert run["host"] == "lab-pc" and run["pid"] == 4242 and run["expired"] is False
    assert run["since"].startswith("20") and run["expires_at"] > run["since"]
    assert "owner" not in run  # the holder's id lets nobody else renew or release it
    store.release_lease("films", "run-1")
    assert client.get(API).json()["run"] is None


def test_a_discard_of_an_experiment_in_flight_is_a_409_that_changes_nothing(setup: tuple[Store, TestClient]) -> None:
    store, client = setup
    (made,) = client.post(f"{API}/ask", json={"n": 1}).json()["experiments"]
    store.dispatch("films", made["id"], "robot-1", "job-7")
    refused = client.post(f"{API}/experiments/{made['id']}/discard", json={"reason": "not needed"})
    assert refused.status_code == 409, refused.text
    assert "in flight on instrument 'robot-1'" in refused.json()["detail"]["message"]
    assert store.get_experiment("films", made["id"]).status.value == "pending"
