"""Nothing stored can break a later read: JSON values are bounded in depth and size, and no text holds a NUL
character (PostgreSQL refuses them; a SQLite store must hold only what PostgreSQL could)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backends import POSTGRES_URL, fresh_postgres
from kiln.core.errors import ValidationError
from kiln.core.records import Experiment
from kiln.store.schema import JSON_DEPTH_MAX, JSON_SIZE_MAX
from kiln.store.sql import SqlStore

CONFIG = {"schema": 1, "space": {}}


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    url = fresh_postgres() if request.param == "postgresql" else f"sqlite:///{tmp_path / 'k.db'}"
    opened = SqlStore(url)
    opened.create_campaign("c", CONFIG)
    opened.add_experiments("c", [Experiment(id="e1", seq=0, params={"x": 1.0})])
    yield opened
    opened.close()


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = {"a": value}
    return value


@pytest.mark.parametrize("levels", [JSON_DEPTH_MAX + 1, 260, 5000])
def test_deep_json_is_refused_and_reads_go_on(store: SqlStore, levels: int) -> None:
    with pytest.raises(ValidationError) as outputs:
        store.complete("c", "e1", {"y": 1.0}, outputs={"deep": nested(levels)})
    assert "levels" in outputs.value.allowed and outputs.value.field.startswith("outputs.deep")
    with pytest.raises(ValidationError):
        store.add_experiments("c", [Experiment(id="e2", seq=0, params={"x": nested(levels)})])
    with pytest.raises(ValidationError):
        store.create_campaign("d", {**CONFIG, "extra": nested(levels)})
    assert [e.id for e in store.experiments("c")] == ["e1"] and store.experiments("c")[0].outputs == {}
    done = store.complete("c", "e1", {"y": 1.0}, outputs={"fine": nested(JSON_DEPTH_MAX - 2)})
    assert store.get_experiment("c", "e1").outputs == done.outputs


def test_json_values_are_bounded_in_size(store: SqlStore) -> None:
    with pytest.raises(ValidationError) as error:
        store.complete("c", "e1", {"y": 1.0}, outputs={"blob": "x" * JSON_SIZE_MAX})
    assert error.value.field == "outputs" and "characters" in error.value.allowed


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.fail("c", "e1", "crack\x00ed"),
        lambda s: s.complete("c", "e1", {"y": 1.0}, outputs={"note": "a\x00b"}),
        lambda s: s.complete("c", "e1", {"y": 1.0}, outputs={"k\x00": 1}),
        lambda s: s.flag("c", "e1", "look\x00"),
        lambda s: s.dispatch("c", "e1", "robot\x00"),
        lambda s: s.add_experiments("c", [Experiment(id="e\x002", seq=0, params={"x": 1.0})]),
        lambda s: s.add_experiments("c", [Experiment(id="e2", seq=0, params={"solvent": "wa\x00ter"})]),
        lambda s: s.get_experiment("c", "e\x001"),
        lambda s: s.get_campaign("c\x00"),
        lambda s: s.experiments("c\x00"),
        lambda s: s.get_token("robot\x00"),
        lambda s: s.discard("c", "e1", note="why\x00"),
    ],
)
def test_nul_characters_are_a_validation_error_on_every_backend(store: SqlStore, write: Any) -> None:
    with pytest.raises(ValidationError) as error:
        write(store)
    assert "NUL" in error.value.allowed
    assert [(e.id, e.status.value, e.attention, e.instrument) for e in store.experiments("c")] == [
        ("e1", "pending", "", "")
    ]
