"""In-process instruments: each submitted experiment is an asyncio task of this process.

Such an instrument cannot be asked about a handle after Kiln restarts (``resumable`` is False): experiments that
were in flight at a crash are marked for the operator.
"""

from __future__ import annotations

import asyncio
import itertools
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

    async def run(self, params: Mapping[str, Any]) -> Outcome | Mapping[str, float]:
        raise NotImplementedError

    async def _guarded(self, params: Mapping[str, Any]) -> Outcome:
        try:
            result = await self.run(params)
        except ExperimentFailed as failure:
            return Failure(str(failure) or "failed")
        except asyncio.CancelledError:
            raise
        except Exception as error:
            return Failure(f"{type(error).__name__}: {error}")
        if isinstance(result, Observation | Failure):
            return result
        return Observation({str(k): float(v) for k, v in dict(result).items()})

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        handle = f"{self.name}-{next(self._numbers)}"
        self._tasks[handle] = asyncio.create_task(self._guarded(dict(params)), name=handle)
        return handle

    def _task(self, handle: str) -> asyncio.Task[Outcome]:
        if handle not in self._tasks:
            raise NotFoundError(f"instrument {self.name!r} has no experiment {handle!r} (it may have restarted)")
        return self._tasks[handle]

    async def status(self, handle: str) -> RunStatus:
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
        task = self._tasks.get(handle)
        if task is not None and not task.done():
            task.cancel()
