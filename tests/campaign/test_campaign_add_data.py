"""Campaign.add_data and to_dataframe: imports from DataFrames, CSV files and row dicts; export and re-import."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective, SearchSpace, ValidationError
from kiln.core.records import Origin

TARGET = "y"
GOOD = {"temperature": 50.0, "cycles": 2, "solvent": "water", "A": 20.0, "B": 30.0, "C": 50.0, TARGET: 1.0}


def _create(space: Any, store_url: str, name: str = "c") -> Campaign:
    return Campaign.create(name, space=space, objective=Objective.maximize(TARGET), strategy="random", store=store_url)


def _row(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def _same_params(got: Any, expected: Any) -> bool:
    """Equal parameters: numbers within 1e-12 relative (a CSV round trip), everything else exactly."""
    return set(got) == set(expected) and all(
        got[k] == expected[k] if isinstance(expected[k], str) else math.isclose(got[k], expected[k], rel_tol=1e-12)
        for k in expected
    )


def _stored(campaign: Campaign) -> list[Any]:
    return Campaign.open(campaign.name, store=campaign.store).experiments()


# ------------------------------------------------------------------------------------------------ good imports
def test_add_data_from_rows_stores_completed_imported_experiments(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    added = campaign.add_data([_row(), _row(temperature=80, cycles=5, solvent="toluene", **{TARGET: 3.5})])
    assert [e.seq for e in added] == [1, 2]
    assert all(e.status is ExperimentStatus.COMPLETED and e.origin is Origin.IMPORTED for e in added)
    assert all(e.batch == 0 and e.strategy == "" and e.candidate is None for e in added)
    assert dict(added[1].params) == {
        "temperature": 80.0,
        "cycles": 5,
        "solvent": "toluene",
        "A": 20.0,
        "B": 30.0,
        "C": 50.0,
    }
    assert isinstance(added[1].params["cycles"], int)
    assert added[1].results == {TARGET: 3.5}
    assert _stored(campaign) == added
    assert campaign.best() == added[1]


def test_add_data_from_a_dataframe(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    frame = pd.DataFrame([_row(), _row(cycles=3, **{TARGET: 2.0})])
    added = campaign.add_data(frame)
    assert [e.params["cycles"] for e in added] == [2, 3]
    assert [e.results[TARGET] for e in added] == [1.0, 2.0]
    assert len(_stored(campaign)) == 2


def test_add_data_from_a_csv_path(space: SearchSpace, store_url: str, tmp_path: Path) -> None:
    campaign = _create(space, store_url)
    path = tmp_path / "data.csv"
    pd.DataFrame([_row(), _row(solvent="ethanol", **{TARGET: -2.0})]).to_csv(path, index=False)
    added = campaign.add_data(str(path))
    assert [e.params["solvent"] for e in added] == ["water", "ethanol"]
    assert [e.results[TARGET] for e in added] == [1.0, -2.0]
    assert campaign.add_data(path)[0].seq == 3  # a Path works too


def test_add_data_with_ids_completes_pending_suggestions(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, b, c = campaign.ask(3)
    rows = [
        {"id": a.id, **dict(a.params), TARGET: 10.0},
        {"id": None, **_row(**{TARGET: 20.0})},
        {"id": c.id, **dict(c.params), TARGET: 30.0},
    ]
    added = campaign.add_data(rows)
    assert len(added) == 3
    stored = {e.id: e for e in _stored(campaign)}
    assert len(stored) == 4
    assert stored[a.id].status is ExperimentStatus.COMPLETED and stored[a.id].results == {TARGET: 10.0}
    assert stored[a.id].origin is Origin.SUGGESTED and stored[a.id].params == a.params
    assert stored[b.id].status is ExperimentStatus.PENDING
    assert stored[c.id].results == {TARGET: 30.0}
    new = [e for e in stored.values() if e.origin is Origin.IMPORTED]
    assert len(new) == 1 and new[0].results == {TARGET: 20.0} and new[0].seq == 4


def test_add_data_id_column_in_a_csv(space: SearchSpace, store_url: str, tmp_path: Path) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    path = tmp_path / "results.csv"
    pd.DataFrame([{"id": a.id, **dict(a.params), TARGET: 5.0}, {"id": "", **_row()}]).to_csv(path, index=False)
    added = campaign.add_data(path)
    assert added[0].id == a.id
    assert [e.status for e in _stored(campaign)] == [ExperimentStatus.COMPLETED] * 2


def test_export_has_one_row_per_experiment(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, b, c = campaign.ask(3)
    campaign.tell(a.id, 4.0)
    campaign.fail(b.id, "broken")
    frame = campaign.to_dataframe()
    assert list(frame.columns[:4]) == ["id", "seq", "status", "origin"]
    assert list(frame.columns[4:11]) == [*space.names, TARGET]
    assert list(frame["id"]) == [a.id, b.id, c.id]
    assert list(frame["status"]) == ["completed", "failed", "pending"]
    assert frame.loc[0, TARGET] == 4.0 and math.isnan(frame.loc[1, TARGET]) and math.isnan(frame.loc[2, TARGET])
    assert frame.loc[1, "reason"] == "broken"
    for i, experiment in enumerate((a, b, c)):
        assert _same_params({p: frame.loc[i, p] for p in space.names}, experiment.params)


def test_export_reimports_into_a_new_campaign(space: SearchSpace, store_url: str, tmp_path: Path) -> None:
    source = _create(space, store_url, "source")
    asked = source.ask(5)
    for i, experiment in enumerate(asked[:3]):
        source.tell(experiment.id, float(i))
    source.fail(asked[3].id, "broken")
    source.add_data([_row(**{TARGET: 9.0})])
    path = tmp_path / "export.csv"
    source.to_dataframe().drop(columns=["id"]).to_csv(path, index=False)

    target = _create(space, store_url, "copy")
    added = target.add_data(path)
    completed = [e for e in source.experiments() if e.status is ExperimentStatus.COMPLETED]
    assert len(added) == len(completed) == 4  # failed and pending rows are skipped
    for new, old in zip(added, completed, strict=True):
        assert new.origin is Origin.IMPORTED and new.status is ExperimentStatus.COMPLETED
        assert _same_params(new.params, old.params)
        assert type(new.params["cycles"]) is int
        assert new.results == old.results
    assert len(_stored(target)) == 4


def test_export_of_a_pool_campaign_reimports_with_candidates(pool: CandidatePool, store_url: str) -> None:
    source = _create(pool, store_url, "source")
    for experiment in source.ask(3):
        source.tell(experiment.id, float(experiment.candidate))
    target = _create(pool, store_url, "copy")
    added = target.add_data(source.to_dataframe().drop(columns=["id"]))
    assert [e.candidate for e in added] == [e.candidate for e in source.experiments()]
    assert {e.candidate for e in target.ask(len(pool))}.isdisjoint(e.candidate for e in added)


# ------------------------------------------------------------------------------------------------- bad imports
@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"temperature": 500.0}, "row 2: parameter 'temperature'"),
        ({"temperature": float("nan")}, "row 2: parameter 'temperature'"),
        ({"cycles": 9}, "row 2: parameter 'cycles'"),
        ({"cycles": 2.5}, "row 2: parameter 'cycles'"),
        ({"solvent": "acetone"}, "row 2: parameter 'solvent'"),
        ({"A": 30.0}, "row 2: composition 'mix'"),
        ({"A": -5.0, "B": 55.0}, "row 2: parameter 'A'"),
        ({TARGET: float("nan")}, "row 2: result 'y'"),
        ({TARGET: float("inf")}, "row 2: result 'y'"),
        ({TARGET: "high"}, "row 2: result 'y'"),
    ],
)
def test_a_bad_row_names_its_number_and_adds_nothing(
    space: SearchSpace, store_url: str, bad: dict[str, Any], field: str
) -> None:
    campaign = _create(space, store_url)
    campaign.add_data([_row()])
    (pending,) = campaign.ask(1)
    before = _stored(campaign)
    rows = [{"id": pending.id, **dict(pending.params), TARGET: 1.0}, _row(**bad), _row()]
    with pytest.raises(ValidationError) as error:
        campaign.add_data(rows)
    assert error.value.field == field
    assert str(error.value).startswith(field)
    assert _stored(campaign) == before  # not even the valid first row (a pending suggestion) was told
    assert len(campaign.experiments()) == 2


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (pd.DataFrame([{k: v for k, v in GOOD.items() if k != "cycles"}]), "missing ['cycles']"),
        (pd.DataFrame([{k: v for k, v in GOOD.items() if k != TARGET}]), "missing ['y']"),
        (
            pd.DataFrame([{**{k: v for k, v in GOOD.items() if k != "cycles"}, "cycels": 2}]),
            "missing ['cycles']; other columns ['cycels'] are kept as outputs",
        ),
    ],
)
def test_wrong_columns_are_named_and_nothing_is_added(
    space: SearchSpace, store_url: str, frame: pd.DataFrame, words: str
) -> None:
    campaign = _create(space, store_url)
    with pytest.raises(ValidationError) as error:
        campaign.add_data(frame)
    assert error.value.field == "columns"
    assert words in str(error.value)
    assert campaign.experiments() == []


def test_missing_or_unreadable_csv_is_a_validation_error(space: SearchSpace, store_url: str, tmp_path: Path) -> None:
    campaign = _create(space, store_url)
    with pytest.raises(ValidationError, match=r"^file"):
        campaign.add_data(str(tmp_path / "absent.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValidationError, match=r"^file"):
        campaign.add_data(empty)
    assert campaign.experiments() == []


def test_unknown_id_is_rejected_with_its_row(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    campaign.ask(1)
    before = _stored(campaign)
    with pytest.raises(ValidationError) as error:
        campaign.add_data([_row(), {"id": "exp-0000000000", **_row()}])
    assert error.value.field == "row 2: id"
    assert _stored(campaign) == before


def test_an_id_that_is_no_longer_pending_is_rejected(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, b = campaign.ask(2)
    campaign.tell(a.id, 1.0)
    before = _stored(campaign)
    with pytest.raises(ValidationError, match="is completed with") as error:
        campaign.add_data([{"id": b.id, **dict(b.params), TARGET: 2.0}, {"id": a.id, **dict(a.params), TARGET: 2.0}])
    assert error.value.field == "row 2: y"
    assert f"kiln amend c {a.id}" in str(error.value)
    assert _stored(campaign) == before


def test_a_repeated_id_is_rejected_and_nothing_is_added(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    before = _stored(campaign)
    rows = [{"id": a.id, **dict(a.params), TARGET: 1.0}, {"id": a.id, **dict(a.params), TARGET: 2.0}]
    try:
        with pytest.raises(ValidationError, match="row 2: id"):
            campaign.add_data(rows)
    finally:
        assert _stored(campaign) == before


def test_a_row_whose_parameters_contradict_its_id_is_rejected(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    other = 20.0 if a.params["temperature"] > 100 else 190.0
    with pytest.raises(ValidationError, match="row 1"):
        campaign.add_data([{"id": a.id, **dict(a.params), "temperature": other, TARGET: 1.0}])
    assert _stored(campaign) == [a]
