"""Data in, data out: an export imports back as it is, everything stored is exported, values copied from a table
match their experiment, and extra columns are kept as outputs."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kiln import Campaign, Continuous, ExperimentStatus, Objective, SearchSpace, ValidationError
from kiln.campaign.importing import same_value, written_half_unit
from kiln.campaign.table import frame_to_csv, frame_to_records
from kiln.cli.render import fmt
from kiln.objective import Target

TARGET = "y"


def _create(space: Any, store_url: str, name: str = "c") -> Campaign:
    return Campaign.create(name, space=space, objective=Objective.maximize(TARGET), strategy="random", store=store_url)


def _stored(campaign: Campaign) -> list[Any]:
    return Campaign.open(campaign.name, store=campaign.store).experiments()


def _csv(campaign: Campaign) -> io.BytesIO:
    return io.BytesIO(frame_to_csv(campaign.to_dataframe()).encode())


def _worked(campaign: Campaign) -> list[Any]:
    """A campaign with completed (with outputs and a note), failed, pending and imported experiments."""
    a, b, c, d = campaign.ask(4)
    campaign.dispatch(a.id, "robot-1", "job-17")
    campaign.tell(a.id, 1.5, outputs={"purity": 0.93, "trace": [1, 2.5], "steps": {"anneal": 410}}, note="hazy")
    campaign.tell(b.id, 2.5, outputs={"colour": "red", "flag": True, "code": "42", "lot": "007"})
    campaign.fail(c.id, "=furnace tripped")
    campaign.add_data([{**dict(a.params), TARGET: 9.0, "operator": "ana", "note": "from the notebook"}])
    return [a, b, c, d]


def test_an_export_imports_back_as_it_is(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    _worked(campaign)
    before = _stored(campaign)
    again = campaign.add_data(_csv(campaign))
    assert list(again) == [] and again.skipped == len(before)  # every row stored already, or with no result
    assert _stored(campaign) == before
    frame = campaign.to_dataframe()
    assert campaign.add_data(frame) == [] and campaign.add_data(frame_to_records(frame)) == []
    assert _stored(campaign) == before


def test_an_export_completes_the_suggestions_measured_since(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    *_, d = _worked(campaign)
    frame = pd.read_csv(_csv(campaign), dtype=str)
    frame.loc[frame["id"] == d.id, [TARGET, "note", "purity"]] = ["4.25", "measured late", "0.5"]
    told = campaign.add_data(io.BytesIO(frame.to_csv(index=False).encode()))
    assert [e.id for e in told] == [d.id] and told.skipped == 4
    done = {e.id: e for e in _stored(campaign)}[d.id]
    assert done.status is ExperimentStatus.COMPLETED and done.results == {TARGET: 4.25}
    assert done.note == "measured late" and done.outputs == {"purity": 0.5}


def test_a_changed_finished_row_is_refused_naming_amend(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, *_ = _worked(campaign)
    before = _stored(campaign)
    for column, value in [(TARGET, "1.6"), ("purity", "0.5"), ("note", "clear"), ("temperature", "199.5")]:
        frame = pd.read_csv(_csv(campaign), dtype=str)
        frame.loc[frame["id"] == a.id, column] = value
        with pytest.raises(ValidationError) as error:
            campaign.add_data(io.BytesIO(frame.to_csv(index=False).encode()))
        assert error.value.field.startswith("row 1: ") and column in error.value.field
        assert f"kiln amend c {a.id}" in str(error.value) and "is completed with" in str(error.value)
        assert _stored(campaign) == before
    failed = pd.read_csv(_csv(campaign), dtype=str)
    failed.loc[failed["status"] == "failed", TARGET] = "3"
    with pytest.raises(ValidationError, match=r"is failed \(=furnace tripped\).*record a value for it with kiln amend"):
        campaign.add_data(io.BytesIO(failed.to_csv(index=False).encode()))
    assert _stored(campaign) == before


def test_a_table_of_ids_and_targets_records_pending_results(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, b, c = campaign.ask(3)
    told = campaign.add_data(io.BytesIO(f"id,{TARGET}\n{a.id},1.5\n{b.id},\n{c.id},-2\n".encode()))
    assert [e.id for e in told] == [a.id, c.id] and told.skipped == 1
    stored = {e.id: e for e in _stored(campaign)}
    assert stored[a.id].results == {TARGET: 1.5} and stored[c.id].results == {TARGET: -2.0}
    assert stored[b.id].status is ExperimentStatus.PENDING
    with pytest.raises(ValidationError, match="missing") as error:  # a row without an id needs the parameters
        campaign.add_data(io.BytesIO(f"id,{TARGET}\n{b.id},1\n,2\n".encode()))
    assert error.value.field == "columns"
    assert _stored(campaign)[1].status is ExperimentStatus.PENDING


def test_values_copied_from_the_ask_table_match_their_experiment(store_url: str) -> None:
    space = SearchSpace([Continuous("x", 0.0, 200.0), Continuous("z", 0.0, 1.0)])
    campaign = _create(space, store_url)
    asked = campaign.ask(3)
    shown = "\n".join(f"{e.id},{fmt(e.params['x'])},{fmt(e.params['z'])},{i}" for i, e in enumerate(asked))
    assert any(fmt(e.params["x"]) != repr(e.params["x"]) for e in asked)  # the table rounds
    told = campaign.add_data(io.BytesIO(f"id,x,z,{TARGET}\n{shown}\n".encode()))
    assert [e.id for e in told] == [e.id for e in asked]
    assert [e.params for e in told] == [e.params for e in asked]  # the stored values are kept
    assert campaign.add_data(io.BytesIO(f"id,x,z,{TARGET}\n{shown}\n".encode())).skipped == 3  # told already
    first = asked[0]
    off = f"{first.id},{first.params['x'] + 0.01:.2f},{fmt(first.params['z'])},0\n"
    with pytest.raises(ValidationError, match="row 1: x"):
        campaign.add_data(io.BytesIO(f"id,x,z,{TARGET}\n{off}".encode()))


def test_the_precision_a_value_was_written_with() -> None:
    assert same_value("93.4954", 93.49536836147308)
    assert same_value(93.4954, 93.49536836147308)
    assert not same_value("93.4955", 93.49536836147308)
    assert same_value("93.50", 93.49536836147308) and not same_value("93.51", 93.49536836147308)
    assert same_value("93.5", 93.49536836147308) and not same_value("93.4", 93.49536836147308)
    assert same_value("1.5e-3", 0.00149)
    assert same_value("93.46", 93.5, step=0.1) and not same_value("93.44", 93.5, step=0.01)
    assert same_value("water", "water") and not same_value("Water", "water")
    assert written_half_unit("93.4954") == pytest.approx(5e-5) and written_half_unit("abc") is None


def test_everything_stored_is_exported(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, b, c, d = _worked(campaign)
    frame = campaign.to_dataframe()
    assert {"note", "instrument", "handle", "created_at", "dispatched_at", "finished_at", "status"} <= set(frame)
    rows = {row["id"]: row for row in frame_to_records(frame)}
    assert rows[a.id]["instrument"] == "robot-1" and rows[a.id]["handle"] == "job-17"
    assert rows[a.id]["dispatched_at"] is not None and rows[a.id]["finished_at"] is not None
    assert rows[a.id]["note"] == "hazy" and rows[a.id]["trace"] == [1, 2.5]
    assert rows[a.id]["steps"] == {"anneal": 410} and rows[b.id]["flag"] is True
    text = frame_to_csv(frame)
    cells = pd.read_csv(io.StringIO(text), dtype=str).set_index("id")
    assert cells.loc[a.id, "purity"] == "0.93" and json.loads(cells.loc[a.id, "steps"]) == {"anneal": 410}
    assert cells.loc[b.id, "flag"] == "true" and cells.loc[b.id, "code"] == '"42"'  # reads back as text
    assert cells.loc[b.id, "lot"] == "007"
    assert cells.loc[c.id, "status"] == "failed" and cells.loc[d.id, "status"] == "pending"
    imported = next(e for e in _stored(campaign) if e.origin.value == "imported")
    assert cells.loc[imported.id, "operator"] == "ana" and cells.loc[imported.id, "note"] == "from the notebook"


def test_an_export_copies_outputs_and_notes_into_a_new_campaign(space: SearchSpace, store_url: str) -> None:
    source = _create(space, store_url, "source")
    _worked(source)
    target = _create(space, store_url, "copy")
    frame = pd.read_csv(_csv(source), dtype=str).drop(columns=["id"])
    added = target.add_data(io.BytesIO(frame.to_csv(index=False).encode()))
    done = [e for e in source.experiments() if e.status is ExperimentStatus.COMPLETED]
    assert [e.results for e in added] == [e.results for e in done]
    assert [dict(e.outputs) for e in added] == [dict(e.outputs) for e in done]
    assert [e.note for e in added] == [e.note for e in done]


def test_extra_columns_of_a_csv_are_kept_as_outputs(store_url: str, tmp_path: Path) -> None:
    campaign = _create(SearchSpace([Continuous("x", 0.0, 1.0)]), store_url)
    path = tmp_path / "data.csv"
    path.write_text('x,y,purity,operator,peaks,status\n0.5,1,0.93,ana,"[1, 2]",\n0.25,2,,"""42""",{},\n')
    first, second = campaign.add_data(path)
    assert first.outputs == {"purity": 0.93, "operator": "ana", "peaks": [1, 2]}
    assert second.outputs == {"operator": "42", "peaks": {}}
    assert _stored(campaign)[0].outputs == first.outputs


def test_an_output_named_like_a_column_is_exported_under_a_prefix(store_url: str) -> None:
    campaign = _create(SearchSpace([Continuous("x", 0.0, 1.0)]), store_url)
    (a,) = campaign.ask(1)
    campaign.tell(a.id, 1.0, outputs={"x": "raw", "status": "ok"})
    frame = campaign.to_dataframe()
    assert frame.loc[0, "output:x"] == "raw" and frame.loc[0, "output:status"] == "ok"
    assert frame.loc[0, "status"] == "completed"
    copy = _create(SearchSpace([Continuous("x", 0.0, 1.0)]), store_url, "copy")
    (added,) = copy.add_data(frame.drop(columns=["id"]))
    assert added.outputs == {"x": "raw", "status": "ok"}


def test_a_value_within_half_the_declared_precision_matches(store_url: str) -> None:
    campaign = _create(SearchSpace([Continuous("v", 0.0, 100.0, precision=0.5)]), store_url)
    (a,) = campaign.ask(1)
    near = a.params["v"] + 0.24
    told = campaign.add_data(io.BytesIO(f"id,v,{TARGET}\n{a.id},{near:.2f},1\n".encode()))
    assert [e.id for e in told] == [a.id] and told[0].params == a.params


def test_a_result_for_a_discarded_suggestion_is_refused(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    campaign.discard(a.id, reason="not run")
    frame = pd.read_csv(_csv(campaign), dtype=str)
    assert campaign.add_data(io.BytesIO(frame.to_csv(index=False).encode())).skipped == 1  # as exported: no result
    frame[TARGET] = "2"
    with pytest.raises(ValidationError, match="was discarded") as error:
        campaign.add_data(io.BytesIO(frame.to_csv(index=False).encode()))
    assert error.value.field == "row 1: id"


def test_headers_with_units_as_the_tables_show_them_name_their_columns(store_url: str) -> None:
    space = SearchSpace([Continuous("T", 0.0, 100.0, unit="°C"), Continuous("x", 0.0, 1.0)])
    campaign = Campaign.create(
        "c", space=space, objective=Objective((Target("y", unit="%"),)), strategy="random", store=store_url
    )
    (added,) = campaign.add_data(io.BytesIO("T [°C],x,y [%],T [K]\n25,0.5,80,298\n".encode()))
    assert dict(added.params) == {"T": 25.0, "x": 0.5} and added.results == {"y": 80.0}
    assert added.outputs == {"T [K]": 298}  # another unit is another column
