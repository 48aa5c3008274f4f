"""GET /campaigns/{name}/image-map: the overview, the measured pixels and the predicted map of a campaign on an
overview image's pixels; refused (409) for other campaigns, cached until the campaign changes, behind the token."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kiln import Campaign, Objective
from kiln.server.app import create_app
from kiln.server.auth import create_token
from kiln.space.pool_image import pixel_pool
from kiln.store import open_store
from server_helpers import http

SIDE = 16


def microscope_campaign(url: str) -> Campaign:
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    image = np.exp(-((x - 4) ** 2 + (y - 10) ** 2) / 10.0)
    pool = pixel_pool(image, patch=5)
    objective = Objective.maximize("loop_area")
    campaign = Campaign.create("scope", space=pool, objective=objective, strategy="random", store=url)
    for experiment in campaign.ask(8):
        p = experiment.params
        campaign.tell(experiment.id, {"loop_area": 2.0 + float(image[int(p["y"]), int(p["x"])])})
    campaign.ask(1)  # one suggestion waiting
    return campaign


def test_the_map_of_a_microscope_campaign_is_served_and_cached(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = microscope_campaign(url)
    store = open_store(url)
    reader = create_token(store, "reader", "read")[1]
    app = create_app(store)
    client = http(app, reader)
    info = client.get("/api/v1/campaigns/scope").json()
    assert info["image"] is True
    answer = client.get("/api/v1/campaigns/scope/image-map").json()
    assert answer["target"] == "loop_area" and len(answer["measured"]) == 8 and len(answer["pending"]) == 1
    assert np.array(answer["mean"], dtype=float).shape == (SIDE, SIDE)
    assert np.array(answer["image"]).shape == (SIDE, SIDE) and answer["least_sure"]["std"] > 0
    fits = app.state.models.fits
    client.get("/api/v1/campaigns/scope/image-map")
    assert app.state.models.fits == fits  # unchanged campaign: the cached answer
    experiment = campaign.pending()[0]
    campaign.tell(experiment.id, {"loop_area": 2.5})
    again = client.get("/api/v1/campaigns/scope/image-map").json()
    assert len(again["measured"]) == 9 and app.state.models.fits == fits + 1
    assert http(app).get("/api/v1/campaigns/scope/image-map").status_code == 401  # no token, no work


def test_a_campaign_without_an_image_gets_a_409_that_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    from kiln import Continuous, SearchSpace

    Campaign.create("films", space=SearchSpace([Continuous("x", 0, 1)]), objective=Objective.maximize("y"), store=url)
    store = open_store(url)
    client = http(create_app(store), create_token(store, "reader", "read")[1])
    assert client.get("/api/v1/campaigns/films").json()["image"] is False
    answer = client.get("/api/v1/campaigns/films/image-map")
    assert answer.status_code == 409 and "no overview image" in answer.json()["detail"]["message"]


def test_the_campaigns_state_without_its_configuration_leaves_the_rows_and_the_image_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    microscope_campaign(url)
    store = open_store(url)
    client = http(create_app(store), create_token(store, "reader", "read")[1])
    whole = client.get("/api/v1/campaigns/scope")
    state = client.get("/api/v1/campaigns/scope?config=false")
    assert whole.status_code == state.status_code == 200
    image = whole.json()["config"]["space"]["image"]["data"]  # the overview, base64, in the whole answer only
    assert "config" not in state.json() and image not in state.text and len(state.content) < len(image)
    assert {k: v for k, v in whole.json().items() if k != "config"} == state.json()  # nothing else differs
    assert client.get("/api/v1/campaigns/scope?config=maybe").json()["detail"]["field"] == "config"
