"""In-process instruments: each submitted experiment is an asyncio task of this process.

Such an instrument cannot be asked about a handle after Kiln restarts (``resumable`` is False): experiments that
were in flight at a crash are marked for the operator.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Mapping
from typing import Any

from kiln.core.errors import NotFoundError
from kiln.lab.instrument import ExperimentFailed
from kiln.lab.protocol import Failure, Observation, Outcome, RunStatus


class TaskInstrument:
    """Base of the in-process adapters: subclasses implement ``run(params) -> Outcome``.

    ``run`` may also raise ExperimentFailed (a Failure with its message) or return a plain mapping of values (an
    Observation); any other exception is a Failure naming it, so one broken experiment never stops the loop.
    """

    resumable = False

    def __init__(self, name: str, *, replayable: bool = False) -> None:
        self.name = name
        self.replayable = replayable
        self._tasks: dict[str, asyncio.Task[Outcome]] = {}
        self._numbers = itertools.count(1)
        self._cancelled: set[str] = set()

    async def run(self, params: Mapping[str, Any], key: str = "") -> Outcome | Mapping[str, Any]:
        """Run one experiment (``key``: its id, for instruments that pass it on)."""
        raise NotImplementedError

    async def _guarded(self, params: Mapping[str, Any], key: str) -> Outcome:
        try:
            result = await self.run(params, key)
        except ExperimentFailed as failure:
            return Failure(str(failure).strip() or "failed")
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # cancelled by Kiln: let it end
            return Failure("cancelled by the instrument")
        except Exception as error:  # an instrument's error becomes the experiment's failure
            return Failure(f"{type(error).__name__}: {error}")
        if isinstance(result, Observation | Failure):
            return result
        if not isinstance(result, Mapping):
            return Failure(
                f"the instrument returned {type(result).__name__} {result!r:.80}; return a mapping of measured "
                "values, e.g. {'yield': 0.83}, or raise ExperimentFailed('reason')"
            )
        return observation(result)

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        handle = f"{self.name}-{next(self._numbers)}"
        self._tasks[handle] = asyncio.create_task(self._guarded(dict(params), key), name=handle)
        return handle

    def _task(self, handle: str) -> asyncio.Task[Outcome]:
        if handle not in self._tasks:
            raise NotFoundError(f"instrument {self.name!r} has no experiment {handle!r} (it may have restarted)")
        return self._tasks[handle]

    async def status(self, handle: str) -> RunStatus:
        if handle in self._cancelled:
            return RunStatus.CANCELLED
        if handle not in self._tasks:
            return RunStatus.UNKNOWN
        task = self._tasks[handle]
        if not task.done():
            return RunStatus.RUNNING
        if task.cancelled():
            return RunStatus.CANCELLED
        return RunStatus.FAILED if isinstance(task.result(), Failure) else RunStatus.DONE

    async def outcome(self, handle: str) -> Outcome:
        task = self._task(handle)
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._tasks.pop(handle, None)

    async def cancel(self, handle: str) -> None:
        task = self._tasks.pop(handle, None)
        if task is not None:
            self._cancelled.add(handle)
            if not task.done():
                task.cancel()


def observation(values: Mapping[str, Any], outputs: Mapping[str, Any] | None = None) -> Observation:
    """Finite numbers of ``values`` as measured values; everything else (text, lists, NaN) goes to outputs."""
    numbers = {
        str(k): float(v)
        for k, v in values.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))
    }
    rest = {str(k): v for k, v in values.items() if str(k) not in numbers}
    return Observation(numbers, {**rest, **(outputs or {})})
