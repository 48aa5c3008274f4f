"""Instrument adapters: callables (sync and async), command lines, simulated instruments."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kiln.core.errors import ValidationError
from kiln.lab import ExperimentFailed
from kiln.lab.adapters import simulated
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.adapters.command import CommandInstrument, parse_values
from kiln.lab.adapters.simulated import FailureRegion, Latency, SimulatedInstrument
from kiln.lab.protocol import AsyncInstrument, Failure, Observation, RunStatus


def run(instrument: AsyncInstrument, params: Mapping[str, Any]) -> Any:
    async def go() -> Any:
        handle = await instrument.submit(params)
        return await instrument.outcome(handle)

    return asyncio.run(go())


def square(params: Mapping[str, Any]) -> dict[str, float]:
    if params["x"] < 0:
        raise ExperimentFailed("negative x")
    return {"y": params["x"] ** 2}


def test_sync_and_async_callables_give_observations_and_failures() -> None:
    async def async_square(params: Mapping[str, Any]) -> dict[str, float]:
        await asyncio.sleep(0)
        return square(params)

    for function in (square, async_square):
        instrument = CallableInstrument(function, name="f")
        assert isinstance(instrument, AsyncInstrument) and not instrument.resumable
        assert run(instrument, {"x": 3.0}) == Observation({"y": 9.0})
        assert run(instrument, {"x": -1.0}) == Failure("negative x")
        assert run(instrument, {}) == Failure("KeyError: 'x'")  # any error is the experiment's failure


def test_status_and_cancel_of_a_running_experiment() -> None:
    async def slow(params: Mapping[str, Any]) -> dict[str, float]:
        await asyncio.sleep(10)
        return {"y": 1.0}

    async def go() -> list[RunStatus]:
        instrument = CallableInstrument(slow, name="slow")
        handle = await instrument.submit({})
        seen = [await instrument.status(handle)]
        await instrument.cancel(handle)
        await asyncio.sleep(0)
        seen.append(await instrument.status(handle))
        seen.append(await instrument.status("slow-999"))
        return seen

    assert asyncio.run(go()) == [RunStatus.RUNNING, RunStatus.CANCELLED, RunStatus.UNKNOWN]


SCRIPT = """
import json, sys, time
params = json.load(sys.stdin)
if params.get("mode") == "fail":
    print("oven door open", file=sys.stderr); sys.exit(3)
if params.get("mode") == "slow":
    time.sleep(30)
if params.get("mode") == "garbage":
    print("not json"); sys.exit(0)
print(json.dumps({"y": params["x"] * 2, "colour": "red"}))
"""


@pytest.fixture
def script(tmp_path: Path) -> list[str]:
    path = tmp_path / "measure.py"
    path.write_text(SCRIPT)
    return [sys.executable, str(path)]


def test_command_gets_json_on_stdin_and_returns_json(script: list[str]) -> None:
    outcome = run(CommandInstrument(script, timeout=20), {"x": 2.5})
    assert outcome == Observation({"y": 5.0}, {"colour": "red"})


def test_command_failures_say_why(script: list[str]) -> None:
    failed = run(CommandInstrument(script, timeout=20), {"mode": "fail"})
    assert isinstance(failed, Failure) and "status 3" in failed.reason and "oven door open" in failed.reason
    garbage = run(CommandInstrument(script, timeout=20), {"mode": "garbage"})
    assert isinstance(garbage, Failure) and "not JSON" in garbage.reason
    slow = run(CommandInstrument(script, timeout=0.5), {"mode": "slow"})
    assert slow == Failure("command timed out after 0.5 s")
    assert parse_values("[1, 2]") == Failure("command output must be a JSON object of measured values, got '[1, 2]'")


def test_command_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="instrument: command"):
        CommandInstrument("python measure.py")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="instrument: timeout"):
        CommandInstrument(["true"], timeout=0)


def test_simulated_instrument_fails_inside_its_region_and_adds_noise() -> None:
    region = {"where": {"x": [0.0, 0.5]}, "probability": 1.0, "reason": "no film"}
    instrument = SimulatedInstrument(square, failure_regions=[region], noise=0.1, seed=1)
    assert instrument.in_failure_region({"x": 0.2}) and not instrument.in_failure_region({"x": 0.7})
    assert run(instrument, {"x": 0.2}) == Failure("no film")
    values = [run(instrument, {"x": 2.0}).values["y"] for _ in range(200)]
    assert abs(sum(values) / len(values) - 4.0) < 0.05 and 0.05 < float(__import__("numpy").std(values)) < 0.2


def test_simulated_random_failures_follow_their_probability() -> None:
    instrument = SimulatedInstrument(square, failure_probability=0.3, seed=2)
    outcomes = [run(instrument, {"x": 1.0}) for _ in range(400)]
    share = sum(isinstance(o, Failure) for o in outcomes) / len(outcomes)
    assert 0.22 < share < 0.38


def test_simulated_latency_is_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def go() -> float:
        all_waiting = asyncio.Event()

        async def recording_sleep(delay: float) -> None:
            delays.append(delay)
            if len(delays) == 5:
                all_waiting.set()
            await all_waiting.wait()  # no wait ends before all five have begun: they overlap
            await real_sleep(delay)

        monkeypatch.setattr(simulated, "asyncio", SimpleNamespace(sleep=recording_sleep))
        instrument = SimulatedInstrument(square, latency={"kind": "uniform", "low": 0.2, "high": 0.3})
        loop = asyncio.get_running_loop()
        start = loop.time()
        handles = [await instrument.submit({"x": 1.0}) for _ in range(5)]
        outcomes = await asyncio.wait_for(asyncio.gather(*(instrument.outcome(h) for h in handles)), timeout=60)
        assert outcomes == [Observation({"y": 1.0})] * 5
        return loop.time() - start

    elapsed = asyncio.run(go())
    assert elapsed >= 0.2  # the latency was waited for
    assert len(delays) == 5 and all(0.2 <= d <= 0.3 for d in delays)  # five experiments at once, as configured
    assert len(set(delays)) == 5  # each drew its own latency


def test_latency_and_region_settings_are_checked() -> None:
    assert Latency.parse(2) == Latency("fixed", 2.0)
    with pytest.raises(ValidationError, match="latency: kind"):
        Latency.parse({"kind": "gamma"})
    with pytest.raises(ValidationError, match="latency: high"):
        Latency.parse({"kind": "uniform", "low": 2, "high": 1})
    with pytest.raises(ValidationError, match="failure_regions"):
        FailureRegion.parse({"where": {"x": [1, 0]}})
    with pytest.raises(ValidationError, match="failure_probability"):
        SimulatedInstrument(square, failure_probability=1.5)
    assert FailureRegion.parse({"where": {"solvent": ["water"]}}).contains({"solvent": "water"})


def test_more_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="time_scale"):
        SimulatedInstrument(square, time_scale=float("inf"))
    with pytest.raises(ValidationError, match="failure_regions"):
        FailureRegion.parse({"where": {"x": [0, 1]}, "probabilty": 0.1})
    assert run(CallableInstrument(lambda p: {"y": 1, "note": "ok"}, name="c"), {}) == Observation(
        {"y": 1.0}, {"note": "ok"}
    )
