"""Corrections: amend, retract, discard and delete, with every earlier value kept, and what learns from what."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, NotFoundError, Objective, StateError, ValidationError
from kiln.core.records import Change
from kiln.strategies.base import History
from kiln.strategies.bayes import BayesStrategy


def _campaign(store_url: str, rows: int = 12, **kwargs: Any) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(rows)])
    return Campaign.create(
        "c", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url, **kwargs
    )


def test_a_mistyped_value_amended_stops_being_best(store_url: str) -> None:
    campaign = _campaign(store_url)
    a, b, c = campaign.ask(3)
    campaign.tell(a.id, 1.0)
    campaign.tell(b.id, 1e308)  # meant 3.08
    campaign.tell(c.id, 2.0)
    assert campaign.best().id == b.id  # type: ignore[union-attr]
    amended = campaign.amend(b.id, 3.08, reason="typo in the lab book")
    assert amended.results == {"y": 3.08} and amended.amended == 1
    assert campaign.best().results == {"y": 3.08}  # type: ignore[union-attr]
    campaign.amend(b.id, 0.5, reason="second look")
    reopened = Campaign.open("c", store=store_url)
    assert reopened.best().id == c.id  # type: ignore[union-attr]
    frame = reopened.to_dataframe()
    assert frame.set_index("id").loc[b.id, "y"] == 0.5
    history = reopened.history(b.id)
    assert [dict(r.results) for r in history] == [{"y": 1e308}, {"y": 3.08}, {"y": 0.5}]
    assert [r.note for r in history] == ["", "typo in the lab book", "second look"]
    assert history[0].at <= history[1].at <= history[2].at
    assert all(r.at.tzinfo is not None for r in history)


def test_amend_to_a_failure_and_back(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    campaign.tell(e.id, 4.0)
    failed = campaign.amend(e.id, failure="bubbles in the film", reason="seen on the micrograph")
    assert failed.status is ExperimentStatus.FAILED and failed.reason == "bubbles in the film"
    assert campaign.best() is None
    assert History.from_experiments(campaign.experiments()).failed[0].id == e.id
    back = campaign.amend(e.id, {"y": 4.0}, reason="the bubbles were on the lens")
    assert back.status is ExperimentStatus.COMPLETED and back.reason == "" and campaign.best().id == e.id  # type: ignore[union-attr]
    assert [r.status for r in campaign.history(e.id)] == [
        ExperimentStatus.COMPLETED,
        ExperimentStatus.FAILED,
        ExperimentStatus.COMPLETED,
    ]


def test_amend_refusals_say_what_to_do_and_change_nothing(store_url: str) -> None:
    campaign = _campaign(store_url)
    pending, done = campaign.ask(2)
    campaign.tell(done.id, 1.0)
    before = campaign.experiments()
    with pytest.raises(StateError, match="use tell"):
        campaign.amend(pending.id, 2.0, reason="x")
    with pytest.raises(ValidationError, match="reason"):
        campaign.amend(done.id, 2.0, reason="  ")
    with pytest.raises(ValidationError, match="either a new value or a failure"):
        campaign.amend(done.id, reason="nothing given")
    with pytest.raises(ValidationError, match="y"):
        campaign.amend(done.id, {"z": 2.0}, reason="wrong target")
    with pytest.raises(NotFoundError, match="nope"):
        campaign.amend("nope", 2.0, reason="x")
    with pytest.raises(StateError, match="pending"):
        campaign.retract(pending.id, reason="x")
    with pytest.raises(StateError, match="not pending"):
        campaign.discard(done.id)
    assert campaign.experiments() == before
    assert campaign.revisions() == []


def test_a_retracted_experiment_is_not_in_the_history_a_strategy_sees(store_url: str) -> None:
    campaign = _campaign(store_url)
    a, b = campaign.ask(2)
    campaign.tell(a.id, 1.0)
    campaign.tell(b.id, 100.0)
    retracted = campaign.retract(b.id, reason="wrong sample loaded")
    assert retracted.retracted and retracted.status is ExperimentStatus.COMPLETED
    history = History.from_experiments(campaign.experiments())
    assert [e.id for e in history.completed] == [a.id]
    assert campaign.best().id == a.id  # type: ignore[union-attr]
    assert len(campaign.experiments()) == 2  # it stays in the record
    assert bool(campaign.to_dataframe().set_index("id").loc[b.id, "retracted"])
    campaign.unretract(b.id, reason="it was the right sample")
    assert campaign.best().id == b.id  # type: ignore[union-attr]
    assert [r.change for r in campaign.history(b.id)] == [Change.RECORDED, Change.RETRACTED, Change.UNRETRACTED]


def test_a_discarded_suggestion_is_not_a_failure_for_the_feasibility_classifier(store_url: str) -> None:
    campaign = _campaign(store_url)
    made = campaign.ask(6)
    for e in made[:3]:
        campaign.tell(e.id, e.params["x"])
    for e in made[3:]:
        campaign.discard(e.id, reason="no substrate left")
    assert {e.status for e in campaign.experiments()[3:]} == {ExperimentStatus.DISCARDED}
    history = History.from_experiments(campaign.experiments())
    assert history.failed == () and history.pending == () and len(history.completed) == 3
    strategy = BayesStrategy(feasibility=True)
    X = campaign.domain.encode([e.params for e in history.completed])
    assert strategy._fit_feasibility(campaign.domain, X, history, seed=0) is None
    assert campaign.pending() == []
    # the same experiments failed would teach the classifier
    failed = History(completed=history.completed, failed=tuple(campaign.experiments()[3:]))
    assert strategy._fit_feasibility(campaign.domain, X, failed, seed=0) is not None
    more = campaign.ask(3)  # asking goes on as if the discarded ones had never been suggested
    assert len(more) == 3


def test_export_with_history_has_every_earlier_value(store_url: str) -> None:
    campaign = _campaign(store_url)
    a, b = campaign.ask(2)
    campaign.tell(a.id, 1.0)
    campaign.tell(b.id, 1e308)
    campaign.amend(b.id, 3.0, reason="typo")
    campaign.retract(b.id, reason="bad run")
    frame = campaign.to_dataframe(history=True)
    rows = frame[frame["id"] == b.id]
    assert list(rows["version"]) == [0, 1, 2]
    assert list(rows["current"]) == [False, False, True]
    assert list(rows["y"]) == [1e308, 3.0, 3.0]
    assert list(rows["change"]) == ["recorded", "amended", "retracted"]
    assert list(rows["change_reason"]) == ["", "typo", "bad run"]
    assert list(rows["retracted"]) == [False, False, True]
    assert list(frame[frame["id"] == a.id]["current"]) == [True]
    plain = campaign.to_dataframe()
    assert "version" not in plain.columns and len(plain) == 2
    csv = frame.to_csv(index=False)
    again = Campaign.create(
        "copy", space=campaign.domain, objective=campaign.objective, strategy="random", store=store_url
    )
    imported = again.add_data(frame.drop(columns=["id"]))  # only current rows come in; the retraction is kept
    assert sorted((e.results["y"], e.retracted) for e in imported) == [(1.0, False), (3.0, True)]
    assert pd.read_csv(io.StringIO(csv))["changed_at"].notna().all()
    assert len(campaign.add_data(io.StringIO(csv.replace(a.id, "").replace(b.id, "")))) == 2


def test_delete_removes_the_campaign(store_url: str) -> None:
    campaign = _campaign(store_url)
    (e,) = campaign.ask(1)
    campaign.tell(e.id, 1.0)
    campaign.amend(e.id, 2.0, reason="typo")
    campaign.delete()
    with pytest.raises(NotFoundError, match="'c'"):
        Campaign.open("c", store=store_url)
