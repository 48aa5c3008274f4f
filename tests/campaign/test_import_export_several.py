"""Tables with several quantities: an export has a column per target and constrained quantity (empty for those a
partly measured experiment still waits for), imports back as it is, and an import takes partial rows."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest

from kiln import Campaign, Continuous, ExperimentStatus, SearchSpace, ValidationError
from kiln.campaign.export_text import table_to_csv
from kiln.campaign.table import experiments_to_frame, experiments_to_table, frame_to_csv
from kiln.core.records import Origin
from kiln.objective import Objective, OutcomeConstraint, Target

OBJECTIVE = Objective((Target("yield"), Target("cost", direction="min")), (OutcomeConstraint("stability", ">=", 0.9),))


@pytest.fixture
def campaign(store_url: str) -> Campaign:
    """Two completed experiments, one partly measured (yield only), one pending with nothing measured."""
    made = Campaign.create(
        "films", space=SearchSpace([Continuous("x", 0.0, 1.0)]), objective=OBJECTIVE, strategy="random", store=store_url
    )
    a, b, c, _ = made.ask(4)
    made.tell(a.id, {"yield": 80.0, "cost": 2.0, "stability": 0.95})
    made.tell(b.id, {"yield": 70.0, "cost": 3.0, "stability": 0.5})
    made.tell(c.id, {"yield": 85.0}, note="cost tomorrow")
    return made


def csv_of(campaign: Campaign) -> str:
    return table_to_csv(campaign.to_table())


def stored(campaign: Campaign) -> list[Any]:
    return Campaign.open(campaign.name, store=campaign.store).experiments()


def test_an_export_has_a_column_per_quantity(campaign: Campaign) -> None:
    frame = pd.read_csv(io.StringIO(csv_of(campaign)))
    assert list(frame.columns[:7]) == ["id", "seq", "status", "origin", "x", "yield", "cost"]
    assert frame.columns[7] == "stability"
    partly = frame.iloc[2]
    assert partly["status"] == "pending" and partly["yield"] == 85.0
    assert pd.isna(partly["cost"]) and pd.isna(partly["stability"])


def test_an_export_imports_back_as_it_is(campaign: Campaign) -> None:
    before = stored(campaign)
    added = campaign.add_data(io.BytesIO(csv_of(campaign).encode()))
    assert list(added) == [] and added.skipped == 4
    assert stored(campaign) == before


def test_an_export_with_the_rest_filled_in_completes_the_partly_measured(campaign: Campaign) -> None:
    frame = pd.read_csv(io.StringIO(csv_of(campaign)))
    frame.loc[2, ["cost", "stability"]] = [1.5, 0.97]
    added = campaign.add_data(io.BytesIO(frame.to_csv(index=False).encode()))
    assert added.skipped == 3
    (completed,) = added
    assert completed.status is ExperimentStatus.COMPLETED
    assert completed.results == {"yield": 85.0, "cost": 1.5, "stability": 0.97}
    assert completed.note == "cost tomorrow"  # not repeated by the import


def test_a_table_of_ids_and_some_quantities_adds_them(campaign: Campaign) -> None:
    partly, empty = campaign.pending()
    table = f"id,cost\n{partly.id},1.25\n{empty.id},4.0\n"
    added = campaign.add_data(io.BytesIO(table.encode()))
    by_id = {e.id: e for e in added}
    assert by_id[partly.id].results == {"yield": 85.0, "cost": 1.25}
    assert by_id[empty.id].results == {"cost": 4.0}
    assert all(e.status is ExperimentStatus.PENDING for e in added)  # stability still missing


def test_a_changed_value_of_a_partly_measured_experiment_is_refused(campaign: Campaign) -> None:
    partly, _ = campaign.pending()
    before = stored(campaign)
    with pytest.raises(ValidationError, match="recorded already") as error:
        campaign.add_data(io.BytesIO(f"id,yield,cost\n{partly.id},86,1.5\n".encode()))
    assert error.value.field == "row 1: yield" and "kiln amend" in str(error.value)
    assert stored(campaign) == before


def test_a_refused_change_says_the_amend_that_makes_it(campaign: Campaign) -> None:
    """The fix names the quantities and values of the row: with two targets a bare VALUE would be refused."""
    a, b = stored(campaign)[:2]
    partly, _ = campaign.pending()
    refusals = {
        f"id,yield,cost\n{a.id},81,2\n": f"kiln amend films {a.id} yield=81.0 --reason TEXT",
        f"id,yield,cost\n{partly.id},86,1.5\n": f"kiln amend films {partly.id} yield=86.0 --reason TEXT",
    }
    for table, command in refusals.items():
        with pytest.raises(ValidationError) as error:
            campaign.add_data(io.BytesIO(table.encode()))
        assert command in str(error.value)
    campaign.amend(b.id, failure="furnace tripped", reason="it never ran")
    with pytest.raises(ValidationError) as error:
        campaign.add_data(io.BytesIO(f"id,yield,cost\n{b.id},70,3\n".encode()))
    assert f"kiln amend films {b.id} yield=70.0 cost=3.0 stability=VALUE --reason TEXT" in str(error.value)


def test_new_rows_may_be_partial(campaign: Campaign) -> None:
    rows = [{"x": 0.2, "yield": 60.0, "cost": 1.0, "stability": 0.92}, {"x": 0.3, "yield": 65.0}]
    whole, partial = campaign.add_data(rows)
    assert whole.status is ExperimentStatus.COMPLETED and whole.origin is Origin.IMPORTED
    assert partial.status is ExperimentStatus.PENDING and partial.results == {"yield": 65.0}
    with pytest.raises(ValidationError, match="at least one of") as error:
        campaign.add_data([{"x": 0.4}, {"x": 0.5, "yield": None}])
    assert error.value.field.startswith("row 1")


def test_a_misspelt_quantity_column_is_refused(campaign: Campaign) -> None:
    before = stored(campaign)
    with pytest.raises(ValidationError, match="rename the column to 'cost'") as error:
        campaign.add_data([{"x": 0.2, "yield": 60.0, "cots": 1.0}])
    assert error.value.field == "column 'cots'"
    assert stored(campaign) == before
    (added,) = campaign.add_data([{"x": 0.2, "yield": 60.0, "operator": "ana"}])  # far from any quantity: an output
    assert added.outputs == {"operator": "ana"}


def test_the_front_is_marked_in_a_pareto_column(campaign: Campaign) -> None:
    experiments = campaign.experiments()
    front = {e.id for e in campaign.pareto()}
    table = experiments_to_table(experiments, ["x"], OBJECTIVE.quantities, front=front)
    assert table.columns.index("pareto") == table.columns.index("stability") + 1
    assert [r["pareto"] for r in table.records] == [True, False, False, False]
    text = table_to_csv(table)
    assert text == frame_to_csv(experiments_to_frame(experiments, ["x"], OBJECTIVE.quantities, front=front))
    before = stored(campaign)
    assert campaign.add_data(io.BytesIO(text.encode())).skipped == 4  # the column is not an output
    assert stored(campaign) == before


def test_kiln_export_marks_the_front_and_imports_back(campaign: Campaign) -> None:
    table = campaign.to_table()
    assert "pareto" in table.columns
    front = {e.id for e in campaign.pareto()}
    assert {r["id"] for r in table.records if r["pareto"]} == front
    before = stored(campaign)
    assert campaign.add_data(io.BytesIO(table_to_csv(table).encode())).skipped == 4
    assert stored(campaign) == before
