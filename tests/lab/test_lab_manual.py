"""The manual instrument: experiments wait for a person's tell / fail, from another connection to the store."""

from __future__ import annotations

import threading
import time

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.lab.adapters.manual import ManualInstrument
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.stopping import StopRules


def test_experiments_wait_for_the_operator(store_url: str) -> None:
    pool = CandidatePool(["x"], [[float(i)] for i in range(20)])
    campaign = Campaign.create(
        "bench", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url
    )
    done = threading.Event()

    def operator() -> None:  # another process would do the same through kiln tell / kiln fail
        person = Campaign.open("bench", store=store_url)
        while not done.is_set():
            for experiment in person.pending():
                if experiment.instrument == "hands":
                    if experiment.params["x"] < 5:
                        person.fail(experiment.id, "spilled")
                    else:
                        person.tell(experiment.id, experiment.params["x"] * 10)
            time.sleep(0.02)

    thread = threading.Thread(target=operator, daemon=True)
    thread.start()
    try:
        summary = Orchestrator(
            campaign, [ManualInstrument("hands", poll_interval=0.02)], in_flight=3, stop=StopRules(budget=8)
        ).run_sync()
    finally:
        done.set()
        thread.join(timeout=5)
    stored = campaign.experiments()
    assert len(stored) == 8 and summary.finished + summary.failed == 8
    for experiment in stored:
        if experiment.params["x"] < 5:
            assert experiment.status is ExperimentStatus.FAILED and experiment.reason == "spilled"
        else:
            assert experiment.results == {"y": experiment.params["x"] * 10}


def test_a_discarded_experiment_is_cancelled_not_waited_for(store_url: str) -> None:
    import asyncio

    from kiln.core.records import CANCELLED
    from kiln.lab.protocol import Failure, RunStatus

    pool = CandidatePool(["x"], [[float(i)] for i in range(5)])
    campaign = Campaign.create(
        "hand", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url
    )
    (experiment,) = campaign.ask(1)
    instrument = ManualInstrument("hands", poll_interval=0.01)
    instrument.attach(campaign)
    campaign.store.discard(campaign.name, experiment.id, note="no substrate left")
    assert asyncio.run(instrument.status(experiment.id)) is RunStatus.CANCELLED
    outcome = asyncio.run(instrument.outcome(experiment.id))
    assert isinstance(outcome, Failure) and outcome.reason.startswith(CANCELLED)
    assert "no substrate left" in outcome.reason
