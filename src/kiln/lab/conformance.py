"""The Instrument conformance suite: every asynchronous instrument, built in or a plug-in, runs these checks.

An instrument is given as a factory (a new instrument per check) and one experiment it can run
(``tests/lab/test_instrument_conformance.py`` runs the suite for every built-in kind)::

    from kiln.lab.conformance import INSTRUMENT_CHECKS

    @pytest.mark.parametrize("check", INSTRUMENT_CHECKS, ids=lambda c: c.__name__)
    def test_my_instrument(check):
        check(lambda: MyInstrument(...), {"temperature": 80})

Each check raises AssertionError saying which part of the contract of ``kiln.lab.protocol.AsyncInstrument`` broke:
the attributes, a handle per submission, an outcome that is an Observation (finite numbers, JSON outputs) or a
Failure with a reason, several experiments in flight at once, the same experiment run again (a replay after a
crash), cancelling an ended experiment, and an unknown handle reported as such instead of raising.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from kiln.lab.protocol import AsyncInstrument, Failure, Observation, Outcome, RunStatus

Factory = Callable[[], AsyncInstrument]
Check = Callable[[Factory, Mapping[str, Any]], None]

ENDED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.UNKNOWN)
"""What ``status`` may say once the outcome was collected (an in-process instrument forgets collected handles)."""


def _outcome_ok(outcome: Any, where: str) -> None:
    assert isinstance(outcome, Observation | Failure), f"{where}: outcome is {type(outcome).__name__}"
    if isinstance(outcome, Failure):
        assert isinstance(outcome.reason, str) and outcome.reason.strip(), f"{where}: a Failure needs a reason"
        return
    for name, value in outcome.values.items():
        assert isinstance(name, str), f"{where}: quantity name {name!r} is not text"
        assert isinstance(value, float | int) and not isinstance(value, bool), f"{where}: {name} = {value!r}"
        assert math.isfinite(float(value)), f"{where}: {name} = {value} is not finite (leave it out instead)"
    json.dumps(dict(outcome.outputs))  # outputs are stored as JSON


async def _run(instrument: AsyncInstrument, params: Mapping[str, Any], key: str = "") -> tuple[str, Outcome]:
    handle = await instrument.submit(dict(params), key=key)
    assert isinstance(handle, str) and handle, f"{instrument.name}: submit returned the handle {handle!r}"
    return handle, await instrument.outcome(handle)


def check_attributes(make: Factory, params: Mapping[str, Any]) -> None:
    """It is an AsyncInstrument with a name (text) and ``resumable`` (true or false)."""
    instrument = make()
    assert isinstance(instrument, AsyncInstrument), f"{type(instrument).__name__} is not an AsyncInstrument"
    assert isinstance(instrument.name, str) and instrument.name, f"name {instrument.name!r} is not a text"
    assert isinstance(instrument.resumable, bool), f"{instrument.name}: resumable {instrument.resumable!r}"


def check_runs_an_experiment(make: Factory, params: Mapping[str, Any]) -> None:
    """An experiment gets a handle and ends in an Observation or a Failure; its status then says it ended."""

    async def go() -> None:
        instrument = make()
        handle, outcome = await _run(instrument, params, key="conformance-1")
        _outcome_ok(outcome, instrument.name)
        status = await instrument.status(handle)
        assert status in ENDED, f"{instrument.name}: status after the outcome is {status}"

    asyncio.run(go())


def check_several_in_flight(make: Factory, params: Mapping[str, Any]) -> None:
    """Three experiments submitted before any ends get three handles and three outcomes."""

    async def go() -> None:
        instrument = make()
        handles = [await instrument.submit(dict(params), key=f"conformance-{i}") for i in range(3)]
        assert len(set(handles)) == 3, f"{instrument.name}: handles {handles} are not distinct"
        for outcome in await asyncio.gather(*(instrument.outcome(h) for h in handles)):
            _outcome_ok(outcome, instrument.name)

    asyncio.run(go())


def check_replay(make: Factory, params: Mapping[str, Any]) -> None:
    """The same experiment may be sent again (after a crash, before its result was stored) and ends again."""

    async def go() -> None:
        instrument = make()
        first = (await _run(instrument, params, key="conformance-replay"))[1]
        again = (await _run(instrument, params, key="conformance-replay-2"))[1]
        _outcome_ok(first, instrument.name)
        _outcome_ok(again, instrument.name)

    asyncio.run(go())


def check_cancel_after_end(make: Factory, params: Mapping[str, Any]) -> None:
    """Cancelling an experiment that has ended raises nothing."""

    async def go() -> None:
        instrument = make()
        handle, _ = await _run(instrument, params, key="conformance-cancel")
        await instrument.cancel(handle)

    asyncio.run(go())


def check_unknown_handle(make: Factory, params: Mapping[str, Any]) -> None:
    """``status`` of a handle it never issued is UNKNOWN (an instrument that restarted says so; it never
    raises)."""

    async def go() -> None:
        instrument = make()
        status = await instrument.status("conformance-no-such-handle")
        assert status is RunStatus.UNKNOWN, f"{instrument.name}: status of an unknown handle is {status}"

    asyncio.run(go())


INSTRUMENT_CHECKS: tuple[Check, ...] = (
    check_attributes,
    check_runs_an_experiment,
    check_several_in_flight,
    check_replay,
    check_cancel_after_end,
    check_unknown_handle,
)
"""Every check of the instrument contract."""


def check_instrument(make: Factory, params: Mapping[str, Any]) -> None:
    """Run every check; the first broken one raises AssertionError."""
    for check in INSTRUMENT_CHECKS:
        check(make, params)
