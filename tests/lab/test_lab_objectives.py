"""The closed loop with several targets and an outcome constraint: what instruments report, patience and the front."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.stopping import StopRules
from kiln.objective import OutcomeConstraint, Target

OBJECTIVE = Objective((Target("yield"), Target("cost", "min")), (OutcomeConstraint("stability", ">=", 0.5),))


def _campaign(store_url: str) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(30)])
    return Campaign.create("c", space=pool, objective=OBJECTIVE, strategy="random", store=store_url)


def measure(params: Mapping[str, Any]) -> dict[str, float]:
    x = float(params["x"])
    return {"yield": x, "cost": 30 - x, "stability": 1.0 if x < 25 else 0.0, "colour": 3.0}


def test_every_quantity_is_stored_and_patience_counts_the_front(store_url: str) -> None:
    campaign = _campaign(store_url)
    summary = Orchestrator(campaign, [CallableInstrument(measure)], stop=StopRules(patience=3, budget=30)).run_sync()
    done = [e for e in campaign.experiments() if e.status is ExperimentStatus.COMPLETED]
    assert done and all(set(e.results) == {"yield", "cost", "stability"} for e in done)
    assert all(e.outputs == {"colour": 3.0} for e in done)
    assert summary.stopped_by == "patience"
    # each of the last three was off the front when it arrived: dominated by an earlier one, or infeasible
    for last in done[-3:]:
        earlier = done[: done.index(last)]
        feasible = last.results["stability"] >= 0.5
        assert not feasible or any(
            e.results["yield"] > last.results["yield"] for e in earlier if e.results["stability"] >= 0.5
        )
    front = campaign.pareto()
    assert len(front) == 1 and front[0].results["stability"] == 1.0
    assert campaign.best() is None


def test_an_instrument_that_leaves_out_a_quantity_leaves_the_experiment_awaiting_it(store_url: str) -> None:
    campaign = _campaign(store_url)
    instrument = CallableInstrument(lambda params: {"yield": 1.0, "cost": 2.0})
    summary = Orchestrator(campaign, [instrument], stop=StopRules(budget=1)).run_sync()
    (waiting,) = campaign.experiments()
    assert summary.partial == 1 and summary.failed == 0
    assert waiting.status is ExperimentStatus.PENDING and waiting.results == {"yield": 1.0, "cost": 2.0}
    assert campaign.tell(waiting.id, {"stability": 0.7}).status is ExperimentStatus.COMPLETED


def test_a_person_records_results_in_parts_and_the_loop_waits_for_the_last(store_url: str) -> None:
    import threading
    import time

    from kiln.lab.adapters.manual import ManualInstrument

    campaign = _campaign(store_url)
    done = threading.Event()
    seen_partial: list[str] = []

    def operator() -> None:  # yield on the day, stability and cost when they are measured
        person = Campaign.open("c", store=store_url)
        while not done.is_set():
            for experiment in person.pending():
                if experiment.instrument != "hands":
                    continue
                if not experiment.results:
                    person.tell(experiment.id, {"yield": experiment.params["x"]})
                else:
                    seen_partial.append(experiment.id)
                    person.tell(experiment.id, {"cost": 1.0, "stability": 1.0})
            time.sleep(0.02)

    thread = threading.Thread(target=operator, daemon=True)
    thread.start()
    try:
        summary = Orchestrator(
            campaign, [ManualInstrument("hands", poll_interval=0.02)], in_flight=2, stop=StopRules(budget=4)
        ).run_sync()
    finally:
        done.set()
        thread.join(timeout=5)
    stored = campaign.experiments()
    assert summary.finished == 4 and len(stored) == 4
    assert sorted(seen_partial) == sorted(e.id for e in stored)  # each was pending with part of its results
    for experiment in stored:
        assert experiment.status is ExperimentStatus.COMPLETED
        assert experiment.results == {"yield": experiment.params["x"], "cost": 1.0, "stability": 1.0}
    assert [e.id for e in campaign.pareto()] == [max(stored, key=lambda e: e.params["x"]).id]
