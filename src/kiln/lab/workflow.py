"""Workflows: an experiment as a sequence of steps, each on its own instrument (synthesise -> anneal -> measure).

Each step gets the experiment's parameters plus every value measured by the steps before it, and its outcome is
recorded in the experiment's ``outputs`` (``{"steps": [{"step", "instrument", "values", "outputs", "seconds"}]}``).
A failed step fails the experiment, naming the step. The experiment's values are those of all steps together (a
later step's value wins on a name clash, unless it is not a finite number: a value an earlier step measured is not
lost to a later step's NaN); a ``reward`` function, when given, turns them into the objective's target value (e.g.
a figure of merit from conductivity and transparency). The combined values follow the Orchestrator's rule for one
instrument: when the steps together measured only some of the objective's quantities, those are stored and the
experiment awaits the rest (partial results); when they measured none, it fails.

A workflow runs as one instrument (``WorkflowInstrument``): the Orchestrator keeps up to k workflows in flight,
and steps of different experiments share the step instruments.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kiln.core.errors import SpecError
from kiln.lab.adapters.tasks import TaskInstrument
from kiln.lab.protocol import AsyncInstrument, Failure, Observation, Outcome

Reward = Callable[[Mapping[str, float]], float]
"""All values measured by the steps -> the target value."""


@dataclass(frozen=True)
class Step:
    """One step: its name, the instrument that runs it, its cost and its expected duration (seconds; recorded
    beside the measured duration, a guide for the spec's ``timeout``)."""

    name: str
    instrument: str
    cost: float = 1.0
    duration: float | None = None


class WorkflowInstrument(TaskInstrument):
    """Runs ``steps`` in order on ``instruments`` (name -> instrument); see the module docstring."""

    def __init__(
        self,
        steps: Sequence[Step],
        instruments: Mapping[str, AsyncInstrument],
        *,
        target: str,
        reward: Reward | None = None,
        name: str = "workflow",
    ) -> None:
        super().__init__(name)
        missing = sorted({step.instrument for step in steps} - set(instruments))
        if not steps or missing:
            raise SpecError(
                "workflow: steps",
                [step.instrument for step in steps],
                f"steps run on the spec's instruments {sorted(instruments)}"
                + (f"; unknown {missing}" if missing else ""),
                "name an instrument of the spec in each step",
            )
        self.steps = tuple(steps)
        self.instruments = dict(instruments)
        self.target = target
        self.reward = reward

    @property
    def cost(self) -> float:
        """The cost of one experiment: the sum of its steps' costs."""
        return sum(step.cost for step in self.steps)

    async def run(self, params: Mapping[str, Any], key: str = "") -> Outcome:
        values: dict[str, float] = {}
        record: list[dict[str, Any]] = []
        for step in self.steps:
            instrument = self.instruments[step.instrument]
            started = time.monotonic()
            where = f"step {step.name!r} on {step.instrument!r}"
            try:
                handle = await instrument.submit({**params, **values}, key=f"{key}/{step.name}" if key else "")
            except Exception as error:
                return Failure(f"{where}: dispatch failed: {type(error).__name__}: {error}")
            try:
                outcome = await instrument.outcome(handle)
            except asyncio.CancelledError:  # the experiment was cancelled or timed out: stop the running step
                with contextlib.suppress(Exception):
                    await asyncio.shield(instrument.cancel(handle))
                raise
            except Exception as error:
                return Failure(f"{where}: {type(error).__name__}: {error}")
            if isinstance(outcome, Failure):
                return Failure(f"{where}: {outcome.reason}")
            for quantity, value in outcome.values.items():
                if quantity not in values or _finite(value):
                    values[quantity] = value
            record.append(
                {
                    "step": step.name,
                    "instrument": step.instrument,
                    "values": dict(outcome.values),
                    "outputs": dict(outcome.outputs),
                    "seconds": round(time.monotonic() - started, 3),
                    "expected_seconds": step.duration,
                }
            )
        if self.reward is not None:
            try:
                value = float(self.reward(dict(values)))
            except Exception as error:  # a reward that cannot be computed fails the experiment, with the reason
                return Failure(f"reward: {type(error).__name__}: {error}")
            if not math.isfinite(value):
                return Failure(f"reward: not a finite number ({value})")
            values[self.target] = value
        return Observation(values, {"steps": record})


def workflow_from_spec(config: Any, instruments: Mapping[str, AsyncInstrument], *, target: str) -> WorkflowInstrument:
    """``{steps: [{name, instrument, cost, duration}, ...], reward: "module:function"}`` -> the workflow;
    SpecError naming the field at fault."""
    from kiln.lab.instrument_config import import_function

    if not isinstance(config, Mapping) or not isinstance(config.get("steps"), list) or not config["steps"]:
        raise SpecError(
            "workflow",
            config,
            "a map with a non-empty list of steps",
            "e.g. steps: [{name: measure, instrument: bench}]",
        )
    unknown = sorted(set(config) - {"steps", "reward"})
    if unknown:
        raise SpecError("workflow", unknown, "fields are steps and reward", "remove the others")
    steps = []
    for index, item in enumerate(config["steps"]):
        where = f"workflow.steps[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"name", "instrument", "cost", "duration"}:
            raise SpecError(
                where, item, "a map with name, instrument, cost, duration", "e.g. {name: anneal, instrument: furnace}"
            )
        name, instrument = item.get("name"), item.get("instrument")
        if not isinstance(name, str) or not name or not isinstance(instrument, str):
            raise SpecError(
                where, item, "a step needs a name and an instrument (names)", "e.g. {name: anneal, instrument: furnace}"
            )
        cost, duration = item.get("cost", 1.0), item.get("duration")
        if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
            raise SpecError(f"{where}.cost", cost, "a number >= 0", "e.g. cost: 1")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0
        ):
            raise SpecError(f"{where}.duration", duration, "a number of seconds > 0", "e.g. duration: 600")
        steps.append(Step(name, instrument, float(cost), None if duration is None else float(duration)))
    names = [step.name for step in steps]
    if len(set(names)) != len(names):
        raise SpecError("workflow.steps", names, "step names must differ", "rename the duplicates")
    manual = sorted({s.instrument for s in steps if getattr(instruments.get(s.instrument), "attach", None)})
    if manual:
        raise SpecError(
            "workflow.steps",
            manual,
            "steps run on automated instruments (a manual one waits for a whole experiment)",
            "record a manual step's values with a callable or command instrument, or run the campaign by hand",
        )
    reward = import_function(config["reward"], "workflow.reward") if "reward" in config else None
    return WorkflowInstrument(steps, instruments, target=target, reward=reward)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
