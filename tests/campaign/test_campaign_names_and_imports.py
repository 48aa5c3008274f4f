"""Edge cases of names, imports of exported tables, and text columns read from CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln import Campaign, Categorical, Continuous, Integer, Objective, SearchSpace, SpecError, ValidationError
from kiln.core.records import ExperimentStatus

TARGET = "y"


@pytest.mark.parametrize("name", ["status", "batch", "id", "seq", "reason", "created_at"])
def test_parameter_names_that_collide_with_table_columns_are_rejected(name: str, store_url: str) -> None:
    space = SearchSpace([Integer(name, 1, 5), Continuous("x", 0, 1)])
    with pytest.raises(SpecError, match=name) as error:
        Campaign.create("c", space=space, objective=Objective.maximize(TARGET), store=store_url)
    assert error.value.field == "name"


def test_a_target_may_not_share_a_parameter_name(store_url: str) -> None:
    space = SearchSpace([Continuous("x", 0, 1), Continuous("y", 0, 1)])
    with pytest.raises(SpecError, match="share its name"):
        Campaign.create("c", space=space, objective=Objective.maximize("x"), store=store_url)


def test_export_fill_in_results_and_import_tells_the_pending_suggestions(tmp_path: Path, store_url: str) -> None:
    space = SearchSpace([Continuous("x", 0, 1), Categorical("solvent", ("water", "ethanol"))])
    campaign = Campaign.create(
        "c", space=space, objective=Objective.maximize(TARGET), strategy="random", store=store_url
    )
    suggested = campaign.ask(3)
    frame = campaign.to_dataframe()
    frame.loc[frame["id"] == suggested[0].id, TARGET] = 1.5
    frame.loc[frame["id"] == suggested[2].id, TARGET] = 2.5
    path = tmp_path / "filled.csv"
    frame.to_csv(path, index=False)  # the status column still says "pending"
    told = campaign.add_data(str(path))
    assert [e.id for e in told] == [suggested[0].id, suggested[2].id]
    by_id = {e.id: e for e in campaign.experiments()}
    assert by_id[suggested[0].id].results == {TARGET: 1.5}
    assert by_id[suggested[1].id].status is ExperimentStatus.PENDING  # no result in its row: skipped
    assert len(by_id) == 3


def test_category_names_that_look_like_numbers_survive_a_csv(tmp_path: Path, store_url: str) -> None:
    space = SearchSpace([Categorical("plate", ("01", "02", "10")), Continuous("x", 0, 1)])
    campaign = Campaign.create("c", space=space, objective=Objective.maximize(TARGET), store=store_url)
    path = tmp_path / "prior.csv"
    path.write_text("plate,x,y\n01,0.5,3.0\n10,0.25,4.0\n")
    added = campaign.add_data(str(path))
    assert [e.params["plate"] for e in added] == ["01", "10"]


def test_a_failed_import_leaves_the_campaign_unchanged(store_url: str) -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    campaign = Campaign.create(
        "c", space=space, objective=Objective.maximize(TARGET), strategy="random", store=store_url
    )
    (pending,) = campaign.ask(1)
    campaign.tell(pending.id, 1.0)
    before = campaign.experiments()
    rows = [{"x": 0.2, TARGET: 1.0}, {"id": pending.id, "x": pending.params["x"], TARGET: 2.0}]
    with pytest.raises(ValidationError, match="an import never changes a finished experiment"):
        campaign.add_data(rows)
    assert campaign.experiments() == before


def test_a_constrained_quantity_may_not_share_a_parameter_name() -> None:
    from kiln.campaign.config import CampaignConfig
    from kiln.objective import Objective, OutcomeConstraint, Target
    from kiln.space import Continuous, SearchSpace
    from kiln.strategies.simple import RandomStrategy

    objective = Objective((Target("y"),), (OutcomeConstraint("x", "<=", 1),))
    with pytest.raises(SpecError, match=r"^objective: target: got \['x'\]; a target or constrained quantity"):
        CampaignConfig(SearchSpace([Continuous("x", 0, 1)]), objective, RandomStrategy())
