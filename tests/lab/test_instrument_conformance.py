"""Every built-in instrument kind runs the shipped Instrument conformance suite (``kiln.lab.conformance``): the
emulator and the simulated instrument as a spec builds them, callables (sync and async), a command line, the HTTP
adapter against a lab service on loopback, a workflow of two steps, and the simulated microscope.

The manual instrument waits for a person, so only the checks that need no outcome run on it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from http_lab import LabService, running_service
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.adapters.command import CommandInstrument
from kiln.lab.adapters.http import HttpInstrument
from kiln.lab.adapters.manual import ManualInstrument
from kiln.lab.adapters.simulated import SimulatedInstrument
from kiln.lab.conformance import INSTRUMENT_CHECKS, Check, Factory, check_attributes, check_runs_an_experiment
from kiln.lab.datasets import dataset_info, load_dataset
from kiln.lab.instrument_config import instrument_from_spec
from kiln.lab.protocol import Observation
from kiln.lab.workflow import Step, WorkflowInstrument

P3HT = dataset_info("p3ht")
P3HT_ROW = {name: float(value) for name, value in load_dataset("p3ht")[list(P3HT.inputs)].iloc[0].items()}
ECHO = "import json, sys; p = json.load(sys.stdin); print(json.dumps({'y': 2 * p['x']}))"


def double(params: Mapping[str, Any]) -> dict[str, float]:
    return {"y": 2.0 * float(params["x"])}


async def double_later(params: Mapping[str, Any]) -> dict[str, float]:
    await asyncio.sleep(0)
    return {"z": float(params["y"]) + 1.0, "note": "annealed"}


def spec(config: dict[str, Any]) -> Factory:
    return lambda: instrument_from_spec(config)[0]


@pytest.fixture(scope="module")
def lab_url() -> Iterator[str]:
    with running_service(LabService(latency=0.05)) as base:
        yield base


def cases(lab_url: str) -> dict[str, tuple[Factory, dict[str, Any]]]:
    return {
        "emulator": (spec({"kind": "emulator", "dataset": "p3ht"}), P3HT_ROW),
        "simulated dataset": (
            spec({"kind": "simulated", "dataset": "p3ht", "noise": 0.1, "latency": 0.01, "failure_probability": 0.3}),
            P3HT_ROW,
        ),
        "simulated function": (lambda: SimulatedInstrument(double, latency=0.01, seed=3), {"x": 1.5}),
        "callable": (lambda: CallableInstrument(double), {"x": 1.5}),
        "async callable": (lambda: CallableInstrument(double_later), {"y": 1.5}),
        "command": (lambda: CommandInstrument([sys.executable, "-c", ECHO], timeout=60), {"x": 1.5}),
        "http": (
            lambda: HttpInstrument(f"{lab_url}/run", f"{lab_url}/run/{{id}}", name="robot", poll_interval=0.02),
            {"x": 1.5},
        ),
        "microscope": (
            spec(
                {
                    "kind": "microscope",
                    "sample": {"kind": "ferroelectric", "size": 32},
                    "reward": "loop_area",
                    "time_scale": 0.0001,
                }
            ),
            {"x": 3, "y": 7},
        ),
        "workflow": (
            lambda: WorkflowInstrument(
                [Step("make", "robot"), Step("anneal", "furnace")],
                {"robot": CallableInstrument(double, name="robot"), "furnace": CallableInstrument(double_later)},
                target="z",
            ),
            {"x": 1.5},
        ),
    }


CASES = list(cases("").keys())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("check", INSTRUMENT_CHECKS, ids=lambda c: c.__name__)
def test_instrument_conforms(check: Check, case: str, lab_url: str) -> None:
    make, params = cases(lab_url)[case]
    check(make, params)


def test_the_manual_instrument_has_the_attributes() -> None:
    check_attributes(lambda: ManualInstrument(poll_interval=0.1), {})


def test_the_suite_catches_an_instrument_that_reports_nan() -> None:
    """An instrument whose Observation holds a NaN fails the suite (the checks can fail)."""

    class Sloppy(CallableInstrument):
        async def run(self, params: Mapping[str, Any], key: str = "") -> Observation:
            return Observation({"y": float("nan")})

    make: Callable[[], Any] = lambda: Sloppy(double)  # noqa: E731
    with pytest.raises(AssertionError, match="not finite"):
        check_runs_an_experiment(make, {"x": 1.0})
