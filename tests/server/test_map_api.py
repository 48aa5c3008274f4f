"""GET /campaigns/{name}/map: the estimated error of a ``goal: map`` campaign's model and where it is least sure,
cached until the campaign changes, behind the token."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kiln import Campaign
from kiln.objective import Objective, Target
from kiln.server.app import create_app
from kiln.server.auth import create_token
from kiln.space.pool import CandidatePool
from kiln.store import open_store
from server_helpers import http


def test_the_map_error_is_served_and_cached(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    pool = CandidatePool(["a", "b"], [(i / 9, j / 9) for i in range(10) for j in range(10)])
    campaign = Campaign.create("mapping", space=pool, objective=Objective((Target("y"),), goal="map"), store=url)
    for experiment in campaign.ask(8):
        campaign.tell(experiment.id, {"y": float(np.sin(3 * experiment.params["a"]) + experiment.params["b"])})
    store = open_store(url)
    app = create_app(store)
    client = http(app, create_token(store, "reader", "read")[1])
    assert client.get("/api/v1/campaigns/mapping").json()["goal"] == "map"
    answer = client.get("/api/v1/campaigns/mapping/map").json()
    (target,) = answer["targets"]
    assert answer["goal"] == "map" and target["target"] == "y" and target["measured"] == 8
    assert target["loo_rmse"] > 0 and target["mean_std"] > 0 and set(target["least_sure"]) == {"a", "b"}
    fits = app.state.models.fits
    client.get("/api/v1/campaigns/mapping/map")
    assert app.state.models.fits == fits  # unchanged campaign: the cached answer
    (experiment,) = campaign.ask(1)
    campaign.tell(experiment.id, {"y": 0.5})
    assert client.get("/api/v1/campaigns/mapping/map").json()["targets"][0]["measured"] == 9
    assert app.state.models.fits == fits + 1
    assert http(app).get("/api/v1/campaigns/mapping/map").status_code == 401  # no token, no work
