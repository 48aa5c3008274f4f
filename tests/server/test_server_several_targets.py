"""The REST API and the client with several targets and an outcome constraint: a results map, what a campaign
shows (targets, constraints, quantities, the front), ``GET .../front`` with the hypervolume curve, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kiln.client import Client
from kiln.core.errors import StateError, ValidationError
from kiln.objective import Objective, OutcomeConstraint, Target
from kiln.store.base import Store
from server_helpers import SPEC, create_app, http, scoped_tokens

SEVERAL: dict[str, Any] = {
    **SPEC,
    "objective": {
        "targets": [{"name": "yield", "direction": "max"}, {"name": "cost", "direction": "min"}],
        "constraints": ["stability >= 0.9"],
    },
}
MEASURED = [  # #1 and #2 are the front; #3 is dominated by #1; #4 breaks the constraint
    {"yield": 80.0, "cost": 2.0, "stability": 0.95},
    {"yield": 90.0, "cost": 4.0, "stability": 0.92},
    {"yield": 70.0, "cost": 3.0, "stability": 0.99},
    {"yield": 99.0, "cost": 1.0, "stability": 0.5},
]
URL = "/api/v1/campaigns/films"


@pytest.fixture
def lab(backend_store: Store) -> tuple[TestClient, list[str]]:
    """The app with the campaign of SEVERAL, four experiments told as MEASURED; a write client; their ids."""
    tokens = scoped_tokens(backend_store)
    app = create_app(backend_store)
    assert http(app, tokens["admin"]).post("/api/v1/campaigns", json=SEVERAL).status_code == 201
    client = http(app, tokens["write"])
    ids = []
    for experiment, results in zip(
        client.post(f"{URL}/ask", json={"n": 4}).json()["experiments"], MEASURED, strict=True
    ):
        told = client.post(f"{URL}/experiments/{experiment['id']}/tell", json={"results": results})
        assert told.status_code == 200 and told.json()["status"] == "completed", told.text
        ids.append(experiment["id"])
    return client, ids


def test_a_campaign_shows_its_targets_constraints_and_front(lab: tuple[TestClient, list[str]]) -> None:
    client, ids = lab
    shown = client.get(URL).json()
    assert [t["name"] for t in shown["targets"]] == ["yield", "cost"]
    assert shown["constraints"] == [{"name": "stability", "op": ">=", "bound": 0.9}]
    assert shown["quantities"] == ["yield", "cost", "stability"]
    assert shown["front"] == ids[:2] and shown["best"] is None
    assert shown["target"] == "yield" and shown["direction"] == "max"  # the first target, as before


def test_front_gives_the_hypervolume_after_each_experiment(lab: tuple[TestClient, list[str]]) -> None:
    client, ids = lab
    answer = client.get(f"{URL}/front").json()
    assert answer["front"] == ids[:2]
    assert answer["reference"] == pytest.approx({"yield": 68.0, "cost": -4.2})
    curve = [(point["seq"], point["value"]) for point in answer["hypervolume"]]
    first = (80 - 68) * (-2 + 4.2)
    both = first + (90 - 80) * (-4 + 4.2)
    assert curve == [
        (1, pytest.approx(first)),
        (2, pytest.approx(both)),
        (3, pytest.approx(both)),
        (4, pytest.approx(both)),
    ]
    assert answer["constraints"] == [{"name": "stability", "op": ">=", "bound": 0.9}]
    assert client.get(f"{URL}/front").json() == answer  # from the cache until the campaign changes


@pytest.mark.parametrize(
    ("results", "words"),
    [
        ({"yeild": 1.0}, "unknown ['yeild']"),
        ({"yeild": 1.0}, "['yield', 'cost', 'stability']"),
        ({}, "values for some of the quantities"),
    ],
)
def test_bad_results_are_a_422_naming_the_quantities_and_change_nothing(
    lab: tuple[TestClient, list[str]], results: dict[str, float], words: str
) -> None:
    client, _ = lab
    (pending,) = client.post(f"{URL}/ask", json={"n": 1}).json()["experiments"]
    answer = client.post(f"{URL}/experiments/{pending['id']}/tell", json={"results": results})
    assert answer.status_code == 422 and words in answer.json()["detail"]["message"]
    assert client.get(f"{URL}/pending").json()[0]["results"] == {}
    bare = client.post(f"{URL}/experiments/{pending['id']}/tell", json={"value": 1.0})
    assert bare.status_code == 422 and "a bare number is the value of the only quantity" in bare.text


def test_the_client_tells_a_map_and_raises_the_local_errors(lab: tuple[TestClient, list[str]]) -> None:
    client, _ = lab
    remote = Client("http://testserver", http=client).open("films")
    (experiment,) = remote.ask(1)
    with pytest.raises(ValidationError, match="unknown") as error:
        remote.tell(experiment.id, {"yield": 1.0, "nope": 2.0})
    assert error.value.field == "results"
    local = Objective((Target("yield"), Target("cost", "min")), (OutcomeConstraint("stability", ">=", 0.9),))
    with pytest.raises(ValidationError) as here:
        local.parse_results({"nope": 2.0})
    with pytest.raises(ValidationError) as error:
        remote.tell(experiment.id, {"nope": 2.0})
    assert str(error.value) == str(here.value)  # the message a local campaign gives, the value quoted once
    with pytest.raises(ValidationError) as error:
        remote.tell(experiment.id, {"yield": "abc"})  # type: ignore[dict-item]
    assert "got 'abc'" in str(error.value), str(error.value)
    told = remote.tell(experiment.id, {"yield": 85.0, "cost": 1.5, "stability": 0.97})
    assert told.results == {"yield": 85.0, "cost": 1.5, "stability": 0.97}


def test_the_client_gives_the_front_as_a_local_campaign_does(
    lab: tuple[TestClient, list[str]], backend_store: Store
) -> None:
    from kiln import Campaign

    client, ids = lab
    remote = Client("http://testserver", http=client).open("films")
    assert (
        [e.id for e in remote.pareto()]
        == ids[:2]
        == [e.id for e in Campaign.open("films", store=backend_store).pareto()]
    )
    assert remote.best() is None


def test_results_told_in_parts_over_rest(lab: tuple[TestClient, list[str]]) -> None:
    client, _ = lab
    (pending,) = client.post(f"{URL}/ask", json={"n": 1}).json()["experiments"]
    tell = f"{URL}/experiments/{pending['id']}/tell"
    first = client.post(tell, json={"results": {"yield": 82.0}})
    assert first.status_code == 200 and first.json()["status"] == "pending"
    assert first.json()["results"] == {"yield": 82.0}
    again = client.post(tell, json={"results": {"yield": 83.0}})
    assert again.status_code == 409 and again.json()["detail"]["type"] == "StateError"
    assert "amend" in again.json()["detail"]["message"]
    remote = Client("http://testserver", http=client).open("films")
    with pytest.raises(StateError):
        remote.tell(pending["id"], {"yield": 84.0})
    done = remote.tell(pending["id"], {"cost": 2.0, "stability": 0.99})
    assert done.status.value == "completed" and done.results == {"yield": 82.0, "cost": 2.0, "stability": 0.99}


def test_a_csv_export_imports_back_and_a_partial_table_adds_values(lab: tuple[TestClient, list[str]]) -> None:
    client, _ = lab
    csv_header = {"Content-Type": "text/csv"}
    (pending,) = client.post(f"{URL}/ask", json={"n": 1}).json()["experiments"]
    added = client.post(f"{URL}/import/csv", content=f"id,yield\n{pending['id']},77\n".encode(), headers=csv_header)
    assert added.status_code == 200 and added.json()[0]["results"] == {"yield": 77.0}
    exported = client.get(f"{URL}/export").content
    assert exported.splitlines()[0].startswith(b"id,seq,status,origin,x,yield,cost,stability")
    again = client.post(f"{URL}/import/csv", content=exported, headers=csv_header)
    assert again.status_code == 200 and again.json() == [] and again.headers["Kiln-Skipped"] == "5"


def test_the_front_is_read_only_within_the_tokens_campaigns(backend_store: Store) -> None:
    tokens = scoped_tokens(backend_store)
    app = create_app(backend_store)
    assert http(app, tokens["admin"]).post("/api/v1/campaigns", json=SEVERAL).status_code == 201
    assert http(app, tokens["other"]).get(f"{URL}/front").status_code == 403
    assert http(app).get(f"{URL}/front").status_code == 401
    assert http(app, tokens["read"]).get(f"{URL}/front").json()["front"] == []


def test_the_model_of_each_quantity(lab: tuple[TestClient, list[str]]) -> None:
    client, _ = lab
    for quantity in ("yield", "stability"):
        answer = client.get(f"{URL}/model", params={"parameter": "x", "points": 5, "quantity": quantity})
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["mean"]) == 5
    assert client.get(f"{URL}/model", params={"parameter": "x"}).status_code == 409  # no single target
    unknown = client.get(f"{URL}/model", params={"parameter": "x", "quantity": "nope"})
    assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "quantity"
