"""The Orchestrator: experiments in flight, several instruments, failures, timeouts, retries, stop rules and
reconciling after a crash."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.core.errors import ValidationError
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.adapters.simulated import SimulatedInstrument
from kiln.lab.orchestrator import LoopEvent, Orchestrator
from kiln.lab.protocol import Failure, Observation, Outcome, RunStatus
from kiln.lab.stopping import StopRules


def value(params: Mapping[str, Any]) -> dict[str, float]:
    return {"y": float(params["x"])}


@pytest.fixture
def campaign(store_url: str) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(60)])
    return Campaign.create("orch", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url)


def test_keeps_k_in_flight_over_several_instruments(campaign: Campaign) -> None:
    events: list[LoopEvent] = []
    full = asyncio.Event()  # set once k experiments have been dispatched: none finishes before that

    def record(event: LoopEvent) -> None:
        events.append(event)
        if sum(e.kind == "dispatched" for e in events) >= 4:
            full.set()

    def gated(latency: float) -> Any:
        async def measure(params: Mapping[str, Any]) -> dict[str, float]:
            await full.wait()
            await asyncio.sleep(latency)
            return value(params)

        return measure

    slow = CallableInstrument(gated(0.03), name="slow")
    fast = CallableInstrument(gated(0.01), name="fast")
    summary = Orchestrator(
        campaign, [slow, fast], in_flight=4, stop=StopRules(budget=24), timeout=60, on_event=record
    ).run_sync()  # should fewer than k ever be sent at once, the gate stays shut and the experiments time out
    assert summary.stopped_by == "budget" and summary.total == 24 and summary.finished == 24
    stored = campaign.experiments()
    assert len(stored) == 24 and all(e.status is ExperimentStatus.COMPLETED for e in stored)
    assert all(e.results["y"] == e.params["x"] for e in stored)
    assert {e.instrument for e in stored} == {"slow", "fast"}
    assert all(e.handle and e.dispatched_at is not None for e in stored)
    in_flight = [event.in_flight for event in events if event.kind == "dispatched"]
    assert max(in_flight) == 4  # k in flight, never more
    assert len({e.params["x"] for e in stored}) == 24  # nothing suggested twice


def test_failures_timeouts_and_missing_values_are_stored_with_their_reason(campaign: Campaign) -> None:
    async def measure(params: Mapping[str, Any]) -> Outcome:
        x = params["x"]
        if x % 3 == 0:
            return Failure("sample cracked")
        if x % 3 == 1:
            await asyncio.sleep(5)
        return Observation({"z": 1.0})

    summary = Orchestrator(
        campaign, [CallableInstrument(measure, name="rig")], in_flight=3, stop=StopRules(budget=9), timeout=0.2
    ).run_sync()
    assert summary.failed == 9 and summary.finished == 0
    reasons = {e.params["x"] % 3: e.reason for e in campaign.experiments()}
    assert reasons[0] == "sample cracked"
    assert reasons[1] == "timed out after 0.2 s on 'rig'"
    assert "no value for ['y']" in reasons[2]


class Flaky:
    """An instrument whose dispatch raises ``errors`` times before it accepts experiments."""

    name = "flaky"
    resumable = False

    def __init__(self, errors: int) -> None:
        self.errors = errors
        self.attempts = 0
        self.inner = CallableInstrument(value, name="inner")

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        self.attempts += 1
        if self.attempts <= self.errors:
            raise ConnectionError("robot busy")
        return await self.inner.submit(params)

    async def status(self, handle: str) -> RunStatus:
        return await self.inner.status(handle)

    async def outcome(self, handle: str) -> Outcome:
        return await self.inner.outcome(handle)

    async def cancel(self, handle: str) -> None:
        await self.inner.cancel(handle)


def test_dispatch_is_retried_with_backoff_then_failed(campaign: Campaign) -> None:
    flaky = Flaky(errors=2)
    summary = Orchestrator(campaign, [flaky], stop=StopRules(budget=1), retries=3, backoff=0.01).run_sync()
    assert summary.finished == 1 and flaky.attempts == 3
    hopeless = Flaky(errors=100)
    summary = Orchestrator(campaign, [hopeless], stop=StopRules(budget=2), retries=2, backoff=0.01).run_sync()
    assert hopeless.attempts == 3 and summary.failed == 1
    assert "dispatch to 'flaky' failed: ConnectionError: robot busy" in campaign.experiments()[-1].reason


def test_stop_rules(campaign: Campaign) -> None:
    instrument = SimulatedInstrument(value, name="sim")
    summary = Orchestrator(campaign, [instrument], stop=StopRules(target=50.0)).run_sync()
    assert summary.stopped_by == "target" and max(e.results["y"] for e in campaign.experiments()) >= 50
    summary = Orchestrator(campaign, [instrument], stop=StopRules(max_cost=5.0), costs={"sim": 2.5}).run_sync()
    assert summary.stopped_by == "max_cost" and summary.cost == 5.0 and summary.finished == 2
    summary = Orchestrator(campaign, [instrument], stop=StopRules(patience=3)).run_sync()
    assert summary.stopped_by == "patience" and summary.finished >= 3
    slow = SimulatedInstrument(value, name="slow", latency=0.05)
    summary = Orchestrator(campaign, [slow], in_flight=2, stop=StopRules(max_seconds=0.2)).run_sync()
    assert summary.stopped_by == "max_seconds" and summary.seconds >= 0.2


def test_runs_until_the_pool_is_exhausted(store_url: str) -> None:
    pool = CandidatePool(["x"], [[1.0], [2.0], [3.0]])
    campaign = Campaign.create(
        "tiny", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url
    )
    summary = Orchestrator(campaign, [SimulatedInstrument(value)], in_flight=2).run_sync()
    assert summary.stopped_by == "exhausted" and summary.finished == 3


class Resumable:
    """An instrument that keeps its experiments outside this process (here: a dict shared across 'restarts')."""

    name = "remote"
    resumable = True
    counter = itertools.count(1)

    def __init__(self, jobs: dict[str, Mapping[str, Any]]) -> None:
        self.jobs = jobs

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        handle = f"job-{next(self.counter)}"
        self.jobs[handle] = dict(params)
        return handle

    async def status(self, handle: str) -> RunStatus:
        return RunStatus.DONE if handle in self.jobs else RunStatus.UNKNOWN

    async def outcome(self, handle: str) -> Outcome:
        return Observation(value(self.jobs[handle]))

    async def cancel(self, handle: str) -> None:
        self.jobs.pop(handle, None)


def test_reconcile_dispatches_new_reattaches_resumable_and_flags_the_rest(campaign: Campaign) -> None:
    store, name = campaign.store, campaign.name
    never_sent, sending, on_remote, on_local, lost = campaign.ask(5)
    jobs: dict[str, Mapping[str, Any]] = {"job-a": dict(on_remote.params)}
    store.dispatch(name, sending.id, "remote")  # crashed before the instrument answered
    store.dispatch(name, on_remote.id, "remote", "job-a")
    store.dispatch(name, on_local.id, "sim", "sim-1")  # an in-process instrument: gone with the crash
    store.dispatch(name, lost.id, "remote", "job-gone")
    events: list[LoopEvent] = []
    summary = Orchestrator(
        campaign,
        [Resumable(jobs), SimulatedInstrument(value, name="sim")],
        stop=StopRules(budget=6),
        on_event=events.append,
    ).run_sync()
    by_id = {e.id: e for e in campaign.experiments()}
    assert by_id[never_sent.id].status is ExperimentStatus.COMPLETED
    assert by_id[on_remote.id].status is ExperimentStatus.COMPLETED and by_id[on_remote.id].handle == "job-a"
    for flagged in (sending, on_local, lost):
        assert by_id[flagged.id].status is ExperimentStatus.PENDING
        assert "kiln tell or kiln fail" in by_id[flagged.id].attention
    assert "may or may not run" in by_id[sending.id].attention
    assert "cannot be asked after a restart" in by_id[on_local.id].attention
    assert "reports unknown" in by_id[lost.id].attention
    assert summary.flagged == 3 and summary.total == 6 and len(by_id) == 6
    assert [e.kind for e in events].count("reattached") == 1
    again = Orchestrator(campaign, [Resumable(jobs)], stop=StopRules(budget=6)).run_sync()
    assert again.flagged == 0 and again.finished == 0  # flagged ones wait for the operator, not re-flagged


def test_settings_are_checked(campaign: Campaign) -> None:
    instrument = SimulatedInstrument(value)
    with pytest.raises(ValidationError, match="in_flight"):
        Orchestrator(campaign, [instrument], in_flight=0)
    with pytest.raises(ValidationError, match="instruments"):
        Orchestrator(campaign, [])
    with pytest.raises(ValidationError, match="instrument names must differ"):
        Orchestrator(campaign, [instrument, SimulatedInstrument(value)])
    with pytest.raises(ValidationError, match="stop: patience"):
        StopRules(patience=0)


def test_an_experiment_in_flight_can_be_cancelled(campaign: Campaign) -> None:
    slow = SimulatedInstrument(value, name="slow", latency=3600.0)  # none ends unless cancelled

    async def go() -> Any:
        orchestrator = Orchestrator(campaign, [slow], in_flight=2, stop=StopRules(budget=2))
        run = asyncio.create_task(orchestrator.run())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(orchestrator.in_flight_ids()) < 2:
            assert not run.done(), run.result()
            assert loop.time() < deadline, "never two experiments in flight"
            await asyncio.sleep(0.01)
        first, second = orchestrator.in_flight_ids()
        assert orchestrator.cancel(first, "wrong precursor loaded")
        assert orchestrator.cancel(second)
        assert not orchestrator.cancel("exp-unknown")
        return await asyncio.wait_for(run, timeout=60)

    summary = asyncio.run(go())
    assert summary.failed == 2
    reasons = sorted(e.reason for e in campaign.experiments())
    assert reasons == ["cancelled: by the operator", "cancelled: wrong precursor loaded"]


# ------------------------------------------------------------------------------ trouble that must not stop the loop
def test_odd_outcomes_are_stored_and_the_loop_goes_on(campaign: Campaign) -> None:
    import math

    from kiln.lab.instrument import ExperimentFailed

    def odd(params: Mapping[str, Any]) -> Any:
        x = params["x"]
        if x % 4 == 0:
            return {"y": x, "aux": math.nan, "colour": "red"}  # NaN and text beside the value
        if x % 4 == 1:
            raise ExperimentFailed("   ")  # an empty reason
        if x % 4 == 2:
            raise asyncio.CancelledError  # an SDK cancelling its own call
        return 3.0  # not a mapping

    summary = Orchestrator(
        campaign, [CallableInstrument(odd, name="odd")], in_flight=4, stop=StopRules(budget=12)
    ).run_sync()
    assert summary.stopped_by == "budget" and summary.finished + summary.failed == 12 and summary.flagged == 0
    for e in campaign.experiments():
        x = e.params["x"]
        if x % 4 == 0:
            assert e.status is ExperimentStatus.COMPLETED and e.outputs == {"aux": None, "colour": "red"}
        elif x % 4 == 1:
            assert e.reason == "failed"
        elif x % 4 == 2:
            assert e.reason == "cancelled by the instrument"
        else:
            assert "return a mapping of measured values" in e.reason


def test_suggestions_left_by_a_crash_are_sent_even_at_the_budget(campaign: Campaign) -> None:
    left = campaign.ask(2)  # a crash between ask and dispatch
    summary = Orchestrator(campaign, [SimulatedInstrument(value)], stop=StopRules(budget=2)).run_sync()
    assert summary.finished == 2 and {e.id for e in campaign.experiments()} == {e.id for e in left}
    assert all(e.status is ExperimentStatus.COMPLETED for e in campaign.experiments())


def test_max_cost_is_never_overspent_with_instruments_of_different_costs(campaign: Campaign) -> None:
    cheap, dear = SimulatedInstrument(value, name="cheap", latency=0.02), SimulatedInstrument(value, name="dear")
    summary = Orchestrator(
        campaign, [cheap, dear], in_flight=2, stop=StopRules(max_cost=3.0), costs={"cheap": 1.0, "dear": 5.0}
    ).run_sync()
    assert summary.stopped_by == "max_cost" and summary.cost == 3.0
    assert {e.instrument for e in campaign.experiments()} == {"cheap"}


def test_failed_dispatches_do_not_use_up_patience(campaign: Campaign) -> None:
    summary = Orchestrator(campaign, [Flaky(errors=100)], stop=StopRules(patience=2, budget=5), retries=0).run_sync()
    assert summary.stopped_by == "budget" and summary.failed == 5


def test_two_runs_at_once_never_send_an_experiment_twice(campaign: Campaign) -> None:
    campaign.ask(6)  # left over, never sent
    calls: list[float] = []

    async def robot(params: Mapping[str, Any]) -> dict[str, float]:
        calls.append(params["x"])
        await asyncio.sleep(0.02)
        return value(params)

    async def both() -> None:
        runs = [
            Orchestrator(campaign, [CallableInstrument(robot, name="robot")], in_flight=3, stop=StopRules(budget=6))
            for _ in range(2)
        ]
        await asyncio.gather(*(run.run() for run in runs))

    asyncio.run(both())
    assert sorted(calls) == sorted({*calls}) and len(calls) == 6
    assert all(e.status is ExperimentStatus.COMPLETED for e in campaign.experiments())


def test_a_retracted_result_does_not_reach_the_target(campaign: Campaign) -> None:
    (first,) = campaign.ask(1)
    campaign.tell(first.id, 1e308)  # a typo, retracted: the target is not reached by it
    campaign.retract(first.id, reason="typo")
    instrument = SimulatedInstrument(lambda params: {"y": 1.0}, name="sim")
    summary = Orchestrator(campaign, [instrument], stop=StopRules(target=50.0, budget=4)).run_sync()
    assert summary.stopped_by == "budget" and summary.finished >= 1
