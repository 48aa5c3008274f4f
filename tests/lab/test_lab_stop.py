"""The first Ctrl-C (``Orchestrator.request_stop``) at every moment of the cycle: once it has returned, the run
stores no new experiment and dispatches none; the experiments in flight finish and are stored.

A store proxy and the instrument call a tap at every step (each store call, before and after, in whichever thread
it runs; each measurement on the event loop); the stop is requested at the k-th step, for every k of a run, as the
signal handler would do it: on the event loop. The store's event log then shows what was written after the stop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.stopping import StopRules
from kiln.store import open_store
from kiln.store.base import Store

BUDGET = 6
IN_FLIGHT = 2


class Tapped:
    """A store whose every method calls ``tap(step)`` before and after the real call."""

    def __init__(self, inner: Store, tap: Callable[[str], None]) -> None:
        self.inner = inner
        self.tap = tap

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self.tap(f"{name}: before")
            result = attribute(*args, **kwargs)
            self.tap(f"{name}: after")
            return result

        return call


class StopAt:
    """Counts steps; at step ``at`` requests the stop on the event loop and notes the store's last event cursor."""

    def __init__(self, store: Store, campaign: str, at: int) -> None:
        self.store, self.campaign, self.at = store, campaign, at
        self.steps: list[str] = []
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.orchestrator: Orchestrator | None = None
        self.cursor: int | None = None  # the log's last cursor once the stop had been requested
        self.step = ""
        self.before_the_loop = False  # step ``at`` came before the run's event loop started: no stop was requested

    def tap(self, step: str) -> None:
        with self.lock:
            self.steps.append(step)
            fire = len(self.steps) - 1 == self.at
        if fire and self.loop is None:
            self.before_the_loop = True
        if not fire or self.loop is None:
            return
        self.step = step
        if threading.current_thread() is threading.main_thread():
            self._stop()
        else:  # a worker thread (an ask, a dispatch record): the handler runs on the loop meanwhile
            self.loop.call_soon_threadsafe(self._stop)

    def _stop(self) -> None:
        assert self.orchestrator is not None
        self.orchestrator.request_stop()
        events = self.store.events(self.campaign, limit=100_000)
        self.cursor = events[-1].cursor if events else 0


def _run(store_url: str, name: str, at: int) -> tuple[StopAt, Any, Store]:
    inner = open_store(store_url)
    pool = CandidatePool(["x"], [[float(i)] for i in range(60)])
    Campaign.create(name, space=pool, objective=Objective.maximize("y"), strategy="random", store=inner)
    stopper = StopAt(inner, name, at)
    campaign = Campaign.open(name, store=Tapped(inner, stopper.tap))  # type: ignore[arg-type]

    async def measure(params: Mapping[str, Any]) -> dict[str, float]:
        stopper.tap("measure: start")
        await asyncio.sleep(0)
        stopper.tap("measure: end")
        return {"y": float(params["x"])}

    orchestrator = Orchestrator(
        campaign, [CallableInstrument(measure, name="rig")], in_flight=IN_FLIGHT, stop=StopRules(budget=BUDGET)
    )
    stopper.orchestrator = orchestrator

    async def go() -> Any:
        stopper.loop = asyncio.get_running_loop()
        return await orchestrator.run()

    return stopper, asyncio.run(go()), inner


def test_a_run_without_a_stop_takes_many_steps(store_url: str) -> None:
    stopper, summary, _ = _run(store_url, "free", at=-1)
    assert summary.stopped_by == "budget" and summary.finished == BUDGET
    assert len(stopper.steps) > 40


@pytest.mark.parametrize("block", range(4))
def test_after_the_stop_nothing_is_created_or_dispatched(store_url: str, block: int) -> None:
    # how many steps a run takes depends a little on how its threads and tasks interleave: take the fewest of a few
    references = [_run(store_url, f"reference-{block}-{i}", at=-1)[0] for i in range(3)]
    moments = range(block, min(len(reference.steps) for reference in references), 4)
    fired = 0
    for at in moments:
        name = f"stop-{at}"
        stopper, summary, store = _run(store_url, name, at)
        if stopper.cursor is None:  # no stop was requested: only because this run never reached step ``at`` on its loop
            assert stopper.before_the_loop or len(stopper.steps) <= at, f"stop at step {at} never requested"
            continue
        fired += 1
        late = store.events(name, after=stopper.cursor, limit=100_000)
        created = [e.payload for e in late if e.kind == "experiments_added"]
        sent = [e.payload for e in late if e.kind == "experiment_dispatched" and not e.payload["handle"]]
        where = f"stop at step {at} ({stopper.step})"
        assert created == [] and sent == [], where
        experiments = store.experiments(name)
        reached = (summary.stopped_by, len(experiments)) == ("budget", BUDGET)  # the budget came first
        assert summary.stopped_by == "interrupted" or reached, where
        for experiment in experiments:  # those in flight finished; the others were never sent
            if experiment.instrument:
                assert experiment.status is not ExperimentStatus.PENDING, where
            else:
                assert experiment.status is ExperimentStatus.PENDING and not experiment.dispatched_at, where
        assert len(experiments) <= BUDGET, where
    assert fired >= 0.8 * len(moments)
