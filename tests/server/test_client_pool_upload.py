"""A spec whose pool is a CSV file on the client: the client reads it and uploads it inline (the server reads no
files on a client's say), and the campaign made is the one a local ``kiln run`` of the same spec would make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kiln.client import Client
from kiln.core.errors import ValidationError
from kiln.core.pool_file import inline_pool
from kiln.lab.spec import spec_from_dict
from kiln.server.app import create_app
from kiln.server.auth import create_token
from kiln.store import open_store

TABLE = "temperature,solvent,plate,yield\n20,water,1,0.5\n35.5,ethanol,2,0.7\n50,water,3,0.1\n20,water,1,0.9\n"
SPEC: dict[str, Any] = {
    "name": "plate",
    "pool": {"csv": "plate.csv", "inputs": ["temperature", "solvent", "plate"], "units": {"temperature": "°C"}},
    "objective": {"target": "yield", "direction": "max"},
    "strategy": {"kind": "random"},
}


@pytest.fixture
def admin(tmp_path: Path) -> Client:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    _, secret = create_token(store, "admin", "admin")
    return Client("http://testserver", secret, http=TestClient(create_app(store)), poll_interval=0.02)


def test_a_pool_file_is_uploaded_and_gives_the_campaign_a_local_run_would_make(tmp_path: Path, admin: Client) -> None:
    (tmp_path / "plate.csv").write_text(TABLE)
    campaign = admin.create(SPEC, folder=tmp_path)
    shown = admin.request("GET", "/campaigns/plate")
    local = spec_from_dict(SPEC, base=tmp_path).config.to_json()
    assert shown["config"]["space"] == local["space"]  # identical rows, types and units
    assert shown["units"]["temperature"] == "°C"
    suggested = [e.params for e in campaign.ask(3)]
    assert sorted((p["temperature"], p["solvent"], p["plate"]) for p in suggested) == [
        (20, "water", 1),
        (35.5, "ethanol", 2),
        (50, "water", 3),
    ]


def test_the_upload_is_what_the_server_gets_not_the_path(tmp_path: Path) -> None:
    (tmp_path / "plate.csv").write_text(TABLE)
    sent = inline_pool(SPEC, tmp_path)
    assert "pool" not in sent and sent["space"]["kind"] == "pool"
    assert sent["space"]["columns"] == ["temperature", "solvent", "plate"]
    assert sent["space"]["rows"][1] == [35.5, "ethanol", 2]
    assert SPEC["pool"]["csv"] == "plate.csv"  # the caller's spec is not changed


@pytest.mark.parametrize(
    ("table", "field"),
    [
        (None, "pool.csv"),
        ("temperature,solvent,plate\n", "pool.csv"),
        ("temperature,solvent,plate\n20,water\n", "pool.csv: row 1"),
        ("temperature,solvent,plate\n20,,1\n", "pool.csv: plate.csv column 'solvent'"),
    ],
)
def test_a_bad_pool_file_is_refused_on_the_client_and_nothing_is_sent(
    tmp_path: Path, admin: Client, table: str | None, field: str
) -> None:
    if table is not None:
        (tmp_path / "plate.csv").write_text(table)
    with pytest.raises(ValidationError) as caught:
        admin.create(SPEC, folder=tmp_path)
    assert caught.value.field == field
    assert admin.campaigns() == []


def test_inputs_that_are_not_columns_are_named(tmp_path: Path) -> None:
    (tmp_path / "plate.csv").write_text(TABLE)
    with pytest.raises(ValidationError, match="pressure"):
        inline_pool({**SPEC, "pool": {"csv": "plate.csv", "inputs": ["pressure"]}}, tmp_path)
