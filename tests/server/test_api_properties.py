"""Property-based tests of the REST API from its OpenAPI document (schemathesis, on hypothesis).

For every operation, schemathesis generates requests that fit the document and requests that break it. Whatever
it sends, the server answers without a 5xx, and every 4xx names the field at fault (``detail.field``). Half of the
generated requests are steered to the campaign and experiments that exist, with a valid token, so that the
operations are exercised past their 404s and 401s.
"""

from __future__ import annotations

import tempfile
import zlib
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error

from kiln import Campaign, Continuous, Objective, SearchSpace
from kiln.server.app import create_app
from kiln.server.auth import create_token
from kiln.store import open_store

FOLDER = Path(tempfile.mkdtemp(prefix="kiln-api-properties-"))
URL = f"sqlite:///{FOLDER / 'api.db'}"
CAMPAIGN = Campaign.create(
    "films",
    space=SearchSpace([Continuous("x", 0.0, 1.0), Continuous("z", 0.0, 2.0)]),
    objective=Objective.maximize("y"),
    strategy="random",
    store=URL,
)
for _experiment in CAMPAIGN.ask(6)[:4]:
    CAMPAIGN.tell(_experiment.id, _experiment.params["x"])
EXPERIMENTS = [e.id for e in CAMPAIGN.experiments()]
STORE = open_store(URL)
ADMIN = create_token(STORE, "admin", "admin")[1]
APP = create_app(STORE, ask_wait=30.0)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def steered(value: Any) -> bool:
    """Whether a generated value is replaced by a valid one: a fixed half of all values, by their hash."""
    return zlib.crc32(repr(value).encode()) % 2 == 0


def names_the_field(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx answer is Kiln's error form with a non-empty ``detail.field``."""
    if not 400 <= response.status_code < 500:
        return
    body = response.json()
    detail = body.get("detail") if isinstance(body, dict) else None
    assert isinstance(detail, dict), f"{response.status_code} without an error detail: {body!r}"
    assert isinstance(detail.get("field"), str) and detail["field"], f"{response.status_code} names no field: {body!r}"
    assert detail.get("message"), f"{response.status_code} without a message: {body!r}"


@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    database=None,
    derandomize=True,
)
def test_no_5xx_and_every_4xx_names_the_field(case: Any) -> None:
    parameters = case.path_parameters or {}
    if "name" in parameters and steered(parameters["name"]):
        parameters["name"] = "films"
        if case.method.upper() == "DELETE":  # deleting is steered to a campaign of its own, made again each time
            parameters["name"] = "scratch"
            if "scratch" not in [c.name for c in STORE.list_campaigns()]:
                Campaign.create("scratch", space=CAMPAIGN.domain, objective=CAMPAIGN.objective, store=STORE)
    if "experiment_id" in parameters and steered(parameters["experiment_id"]):
        parameters["experiment_id"] = EXPERIMENTS[zlib.crc32(repr(parameters).encode()) % len(EXPERIMENTS)]
    headers = dict(case.headers or {})
    if steered(headers.get("authorization")):
        headers["authorization"] = f"Bearer {ADMIN}"
    case.headers = headers
    case.call_and_validate(checks=[not_a_server_error, names_the_field])


def test_the_document_lists_the_error_answers() -> None:
    document = APP.openapi()
    tell = document["paths"]["/api/v1/campaigns/{name}/experiments/{experiment_id}/tell"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(tell["responses"])


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("post", "/api/v1/campaigns/films/ask", {"n": 0}, 422, "n"),
        ("post", "/api/v1/campaigns/films/ask", {"n": "many"}, 422, "n"),
        ("get", "/api/v1/campaigns/films/events?limit=0", None, 422, "limit"),
        ("get", "/api/v1/campaigns/films/model?parameter=q", None, 422, "parameter"),
        ("get", "/api/v1/campaigns/nowhere", None, 404, "name"),
        ("post", "/api/v1/campaigns/films/experiments/exp-none/tell", {"value": 1.0}, 404, "experiment_id"),
        ("get", "/api/v1/jobs/job-0", None, 404, "job"),
        ("post", "/api/v1/campaigns", {"name": "films-2"}, 422, "objective"),
    ],
)
def test_errors_name_the_field(method: str, path: str, body: Any, status: int, field: str) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(APP, headers={"Authorization": f"Bearer {ADMIN}"})
    answer = client.request(method.upper(), path, json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["detail"]["field"] == field


def test_a_finished_experiment_told_again_is_a_409_about_the_experiment() -> None:
    from fastapi.testclient import TestClient

    client = TestClient(APP, headers={"Authorization": f"Bearer {ADMIN}"})
    answer = client.post(f"/api/v1/campaigns/films/experiments/{EXPERIMENTS[0]}/tell", json={"value": 2.0})
    assert answer.status_code == 409 and answer.json()["detail"]["field"] == "experiment_id"
    unauthorised = TestClient(APP).get("/api/v1/campaigns")
    assert unauthorised.status_code == 401 and unauthorised.json()["detail"]["field"] == "Authorization"
    malformed = client.post(
        "/api/v1/campaigns/films/ask", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422 and malformed.json()["detail"]["field"] == "body"


EXPERIMENT = "/api/v1/campaigns/films/experiments/EXP"
HUGE_X = "row 1: parameter 'x'"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/campaigns/films/experiments/EXP/fail", '{"reason": "x\\ud800"}', "reason"),
        (
            "/api/v1/campaigns/films/experiments/EXP/tell",
            '{"value": 1.0, "outputs": {"a": ["\\udc00"]}}',
            "outputs.a.0",
        ),
        ("/api/v1/campaigns", '{"name": "\\ud800", "objective": {"target": "y"}}', "name"),
        (
            "/api/v1/campaigns/films/import",
            '{"rows": [{"x": 1' + "0" * 400 + ', "z": 1, "y": 1}]}',
            "row 1: parameter 'x'",
        ),
    ],
)
def test_text_and_numbers_that_cannot_be_stored_are_a_422_that_changes_nothing(
    path: str, body: str, field: str
) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(APP, headers={"Authorization": f"Bearer {ADMIN}", "content-type": "application/json"})
    (pending,) = CAMPAIGN.ask(1)
    before = STORE.experiments("films")
    answer = client.post(path.replace("EXP", pending.id), content=body.encode())
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]["field"] == field
    assert STORE.experiments("films") == before
    emoji = client.post(
        f"/api/v1/campaigns/films/experiments/{pending.id}/fail", content='{"reason": "\\ud83d\\ude00"}'
    )
    assert emoji.status_code == 200 and emoji.json()["reason"] == "\U0001f600"  # a surrogate pair is fine text


def test_a_cursor_beyond_any_store_is_a_422() -> None:
    from fastapi.testclient import TestClient

    answer = TestClient(APP, headers={"Authorization": f"Bearer {ADMIN}"}).get(
        f"/api/v1/campaigns/films/events?after={10**30}"
    )
    assert answer.status_code == 422 and answer.json()["detail"]["field"] == "after"
