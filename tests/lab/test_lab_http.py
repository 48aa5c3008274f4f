"""The HTTP instrument adapter against a simulated lab service, and the Orchestrator reattaching after a restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from http_lab import LabService, running_service
from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.core.errors import ValidationError
from kiln.lab.adapters.http import HttpInstrument
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.protocol import Failure, Observation, RunStatus
from kiln.lab.stopping import StopRules


def instrument(base: str, **options: Any) -> HttpInstrument:
    return HttpInstrument(f"{base}/run", f"{base}/run/{{id}}", name="robot", poll_interval=0.02, **options)


def test_submit_poll_and_collect() -> None:
    service = LabService(latency=3600.0)  # the job runs until the test lets it finish
    with running_service(service) as base:
        robot = instrument(base)

        def finish(handle: str) -> None:
            with service.lock:
                service.jobs[handle]["ready"] = 0.0

        async def go() -> tuple[RunStatus, Any, RunStatus, Any]:
            handle = await robot.submit({"x": 2.5}, key="exp-1")
            first = await robot.status(handle)
            finish(handle)
            outcome = await asyncio.wait_for(robot.outcome(handle), timeout=60)
            return first, outcome, await robot.status("job-999"), await robot.outcome("job-999")

        first, outcome, unknown, lost = asyncio.run(go())
    assert first is RunStatus.RUNNING
    assert outcome == Observation({"y": 2.5}, {"colour": "red"})
    assert unknown is RunStatus.UNKNOWN
    assert isinstance(lost, Failure) and "unknown" in lost.reason
    assert service.posts == [("exp-1", {"x": 2.5})]


def test_service_failures_and_refused_submits() -> None:
    service = LabService(fail_submits=1)
    with running_service(service) as base:
        robot = instrument(base)

        async def go() -> Any:
            with pytest.raises(Exception, match="HTTP 503"):
                await robot.submit({"x": 1.0}, key="exp-2")
            handle = await robot.submit({"z": 1.0}, key="exp-3")
            return await robot.outcome(handle)

        assert asyncio.run(go()) == Failure("no x given")


def test_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="status_url"):
        HttpInstrument("http://robot/run", "http://robot/run/status")
    with pytest.raises(ValidationError, match="submit_url"):
        HttpInstrument("robot/run", "http://robot/run/{id}")


def test_orchestrator_reattaches_to_experiments_the_service_kept(store_url: str) -> None:
    pool = CandidatePool(["x"], [[float(i)] for i in range(30)])
    campaign = Campaign.create(
        "http", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url
    )
    service = LabService(latency=0.05)
    with running_service(service) as base:
        first = Orchestrator(campaign, [instrument(base)], in_flight=3, stop=StopRules(budget=6), retries=0).run_sync()
        assert first.finished == 6
        running = campaign.ask(2)  # as if a crashed run had dispatched these two
        for experiment in running:
            handle = asyncio.run(instrument(base).submit(dict(experiment.params), key=experiment.id))
            campaign.store.dispatch(campaign.name, experiment.id, "robot", handle)
        second = Orchestrator(campaign, [instrument(base)], in_flight=3, stop=StopRules(budget=10)).run_sync()
    stored = campaign.experiments()
    assert second.flagged == 0 and len(stored) == 10
    assert all(e.status is ExperimentStatus.COMPLETED for e in stored)
    keys = [key for key, _ in service.posts]
    assert len(keys) == len(set(keys)) == 10  # every experiment sent exactly once


def test_busy_answers_while_waiting_are_retried_and_bad_bodies_named() -> None:
    service = LabService(latency=0.1)
    with running_service(service) as base:
        robot = instrument(base)
        calls = {"n": 0}
        real = robot._request

        def flaky(method: str, url: str, body: Any = None, key: str = "") -> tuple[int, Any]:
            calls["n"] += 1
            if method == "GET" and calls["n"] <= 3:
                return 503, "upstream restarting"
            return real(method, url, body, key)

        robot._request = flaky  # type: ignore[method-assign]

        async def go() -> Any:
            handle = await robot.submit({"x": 4.0}, key="exp-9")
            return await robot.outcome(handle)

        assert asyncio.run(go()) == Observation({"y": 4.0}, {"colour": "red"})
        robot._request = lambda *a, **k: (200, "<html>oops</html>")  # type: ignore[method-assign]
        with pytest.raises(Exception, match="expected 2xx with an id"):
            asyncio.run(robot.submit({"x": 1.0}, key="exp-10"))
        asyncio.run(robot.cancel("job-1"))  # never raises
    with pytest.raises(ValidationError, match="headers"):
        HttpInstrument("http://a/run", "http://a/run/{id}", headers=["X-Token: 1"])  # type: ignore[arg-type]
