"""The REST API: tokens and scopes, campaigns, ask (in the request or as a job), tell, fail, import, export,
pending, events; and the Python client with the surface of a local campaign."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kiln import Campaign
from kiln.client import Client
from kiln.core.errors import NotFoundError, StateError, ValidationError
from kiln.server.auth import create_token
from kiln.store.base import Store
from server_helpers import SPEC, create_app, http, scoped_tokens


@pytest.fixture
def setup(backend_store: Store) -> tuple[Any, dict[str, str]]:
    """A store on each backend, with a read, a write, an admin and a campaign-limited token."""
    return backend_store, scoped_tokens(backend_store)


def films_writer(setup: tuple[Any, dict[str, str]]) -> tuple[Any, TestClient]:
    """The app over ``setup``'s store with the campaign ``films`` made, and a client with the write token."""
    store, tokens = setup
    app = create_app(store)
    http(app, tokens["admin"]).post("/api/v1/campaigns", json=SPEC)
    return app, http(app, tokens["write"])


def test_tokens_and_scopes(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store)
    admin = http(app, tokens["admin"])
    assert admin.post("/api/v1/campaigns", json=SPEC).status_code == 201
    assert admin.post("/api/v1/campaigns", json={**SPEC, "name": "other"}).status_code == 201
    assert http(app).get("/api/v1/campaigns").status_code == 401
    assert http(app, "kiln_wrong").get("/api/v1/campaigns").status_code == 401
    reader = http(app, tokens["read"])
    assert [c["name"] for c in reader.get("/api/v1/campaigns").json()] == ["films", "other"]
    denied = reader.post("/api/v1/campaigns/films/ask", json={"n": 1})
    assert denied.status_code == 403 and "write" in denied.json()["detail"]["message"]
    assert http(app, tokens["write"]).post("/api/v1/campaigns", json={**SPEC, "name": "x"}).status_code == 403
    limited = http(app, tokens["other"])
    assert [c["name"] for c in limited.get("/api/v1/campaigns").json()] == ["other"]
    assert limited.get("/api/v1/campaigns/films").status_code == 403
    assert limited.get("/api/v1/campaigns/films/export").status_code == 403
    assert limited.post("/api/v1/campaigns/other/ask", json={"n": 1}).status_code == 200
    store.revoke_token("read-token")
    assert reader.get("/api/v1/campaigns").status_code == 401
    public = create_app(store, public_read=True)
    assert http(public).get("/api/v1/campaigns/films").status_code == 200
    assert http(public).post("/api/v1/campaigns/films/ask", json={"n": 1}).status_code == 401
    assert http(app).get("/openapi.json").json()["info"]["title"] == "Kiln"


def test_ask_tell_fail_import_export_events(setup: tuple[Any, dict[str, str]]) -> None:
    _, writer = films_writer(setup)
    answer = writer.post("/api/v1/campaigns/films/ask", json={"n": 2}).json()
    assert answer["status"] == "done" and len(answer["experiments"]) == 2
    first, second = answer["experiments"]
    assert writer.get("/api/v1/campaigns/films/pending").json()[0]["id"] == first["id"]
    body = {"value": 0.5, "outputs": {"purity": 0.9}, "note": "hazy film"}
    told = writer.post(f"/api/v1/campaigns/films/experiments/{first['id']}/tell", json=body)
    assert told.status_code == 200 and told.json()["results"] == {"y": 0.5}
    assert told.json()["note"] == "hazy film" and told.json()["outputs"] == {"purity": 0.9}
    again = writer.post(f"/api/v1/campaigns/films/experiments/{first['id']}/tell", json={"value": 0.7})
    assert again.status_code == 409
    failed = writer.post(f"/api/v1/campaigns/films/experiments/{second['id']}/fail", json={"reason": "cracked"})
    assert failed.json()["status"] == "failed"
    imported = writer.post("/api/v1/campaigns/films/import", json={"rows": [{"x": 0.25, "y": 0.9}]})
    assert imported.status_code == 200 and imported.json()[0]["origin"] == "imported"
    csv = writer.get("/api/v1/campaigns/films/export").text
    assert csv.splitlines()[0].startswith("id,") and len(csv.strip().splitlines()) == 4
    rows = writer.get("/api/v1/campaigns/films/export?format=json").json()
    assert len(rows) == 3 and rows[0]["note"] == "hazy film" and rows[0]["purity"] == 0.9
    events = writer.get("/api/v1/campaigns/films/events?after=0").json()
    kinds = [e["kind"] for e in events["events"]]
    assert "experiment_completed" in kinds and "experiment_failed" in kinds
    later = writer.get(f"/api/v1/campaigns/films/events?after={events['cursor']}").json()
    assert later["events"] == [] and later["cursor"] == events["cursor"]
    best = writer.get("/api/v1/campaigns/films").json()["best"]
    assert best["results"] == {"y": 0.9}


def test_bad_input_names_the_field_and_changes_nothing(setup: tuple[Any, dict[str, str]]) -> None:
    _, tokens = setup
    app, writer = films_writer(setup)
    (made,) = writer.post("/api/v1/campaigns/films/ask", json={"n": 1}).json()["experiments"]
    url = f"/api/v1/campaigns/films/experiments/{made['id']}/tell"
    wrong_type = writer.post(url, json={"value": "abc"})
    assert wrong_type.status_code == 422 and wrong_type.json()["detail"]["field"] == "value"
    assert wrong_type.json()["detail"]["errors"][0]["loc"] == ["body", "value"]
    both = writer.post(url, json={"value": 1.0, "results": {"y": 1.0}})
    assert both.status_code == 422 and both.json()["detail"]["field"] == "value/results"
    unknown_target = writer.post(url, json={"results": {"z": 1.0}})
    assert unknown_target.status_code == 422 and unknown_target.json()["detail"]["field"] == "results"
    assert writer.post("/api/v1/campaigns/films/ask", json={"n": 0}).status_code == 422
    assert writer.get("/api/v1/campaigns/nope").status_code == 404
    bad_import = writer.post("/api/v1/campaigns/films/import", json={"rows": [{"x": 7.0, "y": 1.0}]})
    assert bad_import.status_code == 422 and "x" in bad_import.json()["detail"]["field"]
    assert [e["status"] for e in writer.get("/api/v1/campaigns/films/experiments").json()] == ["pending"]
    spec_error = http(app, tokens["admin"]).post("/api/v1/campaigns", json={**SPEC, "name": "y", "objective": 3})
    assert spec_error.status_code == 422 and spec_error.json()["detail"]["field"].startswith("objective")


def test_a_slow_ask_becomes_a_job(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store, ask_wait=0.0)
    http(app, tokens["admin"]).post("/api/v1/campaigns", json={**SPEC, "strategy": {"kind": "default", "initial": 1}})
    writer = http(app, tokens["write"])
    answer = writer.post("/api/v1/campaigns/films/ask", json={"n": 1})
    assert answer.status_code in (200, 202)
    body = answer.json()
    deadline = time.monotonic() + 60
    while body["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        body = writer.get(f"/api/v1/jobs/{body['job']}").json()
    assert body["status"] == "done" and len(body["experiments"]) == 1
    assert writer.get("/api/v1/jobs/job-999").status_code == 404


def test_the_client_has_the_surface_of_a_local_campaign(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store, ask_wait=0.0)
    admin = Client("http://testserver", tokens["admin"], http=TestClient(app), poll_interval=0.02)
    campaign = admin.create(SPEC)
    lab = Client("http://testserver", tokens["write"], http=TestClient(app), poll_interval=0.02).open("films")
    for experiment in lab.ask(3):  # a lab script, unchanged but for how the campaign is opened
        lab.tell(experiment.id, experiment.params["x"] ** 2, note=f"run {experiment.seq}")
    (extra,) = lab.ask(1)
    lab.fail(extra.id, "spilled")
    lab.add_data([{"x": 0.5, "y": 0.3}])
    assert [e.status.value for e in lab.experiments()] == ["completed"] * 3 + ["failed", "completed"]
    assert lab.pending() == [] and lab.best() is not None
    assert [e.note for e in lab.experiments()][:3] == ["run 1", "run 2", "run 3"]
    assert len(lab.to_dataframe()) == 5 and campaign.name == "films"
    with pytest.raises(StateError):
        lab.fail(extra.id, "again")
    with pytest.raises(NotFoundError):
        lab.client.open("nope")
    with pytest.raises(ValidationError) as error:
        lab.tell(extra.id, {"z": 1.0})
    assert error.value.field == "results"
    assert admin.campaigns() == ["films"]


def test_the_client_raises_what_a_local_campaign_raises(setup: tuple[Any, dict[str, str]]) -> None:
    """NaN and infinity are a ValidationError naming the result (not httpx's ValueError), nothing is sent; an
    unknown id is NotFoundError; a finished experiment is StateError; reprs say what they are."""
    store, tokens = setup
    app = create_app(store, ask_wait=0.0)
    admin = Client("http://testserver", tokens["admin"], http=TestClient(app), poll_interval=0.02)
    admin.create(SPEC)
    lab = admin.open("films")
    (experiment,) = lab.ask(1)
    local = Campaign.open("films", store=store)
    for bad in (math.nan, {"y": math.inf}):
        with pytest.raises(ValidationError) as remote_error:
            lab.tell(experiment.id, bad)
        with pytest.raises(ValidationError) as local_error:
            local.tell(experiment.id, bad)
        assert remote_error.value.field.startswith("result") and local_error.value.field.startswith("result")
        assert "NaN and infinite values are not allowed" in str(remote_error.value)
    with pytest.raises(ValidationError) as output_error:
        lab.tell(experiment.id, 1.0, outputs={"trace": [1.0, math.nan]})
    assert output_error.value.field == "outputs.trace.1"
    assert [e.status.value for e in lab.experiments()] == ["pending"]
    with pytest.raises(NotFoundError):
        lab.tell("exp-0000000000", 1.0)
    lab.tell(experiment.id, 2.0)
    with pytest.raises(StateError):
        lab.tell(experiment.id, 3.0)
    assert repr(admin) == "Client('http://testserver', with a token)"
    assert repr(lab) == "RemoteCampaign('films', server='http://testserver')"
    assert repr(local).startswith("Campaign('films', store=")


def test_csv_import_takes_a_table_and_an_export_as_it_is(setup: tuple[Any, dict[str, str]]) -> None:
    _, tokens = setup
    app, writer = films_writer(setup)
    (pending,) = writer.post("/api/v1/campaigns/films/ask", json={"n": 1}).json()["experiments"]
    table = f"x,y,id\n0.1,1.5,\n0.2,2.5,\n{pending['params']['x']},3.5,{pending['id']}\n"
    csv_header = {"Content-Type": "text/csv"}
    added = writer.post("/api/v1/campaigns/films/import/csv", content=table.encode(), headers=csv_header)
    assert added.status_code == 200, added.text
    assert sorted(e["results"]["y"] for e in added.json()) == [1.5, 2.5, 3.5]
    assert writer.get("/api/v1/campaigns/films/pending").json() == []
    exported = writer.get("/api/v1/campaigns/films/export").content
    before = writer.get("/api/v1/campaigns/films").json()["counts"]
    again = writer.post("/api/v1/campaigns/films/import/csv", content=exported, headers=csv_header)
    assert again.status_code == 200 and again.json() == []  # every row is stored already: skipped
    changed = exported.replace(b",3.5,", b",3.75,")
    assert changed != exported
    refused = writer.post("/api/v1/campaigns/films/import/csv", content=changed, headers=csv_header)
    assert refused.status_code == 422 and "kiln amend" in refused.json()["detail"]["fix"]
    for bad, field in [(b"", "csv"), (b"x,y\n9.0,1.0\n", "row 1: parameter 'x'"), (b"\xff\xfe\x00", "csv")]:
        refused = writer.post("/api/v1/campaigns/films/import/csv", content=bad, headers=csv_header)
        assert refused.status_code == 422 and refused.json()["detail"]["field"] == field, refused.text
    assert writer.get("/api/v1/campaigns/films").json()["counts"] == before
    reader = http(app, tokens["read"])
    assert (
        reader.post("/api/v1/campaigns/films/import/csv", content=table.encode(), headers=csv_header).status_code == 403
    )


def test_a_campaign_named_in_unicode_works_over_rest_and_the_client(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store, ask_wait=0.0)
    name = "Überprüfung-α"
    admin = Client("http://testserver", tokens["admin"], http=TestClient(app), poll_interval=0.02)
    remote = admin.create({**SPEC, "name": name})
    assert remote.name == name and admin.campaigns() == [name]
    (made,) = remote.ask(1)
    assert remote.tell(made.id, 0.5).results == {"y": 0.5}
    assert len(remote.to_dataframe()) == 1 and remote.best() is not None
    writer = http(app, tokens["write"])
    encoded = "/api/v1/campaigns/%C3%9Cberpr%C3%BCfung-%CE%B1"
    shown = writer.get(encoded)
    assert shown.status_code == 200 and shown.json()["name"] == name and shown.json()["counts"]["completed"] == 1
    assert writer.get(f"{encoded}/experiments").json()[0]["id"] == made.id
    scoped = create_token(store, "alpha-only", "read", [name])[1]
    assert http(app, scoped).get(encoded).status_code == 200


def test_units_come_with_the_campaign_and_the_model(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store)
    spec = {**SPEC, "space": {"parameters": [{**SPEC["space"]["parameters"][0], "unit": "mg/mL", "precision": 0.01}]}}
    spec["objective"] = {**SPEC["objective"], "unit": "S/cm"}
    http(app, tokens["admin"]).post("/api/v1/campaigns", json=spec)
    writer = http(app, tokens["write"])
    assert writer.get("/api/v1/campaigns/films").json()["units"] == {"x": "mg/mL", "y": "S/cm"}
    for made in writer.post("/api/v1/campaigns/films/ask", json={"n": 3}).json()["experiments"]:
        assert made["params"]["x"] == round(made["params"]["x"], 2)
        writer.post(f"/api/v1/campaigns/films/experiments/{made['id']}/tell", json={"value": made["params"]["x"]})
    model = writer.get("/api/v1/campaigns/films/model?parameter=x&points=5")
    assert model.status_code == 200 and model.json()["unit"] == "mg/mL"


def test_the_client_imports_a_csv_file_as_a_local_campaign_does(
    setup: tuple[Any, dict[str, str]], tmp_path: Path
) -> None:
    store, tokens = setup
    app = create_app(store)
    http(app, tokens["admin"]).post("/api/v1/campaigns", json=SPEC)
    lab = Client("http://testserver", tokens["write"], http=TestClient(app)).open("films")
    (made,) = lab.ask(1)
    path = tmp_path / "results.csv"
    path.write_text(f'id,x,y,peaks,note\n{made.id},{made.params["x"]:.4f},1.5,"[1, 2]",hazy\n,0.5,2.5,,\n')
    added = lab.add_data(str(path))
    assert [e.results["y"] for e in added] == [1.5, 2.5] and added.skipped == 0
    assert added[0].outputs == {"peaks": [1, 2]} and added[0].note == "hazy"  # the cell read as JSON, as locally
    again = lab.add_data(path)
    assert [e.params for e in again] == [{"x": 0.5}] and again.skipped == 1  # the row with an id is stored already
