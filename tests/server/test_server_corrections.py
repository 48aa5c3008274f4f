"""REST corrections: amend, retract, discard, history, DELETE; the token's name as actor; scopes; the client."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from kiln.client import Client
from kiln.core.errors import NotFoundError, StateError, ValidationError
from kiln.core.records import Change, ExperimentStatus
from kiln.server.auth import create_token
from kiln.store.base import Store
from server_helpers import SPEC, create_app, http

API = "/api/v1/campaigns"


@pytest.fixture
def setup(backend_store: Store) -> tuple[Any, dict[str, str]]:
    """A store with campaigns films and other, and tokens: read, write (named ana), admin, admin of other only."""
    store = backend_store
    tokens = {
        "read": create_token(store, "reader", "read")[1],
        "write": create_token(store, "ana", "write")[1],
        "admin": create_token(store, "boss", "admin")[1],
        "other-admin": create_token(store, "other-admin", "admin", ["other"])[1],
    }
    app = create_app(store)
    admin = http(app, tokens["admin"])
    for name in ("films", "other"):
        assert admin.post(API, json={**SPEC, "name": name}).status_code == 201
    return app, tokens


def told(writer: TestClient, *values: float) -> list[str]:
    made = writer.post(f"{API}/films/ask", json={"n": len(values)}).json()["experiments"]
    for e, value in zip(made, values, strict=True):
        assert writer.post(f"{API}/films/experiments/{e['id']}/tell", json={"value": value}).status_code == 200
    return [e["id"] for e in made]


def test_amend_retract_and_history_carry_the_token_name(setup: tuple[Any, dict[str, str]]) -> None:
    app, tokens = setup
    writer = http(app, tokens["write"])
    typo, other = told(writer, 1e308, 2.0)
    assert writer.get(f"{API}/films").json()["best"]["id"] == typo
    answer = writer.post(f"{API}/films/experiments/{typo}/amend", json={"value": 3.1, "reason": "typo"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["results"] == {"y": 3.1} and answer.json()["amended"] == 1
    assert writer.get(f"{API}/films").json()["best"]["results"] == {"y": 3.1}
    failed = writer.post(f"{API}/films/experiments/{typo}/amend", json={"failure": "cracked", "reason": "seen"})
    assert failed.json()["status"] == "failed" and writer.get(f"{API}/films").json()["best"]["id"] == other
    retracted = writer.post(f"{API}/films/experiments/{other}/retract", json={"reason": "wrong sample"})
    assert retracted.json()["retracted"] is True
    assert writer.get(f"{API}/films").json()["best"] is None
    history = http(app, tokens["read"]).get(f"{API}/films/experiments/{typo}/history").json()
    assert [(h["change"], h["results"].get("y"), h["note"], h["actor"]) for h in history] == [
        ("recorded", 1e308, "", ""),
        ("amended", 3.1, "typo", "ana"),
        ("amended", None, "seen", "ana"),
    ]
    events = writer.get(f"{API}/films/events").json()["events"]
    changes = [e for e in events if e["kind"] in ("experiment_amended", "experiment_retracted")]
    assert [e["payload"]["actor"] for e in changes] == ["ana"] * 3
    undone = writer.post(f"{API}/films/experiments/{other}/retract", json={"reason": "right after all", "undo": True})
    assert undone.json()["retracted"] is False
    csv = writer.get(f"{API}/films/export", params={"history": "true"}).text
    rows = pd.read_csv(io.StringIO(csv))
    assert list(rows[rows["id"] == typo]["version"]) == [0, 1, 2]
    assert len(pd.read_csv(io.StringIO(writer.get(f"{API}/films/export").text))) == 2


def test_discard_and_refusals(setup: tuple[Any, dict[str, str]]) -> None:
    app, tokens = setup
    writer = http(app, tokens["write"])
    made = writer.post(f"{API}/films/ask", json={"n": 2}).json()["experiments"]
    first, second = (e["id"] for e in made)
    discarded = writer.post(f"{API}/films/experiments/{first}/discard", json={"reason": "no substrate"})
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    assert writer.post(f"{API}/films/experiments/{second}/discard", json={}).json()["reason"] == ""
    assert writer.get(f"{API}/films/pending").json() == []
    again = writer.post(f"{API}/films/experiments/{first}/discard", json={})
    assert again.status_code == 409 and again.json()["detail"]["field"] == "experiment_id"
    (pending,) = [e["id"] for e in writer.post(f"{API}/films/ask", json={"n": 1}).json()["experiments"]]
    refused = writer.post(f"{API}/films/experiments/{pending}/amend", json={"value": 1.0, "reason": "x"})
    assert refused.status_code == 409 and "use tell" in refused.json()["detail"]["message"]
    (done,) = told(writer, 1.0)
    for body in [
        {"value": True, "reason": "x"},
        {"results": {"y": False}, "reason": "x"},
        {"value": 2.0},
        {"reason": "x"},
        {"value": 2.0, "failure": "y", "reason": "x"},
        {"value": 2.0, "reason": ""},
    ]:
        answer = writer.post(f"{API}/films/experiments/{done}/amend", json=body)
        assert answer.status_code == 422, (body, answer.text)
    assert writer.post(f"{API}/films/experiments/nope/amend", json={"value": 2.0, "reason": "x"}).status_code == 404
    assert writer.get(f"{API}/films/experiments/nope/history").status_code == 404
    assert writer.get(f"{API}/films/experiments/{done}").status_code in (404, 405)
    assert writer.get(f"{API}/films/experiments/{done}/history").json()[-1]["results"] == {"y": 1.0}


def test_a_read_token_cannot_correct(setup: tuple[Any, dict[str, str]]) -> None:
    app, tokens = setup
    (done,) = told(http(app, tokens["write"]), 1.0)
    reader = http(app, tokens["read"])
    for action, body in [("amend", {"value": 2.0, "reason": "x"}), ("retract", {"reason": "x"}), ("discard", {})]:
        answer = reader.post(f"{API}/films/experiments/{done}/{action}", json=body)
        assert answer.status_code == 403 and answer.json()["detail"]["field"] == "Authorization"
    assert (
        http(app).post(f"{API}/films/experiments/{done}/amend", json={"value": 2.0, "reason": "x"}).status_code == 401
    )
    assert reader.get(f"{API}/films/experiments/{done}").status_code in (404, 405)
    assert reader.get(f"{API}/films/experiments/{done}/history").json()[0]["results"] == {"y": 1.0}
    assert http(app, tokens["write"]).get(f"{API}/films").json()["best"]["results"] == {"y": 1.0}


def test_delete_needs_an_admin_token_that_reaches_the_campaign(setup: tuple[Any, dict[str, str]]) -> None:
    app, tokens = setup
    told(http(app, tokens["write"]), 1.0)
    assert http(app, tokens["write"]).delete(f"{API}/films").status_code == 403
    scoped = http(app, tokens["other-admin"])
    assert scoped.delete(f"{API}/films").status_code == 403
    assert http(app, tokens["read"]).get(f"{API}/films").status_code == 200  # still there
    assert scoped.delete(f"{API}/other").json() == {"deleted": "other"}
    admin = http(app, tokens["admin"])
    assert admin.delete(f"{API}/films").status_code == 200
    assert admin.get(f"{API}/films").status_code == 404
    assert admin.delete(f"{API}/films").status_code == 404
    assert admin.get(API).json() == []
    assert admin.post(API, json=SPEC).status_code == 201  # made again under its name: a new, empty campaign
    assert http(app, tokens["write"]).get(f"{API}/films/experiments").json() == []


def test_the_client_corrects_as_a_local_campaign_does(setup: tuple[Any, dict[str, str]]) -> None:
    app, tokens = setup
    lab = Client("http://testserver", tokens["write"], http=TestClient(app)).open("films")
    a, b, c = lab.ask(3)
    lab.tell(a.id, 1e308)
    lab.tell(b.id, 2.0)
    amended = lab.amend(a.id, 3.0, reason="typo")
    assert amended.results == {"y": 3.0} and amended.amended == 1
    assert lab.amend(a.id, failure="cracked", reason="seen", expect=1).status is ExperimentStatus.FAILED
    with pytest.raises(StateError, match="amended 2 times, not 1"):
        lab.amend(a.id, {"y": 3.0}, reason="back", expect=1)
    assert lab.amend(a.id, {"y": 3.0}, reason="back", expect=2).status is ExperimentStatus.COMPLETED
    assert lab.retract(b.id, reason="bad run").retracted and not lab.unretract(b.id, reason="fine").retracted
    assert lab.discard(c.id, reason="skip").status is ExperimentStatus.DISCARDED
    with pytest.raises(StateError):
        lab.discard(c.id)
    with pytest.raises(StateError, match="retracted"):
        lab.unretract(b.id, reason="again")
    history = lab.history(a.id)
    assert [r.change for r in history] == [Change.RECORDED, Change.AMENDED, Change.AMENDED, Change.AMENDED]
    assert history[1].actor == "ana" and history[1].experiment == a.id
    assert list(lab.to_dataframe(history=True)["version"].dropna())[:4] == [0, 1, 2, 3]
    with pytest.raises(ValidationError):
        lab.amend(a.id, 5.0, reason="")
    with pytest.raises(NotFoundError):
        lab.history("nope")
    boss = Client("http://testserver", tokens["admin"], http=TestClient(app))
    boss.open("films").delete()
    with pytest.raises(NotFoundError):
        boss.open("films")
