"""A results map is bounded before its values are looked at: thousands of keys, or a huge name, get one 422 about
``results`` quickly and change nothing; a 409 names the error's class so that the client raises the same one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kiln.client import Client
from kiln.core.errors import ConflictError, StateError
from kiln.server.bodies import RESULT_NAME_MAX, RESULT_NAMES
from kiln.store.base import Store
from server_helpers import SPEC, create_app, http, scoped_tokens


@pytest.fixture
def writer(backend_store: Store) -> tuple[Store, TestClient, str]:
    """The app with campaign ``films`` and one pending experiment; a client with the admin token; its id."""
    tokens = scoped_tokens(backend_store)
    app = create_app(backend_store)
    client = http(app, tokens["admin"])
    client.post("/api/v1/campaigns", json=SPEC)
    (experiment,) = client.post("/api/v1/campaigns/films/ask", json={"n": 1}).json()["experiments"]
    return backend_store, client, experiment["id"]


@pytest.mark.parametrize(
    ("results", "words"),
    [
        ({f"q{i}": "not a number" for i in range(200_000)}, f"at most {RESULT_NAMES} quantities, not 200000"),
        ({f"q{i}": 1.0 for i in range(RESULT_NAMES + 1)}, f"at most {RESULT_NAMES} quantities"),
        ({"y" * 100_000: 1.0}, f"at most {RESULT_NAME_MAX} characters, not 100000"),
    ],
)
@pytest.mark.parametrize("action", ["tell", "amend"])
def test_a_results_map_out_of_bounds_is_one_error_and_changes_nothing(
    writer: tuple[Store, TestClient, str], results: dict[str, Any], words: str, action: str
) -> None:
    store, client, experiment = writer
    before = store.experiments("films")
    body: dict[str, Any] = {"results": results, **({"reason": "typo"} if action == "amend" else {})}
    answer = client.post(f"/api/v1/campaigns/films/experiments/{experiment}/{action}", json=body)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["detail"]
    assert detail["field"] == "results" and words in detail["message"]
    assert len(detail["errors"]) == 1  # one problem, not one per key
    assert store.experiments("films") == before


def test_a_409_names_the_error_class_and_the_client_raises_it(writer: tuple[Store, TestClient, str]) -> None:
    _, client, experiment = writer
    assert client.post(f"/api/v1/campaigns/films/experiments/{experiment}/tell", json={"value": 1.0}).is_success
    again = client.post(f"/api/v1/campaigns/films/experiments/{experiment}/tell", json={"value": 2.0})
    assert again.status_code == 409 and again.json()["detail"]["type"] == "StateError"
    lab = Client("http://testserver", http=client).open("films")
    with pytest.raises(StateError):
        lab.tell(experiment, 2.0)
    taken = client.post("/api/v1/campaigns", json={**SPEC, "strategy": {"kind": "sobol"}})
    assert taken.status_code == 409 and taken.json()["detail"]["type"] == "ConflictError"
    with pytest.raises(ConflictError):  # another configuration under the name: ConflictError, whatever the words
        Client("http://testserver", http=client).create({**SPEC, "strategy": {"kind": "sobol"}})
