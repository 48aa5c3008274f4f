"""A Python function as an instrument: sync functions run in a worker thread, async ones on the event loop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from kiln.lab.adapters.tasks import TaskInstrument
from kiln.lab.protocol import Outcome

Measure = Callable[[Mapping[str, Any]], Any]
"""params (lab units) -> values (name -> number), an Observation or a Failure; may raise ExperimentFailed."""


class CallableInstrument(TaskInstrument):
    """Runs ``function(params)`` per experiment, e.g. a function that drives a robot through its vendor's API.

    A synchronous function runs in a worker thread so that several experiments (and the strategy) proceed at once;
    it must then be safe to call from several threads, or be used with one experiment in flight. A thread cannot be
    stopped: after a timeout or a cancel the experiment is failed, but the function runs to its end (its result is
    then ignored). An async function is cancelled properly. ``replayable``: calling it again for an experiment
    that was in flight at a crash is harmless, so such experiments are sent again instead of waiting for the
    operator.
    """

    def __init__(self, function: Measure, name: str = "callable", *, replayable: bool = False) -> None:
        super().__init__(name, replayable=replayable)
        self.function = function

    async def run(self, params: Mapping[str, Any], key: str = "") -> Outcome | Mapping[str, Any]:
        if inspect.iscoroutinefunction(self.function):
            return await self.function(params)  # type: ignore[no-any-return]
        return await asyncio.to_thread(self.function, params)  # type: ignore[no-any-return]
