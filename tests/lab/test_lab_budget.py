"""The budget of a run: what counts (``uses_budget``), suggestions made elsewhere, never a run beyond it; and a
run that may no longer send (``may_send``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.stopping import StopRules


@pytest.fixture
def campaign(store_url: str) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(60)])
    return Campaign.create("b", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url)


def _rig(calls: list[float]) -> CallableInstrument:
    def measure(params: Mapping[str, Any]) -> dict[str, float]:
        calls.append(params["x"])
        return {"y": float(params["x"])}

    return CallableInstrument(measure, name="rig")


def test_thirty_pending_suggestions_and_a_budget_of_five_run_five(campaign: Campaign) -> None:
    waiting = campaign.ask(30)  # e.g. kiln ask -n 30, or a REST client
    calls: list[float] = []
    summary = Orchestrator(campaign, [_rig(calls)], in_flight=3, stop=StopRules(budget=5)).run_sync()
    assert summary.stopped_by == "budget" and summary.finished == 5 and summary.total == 5
    assert sorted(calls) == sorted(e.params["x"] for e in waiting[:5])  # the oldest (3 at once, in any order)
    after = campaign.experiments()
    assert [e.id for e in after] == [e.id for e in waiting]  # nothing new was asked for
    assert all(e.status is ExperimentStatus.COMPLETED for e in after[:5])
    assert after[5:] == waiting[5:]  # the others stay pending, untouched


def test_results_told_elsewhere_during_the_run_count(campaign: Campaign, store_url: str) -> None:
    other = Campaign.open("b", store=store_url)  # another client of the same store (REST, kiln ask + kiln tell)
    calls: list[float] = []

    def measure(params: Mapping[str, Any]) -> dict[str, float]:
        if not calls:  # while the run's first experiment is measured, someone else runs three
            for experiment in other.ask(3):
                other.tell(experiment.id, -1.0)
        calls.append(params["x"])
        return {"y": float(params["x"])}

    summary = Orchestrator(campaign, [CallableInstrument(measure, name="rig")], stop=StopRules(budget=6)).run_sync()
    assert summary.stopped_by == "budget" and summary.total == 6
    assert len(calls) == 3  # 3 of the run's own and the 3 told elsewhere: 6, not 9
    assert len(campaign.experiments()) == 6


def test_discarded_suggestions_do_not_count_retracted_results_do(campaign: Campaign) -> None:
    dropped, wrong, kept = campaign.ask(3)
    campaign.discard(dropped.id, reason="vial broke before the run")
    campaign.tell(wrong.id, 5.0)
    campaign.retract(wrong.id, reason="wrong sample")
    campaign.dispatch(kept.id, "rig", "rig-0")  # in flight on another run that crashed: it counts
    campaign.flag(kept.id, "check it")
    calls: list[float] = []
    summary = Orchestrator(campaign, [_rig(calls)], stop=StopRules(budget=4)).run_sync()
    assert summary.total == 4 and len(calls) == 2  # retracted + flagged + 2 new
    assert campaign.experiment(dropped.id).status is ExperimentStatus.DISCARDED


def test_a_budget_already_used_runs_nothing(campaign: Campaign) -> None:
    for experiment in campaign.ask(3):
        campaign.tell(experiment.id, 1.0)
    waiting = campaign.ask(2)
    calls: list[float] = []
    summary = Orchestrator(campaign, [_rig(calls)], stop=StopRules(budget=3)).run_sync()
    assert summary.stopped_by == "budget" and summary.finished == 0 and calls == []
    assert campaign.pending() == waiting


def test_a_run_that_may_not_send_stops_as_after_ctrl_c(campaign: Campaign) -> None:
    answers = iter([True])  # e.g. the run lease: sure once, then no longer
    calls: list[float] = []
    summary = Orchestrator(
        campaign, [_rig(calls)], stop=StopRules(budget=5), may_send=lambda: next(answers, False)
    ).run_sync()
    assert summary.stopped_by == "interrupted" and len(calls) == 1
    assert [e.instrument for e in campaign.experiments()] in (["rig"], ["rig", ""])  # the second was never sent
