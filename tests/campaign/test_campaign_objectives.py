"""Campaigns with several targets and outcome constraints: partial tells, completion, amend, best and pareto."""

from __future__ import annotations

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective, StateError, ValidationError
from kiln.campaign.config import CampaignConfig
from kiln.core.errors import SpecError
from kiln.objective import OutcomeConstraint, Target, objective_from_config
from kiln.strategies.base import History, training_data
from kiln.strategies.registry import strategy_from_config

TWO = Objective((Target("yield"), Target("cost", "min")), (OutcomeConstraint("stability", ">=", 0.9),))


def _campaign(store_url: str, objective: Objective = TWO, rows: int = 12) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(rows)])
    return Campaign.create("c", space=pool, objective=objective, strategy="random", store=store_url)


def test_results_arrive_in_parts_and_complete_the_experiment(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    part = campaign.tell(e.id, {"yield": 82})
    assert part.status is ExperimentStatus.PENDING and part.results == {"yield": 82.0}
    assert campaign.pending() == [part]
    assert History.from_experiments(campaign.experiments()).pending == (part,)
    campaign.tell(e.id, {"stability": 0.95}, note="measured the next day")
    done = campaign.tell(e.id, {"cost": 3.1})
    assert done.status is ExperimentStatus.COMPLETED
    assert done.results == {"yield": 82.0, "stability": 0.95, "cost": 3.1}
    assert done.note == "measured the next day"
    reopened = Campaign.open("c", store=store_url)
    assert reopened.experiment(e.id) == done and reopened.pending() == []


def test_one_tell_with_every_quantity_completes_at_once(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    done = campaign.tell(e.id, {"yield": 82, "cost": 3.1, "stability": 0.95})
    assert done.status is ExperimentStatus.COMPLETED and done.finished_at is not None


def test_breaking_a_constraint_completes_the_experiment_as_infeasible(store_url: str) -> None:
    campaign = _campaign(store_url)
    a, b = campaign.ask(2)
    broken = campaign.tell(a.id, {"yield": 99, "cost": 0.1, "stability": 0.2})
    assert broken.status is ExperimentStatus.COMPLETED
    assert not campaign.objective.feasible(broken.results)
    campaign.tell(b.id, {"yield": 50, "cost": 2, "stability": 0.95})
    assert [e.id for e in campaign.pareto()] == [b.id]  # the infeasible one dominates but does not count


def test_a_quantity_told_twice_is_refused_and_names_amend(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    campaign.tell(e.id, {"yield": 82})
    with pytest.raises(StateError, match=r"value for \['yield'\] already.*amend"):
        campaign.tell(e.id, {"yield": 80, "cost": 1})
    assert campaign.experiment(e.id).results == {"yield": 82.0}  # the cost was not kept either: nothing changed


def test_bad_tells_name_the_quantities(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    with pytest.raises(ValidationError, match=r"unknown \['yeld'\]") as error:
        campaign.tell(e.id, {"yeld": 82})
    assert "['yield', 'cost', 'stability']" in str(error.value)
    with pytest.raises(ValidationError, match="a bare number"):
        campaign.tell(e.id, 82)
    assert campaign.experiment(e.id).results == {}


def test_amend_changes_the_quantities_given_and_keeps_the_others(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    campaign.tell(e.id, {"yield": 82})
    fixed = campaign.amend(e.id, {"yield": 28}, reason="digits swapped")
    assert fixed.status is ExperimentStatus.PENDING and fixed.results == {"yield": 28.0}
    with pytest.raises(ValidationError, match=r"\['cost'\] have none yet.*tell"):
        campaign.amend(e.id, {"cost": 1}, reason="x")
    done = campaign.tell(e.id, {"cost": 3.1, "stability": 1.0})
    amended = campaign.amend(e.id, {"cost": 2.9}, reason="re-weighed")
    assert amended.results == {"yield": 28.0, "cost": 2.9, "stability": 1.0} and amended.amended == 2
    assert [dict(r.results) for r in campaign.history(e.id)] == [
        {"yield": 82.0},
        {"yield": 28.0},
        done.results,
        amended.results,
    ]
    failed = campaign.amend(e.id, failure="contaminated", reason="seen later")
    assert failed.status is ExperimentStatus.FAILED
    with pytest.raises(ValidationError, match=r"missing \['cost', 'stability'\]"):
        campaign.amend(e.id, {"yield": 30}, reason="it was fine")
    back = campaign.amend(e.id, {"yield": 30, "cost": 3, "stability": 1}, reason="it was fine")
    assert back.status is ExperimentStatus.COMPLETED


def test_amend_of_an_untold_pending_experiment_points_at_tell(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    with pytest.raises(StateError, match="use tell"):
        campaign.amend(e.id, {"yield": 1}, reason="x")


def test_best_is_undefined_for_several_targets_and_pareto_gives_the_front(store_url: str) -> None:
    campaign = _campaign(store_url)
    a, b, c, d = campaign.ask(4)
    campaign.tell(a.id, {"yield": 80, "cost": 3, "stability": 1})
    campaign.tell(b.id, {"yield": 70, "cost": 1, "stability": 1})
    campaign.tell(c.id, {"yield": 60, "cost": 2, "stability": 1})  # dominated by b
    campaign.tell(d.id, {"yield": 90})  # partial: not on the front yet
    assert campaign.best() is None
    assert [e.id for e in campaign.pareto()] == [a.id, b.id]
    campaign.retract(a.id, reason="wrong sample")
    assert [e.id for e in campaign.pareto()] == [b.id]
    assert [e.id for e in campaign.pareto(campaign.experiments()[:1])] == []


def test_best_with_a_scalarisation_and_with_a_constraint(store_url: str) -> None:
    scalarised = Objective((Target("yield"), Target("cost", "min")), scalarisation="desirability")
    campaign = _campaign(store_url, scalarised)
    a, b, c = campaign.ask(3)
    campaign.tell(a.id, {"yield": 80, "cost": 3})
    campaign.tell(b.id, {"yield": 75, "cost": 1})
    campaign.tell(c.id, {"yield": 10, "cost": 0})
    assert campaign.best().id == b.id  # type: ignore[union-attr]
    history = History.from_experiments(campaign.experiments())
    y = training_data(campaign.domain, campaign.objective, history).y
    assert list(y) == campaign.objective.utilities([e.results for e in history.completed])
    assert y.argmax() == 1


def test_best_of_one_constrained_target_skips_infeasible(store_url: str) -> None:
    objective = Objective((Target("y"),), (OutcomeConstraint("c", "<=", 3),))
    campaign = _campaign(store_url, objective)
    a, b = campaign.ask(2)
    campaign.tell(a.id, {"y": 10, "c": 5})
    campaign.tell(b.id, {"y": 1, "c": 1})
    assert campaign.best().id == b.id  # type: ignore[union-attr]


def test_single_target_campaigns_tell_and_learn_as_before(store_url: str) -> None:
    campaign = _campaign(store_url, Objective.minimize("y"))
    a, b = campaign.ask(2)
    done = campaign.tell(a.id, 2.0)
    assert done.status is ExperimentStatus.COMPLETED and done.results == {"y": 2.0}
    campaign.tell(b.id, {"y": 5.0})
    with pytest.raises(StateError, match="already completed"):
        campaign.tell(a.id, 1.0)
    history = History.from_experiments(campaign.experiments())
    assert list(training_data(campaign.domain, campaign.objective, history).y) == [-2.0, -5.0]
    assert campaign.best().id == a.id  # type: ignore[union-attr]
    assert [e.id for e in campaign.pareto()] == [a.id]


def test_the_stored_config_of_several_targets_opens_again(store_url: str) -> None:
    objective = objective_from_config(
        {
            "targets": [{"name": "yield"}, {"name": "size", "target": [80, 120], "prefer": "centre"}],
            "constraints": ["stability >= 0.9"],
            "reference": {"yield": 0},
        }
    )
    campaign = _campaign(store_url, objective)
    reopened = Campaign.open("c", store=store_url)
    assert reopened.objective == objective
    assert CampaignConfig.from_json(reopened.config.to_json()).to_json() == campaign.config.to_json()
    table = reopened.to_table()
    assert {"yield", "size", "stability"} <= set(table.columns)
    assert campaign.objective.quantities == ["yield", "size", "stability"]


def test_config_documents_carry_schema_3_and_schema_1_ones_still_open(store_url: str) -> None:
    document = _campaign(store_url).config.to_json()
    assert document["schema"] == 3
    single = CampaignConfig(
        CandidatePool(["x"], [[0.0], [1.0]]), Objective.maximize("y"), strategy_from_config("default")
    ).to_json()
    older = {**single, "schema": 1, "strategy": {"kind": "default", "acquisition": "ucb", "kappa": 1.5}}
    assert CampaignConfig.from_json(older).strategy.to_config()["acquisition"] == {"kind": "ucb", "kappa": 1.5}
    for schema in (4, True, None, "2"):
        with pytest.raises(SpecError, match="upgrade Kiln"):
            CampaignConfig.from_json({**document, "schema": schema})


def test_exports_of_several_targets_mark_the_front(store_url: str) -> None:
    campaign = _campaign(store_url)
    a, b, c = campaign.ask(3)
    campaign.tell(a.id, {"yield": 80, "cost": 3, "stability": 1})
    campaign.tell(b.id, {"yield": 60, "cost": 4, "stability": 1})
    campaign.tell(c.id, {"yield": 90})
    frame = campaign.to_dataframe().set_index("id")
    assert frame["pareto"].to_dict() == {a.id: True, b.id: False, c.id: False}
    rows = {r["id"]: r for r in campaign.to_table().records}
    assert rows[a.id]["pareto"] is True and rows[b.id]["pareto"] is False
    assert "pareto" not in _campaign_one(store_url).to_dataframe().columns


def _campaign_one(store_url: str) -> Campaign:
    pool = CandidatePool(["x"], [[1.0]])
    campaign = Campaign.create("one", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url)
    (e,) = campaign.ask(1)
    campaign.tell(e.id, 1.0)
    return campaign
