"""The asynchronous instrument protocol: submit an experiment, poll it, collect its outcome, cancel it.

An instrument runs experiments that take time, possibly several at once. ``submit`` hands the parameters (lab
units) over and returns a handle: a short string the instrument can later recognise, even from another process
after a crash where the instrument supports that (``resumable``). ``status`` polls without blocking;
``outcome`` waits for the end and returns an Observation (measured values) or a Failure (a reason); ``cancel``
asks the instrument to stop.

The synchronous ``kiln.lab.instrument.Instrument`` (one ``measure`` call per experiment) is adapted by
``kiln.lab.adapters.callable.CallableInstrument``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class RunStatus(StrEnum):
    """Where a submitted experiment stands on its instrument."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"
    """The instrument does not know the handle (e.g. it restarted and lost it)."""


@dataclass(frozen=True)
class Observation:
    """A finished experiment's measured values: quantity (a target or a constrained quantity) or output name ->
    number; a quantity left out (or not a finite number) was not measured, and the others are stored as partial
    results. ``outputs`` holds anything else the instrument reported (JSON values), kept with the experiment's
    record."""

    values: Mapping[str, float]
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """An experiment that ran (or tried to) and failed; ``reason`` is stored with it."""

    reason: str


Outcome = Observation | Failure


@runtime_checkable
class AsyncInstrument(Protocol):
    """An instrument driven with asyncio. See the module docstring.

    Attributes:
        name: shown in progress displays and stored with each dispatch.
        resumable: whether ``status``/``outcome`` work for handles issued before a restart of Kiln; if not,
            experiments in flight at a crash are marked for the operator instead of being reattached.

    An instrument may also set ``replayable = True``: running an experiment again is harmless (an emulator's
    lookup), so experiments it had in flight at a crash are simply sent again.

    An Observation may hold values for some of the objective's quantities only (partial results): those are stored,
    the experiment stays pending awaiting the rest and leaves the instrument; it is not sent or polled again. An
    instrument that sets ``waits_for_all = True`` (the manual one) instead keeps a partly measured experiment in
    flight, after a restart too, until its outcome holds every quantity.
    """

    name: str
    resumable: bool

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        """Start an experiment; returns its handle. Raises on a failed dispatch (Kiln retries with backoff).

        ``key`` is the experiment's id, the same on every retry: an instrument that remembers keys can refuse to
        run an experiment twice (the HTTP adapter sends it as an Idempotency-Key header)."""
        ...

    async def status(self, handle: str) -> RunStatus:
        """Where the experiment stands, without waiting."""
        ...

    async def outcome(self, handle: str) -> Outcome:
        """Wait for the experiment to end; its Observation or Failure."""
        ...

    async def cancel(self, handle: str) -> None:
        """Ask the instrument to stop the experiment (no error if it has ended)."""
        ...
