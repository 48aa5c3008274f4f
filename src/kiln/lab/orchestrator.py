"""The Orchestrator: up to k experiments in flight over one or several instruments, safely.

Order of writes for each experiment (so that a crash at any moment loses nothing and sends nothing twice):

1. the strategy's suggestion is stored (pending) by ``Campaign.ask``, which counts running experiments;
2. the dispatch is recorded (instrument name, empty handle) before the instrument is called;
3. the instrument's handle is recorded once it accepted the experiment;
4. the outcome is stored (``tell`` / ``fail``) before the loop moves on.

At start, ``reconcile`` looks at the campaign's pending experiments: never dispatched ones are sent first;
dispatched ones are reattached when their instrument can be asked about the handle (``resumable``), sent again
when running them twice is harmless (``replayable``, e.g. an emulator), and otherwise flagged for the operator
(``Campaign.flag``), who finishes them with ``kiln tell`` / ``kiln fail``. Flagged experiments stay pending, so the
strategy treats them as running and never proposes them again.

Partial results: an observation with a finite value for some of the objective's quantities (targets and constrained
quantities) and none, or a value that is not a finite number (NaN, infinity, text), for the others is stored as what
it is: the values it has are told, the experiment stays pending "awaiting" the rest (``kiln tell``, REST, an import)
and leaves its instrument, so the loop goes on with new experiments (event "partial"). A value that is not a finite
number counts as no value; what the instrument gave for it is kept in the experiment's outputs under its name (as
the adapters do). An observation with no usable value for any quantity fails the experiment. A partly measured
experiment is never sent or polled again (after a restart neither), except on an instrument that ``waits_for_all``
(the manual one: a person records the quantities one by one, and the experiment stays in flight until the last).
It counts against the budget (it was started), not for patience (it cannot be judged before it is complete).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.campaign import Campaign
from kiln.campaign.gate import Gate
from kiln.core.errors import KilnError, StateError, ValidationError
from kiln.core.json_values import json_safe
from kiln.core.records import CANCELLED, DISPATCH_FAILURE, Experiment, ExperimentStatus
from kiln.lab.protocol import AsyncInstrument, Failure, Observation, Outcome, RunStatus
from kiln.lab.stopping import StopRules, uses_budget

NOTE_MAX = 2000
"""Characters at most of a note for the operator."""

TELL_ATTEMPTS = 3
"""Tries to store an instrument's values while others tell some of the same experiment's quantities."""


@dataclass(frozen=True)
class LoopEvent:
    """Something the loop did: ``kind`` is dispatched, finished, failed, flagged, reattached or partial (measured in
    part: the experiment left its instrument and stays pending, ``missing`` naming the quantities it awaits)."""

    kind: str
    experiment: Experiment
    instrument: str
    in_flight: int
    missing: tuple[str, ...] = ()


@dataclass
class LoopSummary:
    """What a run did: experiments finished and failed in it, measured in part (``partial``: pending, awaiting the
    rest), flagged for the operator, the campaign's total (experiments that count against the budget,
    ``uses_budget``), and the rule that stopped it ("budget", "max_cost", "max_seconds", "target", "patience",
    "exhausted" (no candidate left) or "interrupted")."""

    finished: int = 0
    failed: int = 0
    partial: int = 0
    flagged: int = 0
    total: int = 0
    stopped_by: str = ""
    cost: float = 0.0
    seconds: float = 0.0
    outcomes: list[Experiment] = field(default_factory=list)


class Orchestrator:
    """Keeps up to ``in_flight`` experiments running on ``instruments`` until a stop rule holds.

    Args:
        campaign: the campaign to run (its strategy proposes, its store records).
        instruments: where experiments run; each new one goes to the instrument with the fewest in flight.
        in_flight: experiments running at once (k >= 1).
        stop: the stop rules.
        timeout: seconds one experiment may take on its instrument; it is then cancelled and failed.
        retries / backoff: a dispatch that raises is retried ``retries`` times, waiting backoff, 2 backoff, ...
            seconds; then the experiment fails with the error.
        costs: instrument name -> cost of one experiment on it (default 1).
        on_event: called with every LoopEvent (progress displays).
        may_send: asked before each experiment is sent; False stops the run as ``request_stop`` does (e.g. the
            run lease is no longer sure to be this run's, ``RunLease.valid``).
    """

    def __init__(
        self,
        campaign: Campaign,
        instruments: Sequence[AsyncInstrument],
        *,
        in_flight: int = 1,
        stop: StopRules | None = None,
        timeout: float | None = None,
        retries: int = 3,
        backoff: float = 0.5,
        costs: Mapping[str, float] | None = None,
        on_event: Callable[[LoopEvent], None] | None = None,
        may_send: Callable[[], bool] | None = None,
    ) -> None:
        if not instruments:
            raise ValidationError("instruments", [], "at least one instrument", "add an instrument to the spec")
        names = [instrument.name for instrument in instruments]
        if len(set(names)) != len(names):
            raise ValidationError("instruments", names, "instrument names must differ", "rename the duplicates")
        if isinstance(in_flight, bool) or not isinstance(in_flight, int) or in_flight < 1:
            raise ValidationError("in_flight", in_flight, "a whole number >= 1", "e.g. in_flight: 4")
        for name, value in (("timeout", timeout), ("backoff", backoff)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise ValidationError(name, value, "a number of seconds >= 0", "e.g. 60")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValidationError("retries", retries, "a whole number >= 0", "e.g. 3")
        objective = campaign.objective
        if stop is not None and stop.target is not None and (len(objective.targets) > 1 or objective.scalarisation):
            raise ValidationError(
                "stop: target",
                stop.target,
                "a target value to stop at is for an objective with one target (several have a front, not one value)",
                "leave it out; use budget, max_cost or patience",
            )
        self.campaign = campaign
        self.instruments = {instrument.name: instrument for instrument in instruments}
        for instrument in instruments:  # instruments that read the campaign (e.g. manual) get to know it
            attach = getattr(instrument, "attach", None)
            if callable(attach):
                attach(campaign)
        self.in_flight = in_flight
        self.stop = stop or StopRules()
        self.timeout = timeout
        self.retries = retries
        self.backoff = float(backoff)
        self.costs = {name: float((costs or {}).get(name, 1.0)) for name in self.instruments}
        self.on_event = on_event
        self.may_send = may_send
        self._running: dict[str, int] = dict.fromkeys(self.instruments, 0)
        self._gate = Gate()
        self._launched: set[str] = set()  # ids this run has begun to send
        self._cancels: dict[str, tuple[asyncio.Event, str]] = {}
        self._best: float | None = None
        self._since_best = 0
        self._abandoned = False
        self._run_task: tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]] | None = None

    # ------------------------------------------------------------------------------------------------ control
    def request_stop(self) -> None:
        """Stop creating and dispatching experiments; those in flight finish and are stored (the first Ctrl-C).

        Thread-safe. Once it has returned, no experiment is stored or dispatched by this run: an ask or a dispatch
        record being written in a worker thread at that moment finishes first (it waits for that write), and one
        that has not begun its write stores nothing. An experiment asked for but not dispatched stays pending and
        is sent first by the next run.
        """
        self._gate.close()

    def abandon(self) -> None:
        """Stop at once (e.g. the campaign was deleted): nothing more is created or sent, and ``run`` stops
        waiting for the experiments in flight and raises CancelledError (they stay as they are in the store).
        Thread-safe."""
        self.request_stop()
        self._abandoned = True
        running = self._run_task
        if running is not None:
            loop, task = running
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(task.cancel)

    @property
    def _stop_requested(self) -> bool:
        return self._gate.closed

    def run_sync(self) -> LoopSummary:
        """``run`` on a new event loop."""
        return asyncio.run(self.run())

    async def run(self) -> LoopSummary:
        """Reconcile, then dispatch until a stop rule holds and every experiment in flight has ended."""
        summary = LoopSummary()
        started = time.monotonic()
        current = asyncio.current_task()
        if current is not None:
            self._run_task = (asyncio.get_running_loop(), current)
            if self._abandoned:
                current.cancel()
        self._seed_best()
        tasks: dict[asyncio.Task[Experiment | None], tuple[str, Experiment]] = {}
        ready = await self._reconcile(summary, tasks)
        used = await asyncio.to_thread(self._used)
        try:
            while True:
                reason = self._stop_reason(summary, used, started)
                while len(tasks) < self.in_flight:
                    # experiments already suggested (left by an earlier run, or asked for elsewhere) go out while
                    # the budget allows and the operator did not stop the loop; new ones are asked for only while
                    # no stop rule holds
                    if ready and not self._stop_requested and not self._budget_reached(used):
                        experiment, fresh = ready[0], False
                    elif reason or ready:
                        break
                    else:
                        asked = await asyncio.to_thread(self.campaign.ask, 1, gate=self._gate)
                        if self._stop_requested:  # stopped while asking: what was stored stays pending
                            reason = "interrupted"
                            break
                        if not asked:
                            reason = "exhausted"
                            break
                        experiment, fresh = asked[0], True
                    instrument = self._choose(summary.cost)
                    if instrument is None:  # nothing affordable: it stays pending, sent first by the next run
                        reason = reason or "max_cost"
                        break
                    if not fresh:
                        ready.pop(0)
                    summary.cost += self.costs[instrument]
                    self._running[instrument] += 1
                    self._launched.add(experiment.id)
                    used += 1
                    task = asyncio.create_task(self._execute(experiment, instrument))
                    tasks[task] = (instrument, experiment)
                    reason = self._stop_reason(summary, used, started)
                if reason and not summary.stopped_by:
                    summary.stopped_by = reason
                if not tasks:
                    break
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    instrument, experiment = tasks.pop(task)
                    self._running[instrument] -= 1
                    try:
                        stored = task.result()
                    except Exception as error:
                        note = f"the loop could not finish it ({type(error).__name__}: {error})"
                        await self._flag(summary, experiment, note + "; check it, then kiln tell or kiln fail")
                        continue
                    if stored is None:  # finished or discarded by someone else, or stopped, before it was sent
                        summary.cost -= self.costs[instrument]
                        self._launched.discard(experiment.id)
                    self._record(summary, stored)
                used = await asyncio.to_thread(self._used)  # results told elsewhere meanwhile count too
        except BaseException as error:  # cancelled (Ctrl-C, abandon), or the store failed: stop every task
            if isinstance(error, asyncio.CancelledError):
                summary.stopped_by = "interrupted"
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            self._run_task = None
            summary.total = used
            summary.seconds = time.monotonic() - started
        return summary

    def _used(self) -> int:
        """Experiments of the campaign that count against the budget (``uses_budget``), with those this run has
        begun to send."""
        counted = {e.id for e in self.campaign.experiments() if uses_budget(e)}
        return len(counted | self._launched)

    def _budget_reached(self, used: int) -> bool:
        return self.stop.budget is not None and used >= self.stop.budget

    def _choose(self, spent: float) -> str | None:
        """The least busy instrument whose cost still fits ``max_cost`` (None if none does)."""
        limit = self.stop.max_cost
        fitting = [n for n in self._running if limit is None or spent + self.costs[n] <= limit + 1e-12]
        return min(fitting, key=lambda name: self._running[name]) if fitting else None

    # ---------------------------------------------------------------------------------------------- stopping
    def _stop_reason(self, summary: LoopSummary, used: int, started: float) -> str:
        rules = self.stop
        if self._stop_requested:
            return "interrupted"
        if self._budget_reached(used):
            return "budget"
        if rules.max_cost is not None and summary.cost + min(self.costs.values()) > rules.max_cost + 1e-12:
            return "max_cost"
        if rules.max_seconds is not None and time.monotonic() - started >= rules.max_seconds:
            return "max_seconds"
        if rules.target is not None and self._best is not None and self._best >= self._target_utility():
            return "target"
        if rules.patience is not None and self._since_best >= rules.patience:
            return "patience"
        return ""

    def _target_utility(self) -> float:
        assert self.stop.target is not None
        return self.campaign.objective.utility({self.campaign.objective.target.name: self.stop.target})

    def _seed_best(self) -> None:
        self._best = self._best_utility()

    def _best_utility(self) -> float | None:
        """The utility of the campaign's best result (feasible, not retracted) with one unscalarised target, which
        the target rule compares with; None otherwise (a scalarised utility depends on the observed set, and
        several targets have a front, not one best)."""
        objective = self.campaign.objective
        if len(objective.targets) != 1 or objective.scalarisation is not None:
            return None
        best = self.campaign.best()
        return None if best is None else objective.utility(best.results)

    def _improves(self, experiment: Experiment) -> bool:
        """Whether a completed experiment is a better result (for patience): the campaign's best now, or with
        several unscalarised targets on its Pareto front. An infeasible one never is."""
        if self.campaign.objective.is_multi:
            others = [e.results for e in self.campaign.experiments() if e.counts_as_result and e.id != experiment.id]
            return self.campaign.objective.on_front(experiment.results, others)
        best = self.campaign.best()
        return best is not None and best.id == experiment.id

    def _record(self, summary: LoopSummary, experiment: Experiment | None) -> None:
        if experiment is None:
            return
        summary.outcomes.append(experiment)
        if experiment.status is ExperimentStatus.FAILED:
            summary.failed += 1
            if not experiment.reason.startswith((DISPATCH_FAILURE, CANCELLED)):  # those measured nothing
                self._since_best += 1
            return
        if experiment.status is ExperimentStatus.PENDING and experiment.results:
            summary.partial += 1  # patience waits for its last quantity: it cannot be judged yet
            return
        if experiment.status is not ExperimentStatus.COMPLETED:
            return
        summary.finished += 1
        self._since_best = 0 if self._improves(experiment) else self._since_best + 1
        self._best = self._best_utility()

    # ------------------------------------------------------------------------------------------ reconciling
    async def _reconcile(
        self, summary: LoopSummary, tasks: dict[asyncio.Task[Experiment | None], tuple[str, Experiment]]
    ) -> list[Experiment]:
        """Experiments pending at start -> those to dispatch first; reattach or flag the dispatched ones. Partly
        measured ones await the rest: never sent or polled again (but on an instrument that ``waits_for_all``)."""
        ready: list[Experiment] = []
        for experiment in await asyncio.to_thread(self.campaign.pending):
            if experiment.attention:
                continue  # waiting for the operator
            instrument = self.instruments.get(experiment.instrument)
            if experiment.results and not (experiment.handle and getattr(instrument, "waits_for_all", False)):
                continue  # measured in part: it awaits the rest (kiln tell, REST, an import)
            if not experiment.instrument:
                ready.append(experiment)
                continue
            note = ""
            replayable = getattr(instrument, "replayable", False)
            if replayable and not (experiment.handle and instrument is not None and instrument.resumable):
                ready.append(experiment)  # running it again is harmless
                continue
            if instrument is None:
                note = f"was dispatched to instrument {experiment.instrument!r}, which this run does not have"
            elif not experiment.handle:
                note = f"was being sent to {experiment.instrument!r} when the loop stopped; it may or may not run"
            elif not instrument.resumable:
                note = f"was running on {experiment.instrument!r}, which cannot be asked after a restart"
            else:
                try:
                    status = await instrument.status(experiment.handle)
                except Exception:
                    status = RunStatus.RUNNING
                if status in (RunStatus.UNKNOWN, RunStatus.CANCELLED):
                    note = f"{experiment.instrument!r} reports {status.value} for handle {experiment.handle!r}"
            if note:
                await self._flag(summary, experiment, note + "; check it, then kiln tell or kiln fail")
                continue
            assert instrument is not None
            self._running[instrument.name] += 1
            task = asyncio.create_task(self._collect(experiment, instrument, experiment.handle))
            tasks[task] = (instrument.name, experiment)
            self._emit("reattached", experiment, instrument.name)
        return ready

    async def _flag(self, summary: LoopSummary, experiment: Experiment, note: str) -> None:
        try:
            flagged = await asyncio.to_thread(self.campaign.flag, experiment.id, note[:NOTE_MAX])
        except StateError:
            return  # finished meanwhile
        except Exception:
            return
        summary.flagged += 1
        self._emit("flagged", flagged, experiment.instrument)

    # -------------------------------------------------------------------------------------------- executing
    async def _execute(self, experiment: Experiment, instrument_name: str) -> Experiment | None:
        """Record the dispatch, send, record the handle, wait for the outcome and store it."""
        instrument = self.instruments[instrument_name]
        try:
            expect = (experiment.instrument, experiment.handle)
            await asyncio.to_thread(self._dispatch, experiment.id, instrument_name, "", expect)
        except (StateError, _Stopped):
            return None  # finished by someone else (kiln tell), taken by another run, or stopped before it was sent
        handle, error = None, ""
        for attempt in range(self.retries + 1):
            try:
                handle = await instrument.submit(dict(experiment.params), key=experiment.id)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff * 2**attempt)
        if handle is None:
            return await self._store(experiment, Failure(f"{DISPATCH_FAILURE}{instrument_name!r} failed: {error}"))
        try:
            dispatched = await asyncio.to_thread(
                self._dispatch, experiment.id, instrument_name, handle, (instrument_name, "")
            )
        except StateError:  # finished meanwhile (kiln tell while it was being sent): keep that outcome
            finished = await asyncio.to_thread(self.campaign.experiment, experiment.id)
            self._emit(
                "failed" if finished.status is ExperimentStatus.FAILED else "finished", finished, instrument_name
            )
            return finished
        self._emit("dispatched", dispatched, instrument_name)
        return await self._collect(dispatched, instrument, handle)

    async def _collect(self, experiment: Experiment, instrument: AsyncInstrument, handle: str) -> Experiment | None:
        """Wait for the outcome of ``handle`` (cancelling it after ``timeout`` or on ``cancel``) and store it."""
        stop = asyncio.Event()
        self._cancels[experiment.id] = (stop, "")
        waiting = asyncio.ensure_future(asyncio.wait_for(instrument.outcome(handle), timeout=self.timeout))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not waiting.done():
                waiting.cancel()
            reason = self._cancels.pop(experiment.id, (stop, ""))[1]
        finished = waiting.done() and not waiting.cancelled()
        error = waiting.exception() if finished else None
        outcome: Outcome
        if stop.is_set() and not (finished and error is None):
            await self._cancel_quietly(instrument, handle)
            outcome = Failure(f"{CANCELLED}{reason}")
        elif not finished:
            outcome = Failure(f"{CANCELLED}by the instrument {instrument.name!r}")
        elif isinstance(error, TimeoutError):
            await self._cancel_quietly(instrument, handle)
            outcome = Failure(f"timed out after {self.timeout:g} s on {instrument.name!r}")
        elif error is not None:
            outcome = Failure(f"{instrument.name!r}: {type(error).__name__}: {error}")
        else:
            outcome = waiting.result()
        return await self._store(experiment, outcome)

    @staticmethod
    async def _cancel_quietly(instrument: AsyncInstrument, handle: str) -> None:
        """Ask the instrument to stop ``handle``; an instrument that cannot be reached is not an error here."""
        with contextlib.suppress(Exception):
            await instrument.cancel(handle)

    def cancel(self, experiment_id: str, reason: str = "by the operator") -> bool:
        """Cancel an experiment in flight: the instrument is asked to stop and the experiment fails with
        "cancelled: <reason>". False if it is not in flight (any more)."""
        if experiment_id not in self._cancels:
            return False
        stop, _ = self._cancels[experiment_id]
        self._cancels[experiment_id] = (stop, reason)
        stop.set()
        return True

    def in_flight_ids(self) -> list[str]:
        """Ids of the experiments whose outcome the loop is waiting for."""
        return list(self._cancels)

    async def _store(self, experiment: Experiment, outcome: Outcome) -> Experiment | None:
        """Tell or fail; an experiment someone finished meanwhile keeps their result. An observation with finite
        values for some quantities only is told those (the experiment stays pending, awaiting the rest); one with
        none fails. A result the store refuses (e.g. a value that is not a number) fails the experiment, saying
        why."""
        quantities = self.campaign.objective.quantities
        if isinstance(outcome, Observation):
            missing = [t for t in quantities if t not in outcome.values or not _finite(outcome.values[t])]
            if len(missing) == len(quantities) and not experiment.results:
                outcome = Failure(f"the instrument reported no value for {missing}; it gave {sorted(outcome.values)}")
        try:
            if isinstance(outcome, Failure):
                stored = await asyncio.to_thread(self._fail, experiment.id, outcome.reason)
            else:
                results: dict[str, Any] = {t: outcome.values[t] for t in quantities if t not in missing}
                extra = {k: v for k, v in outcome.values.items() if k not in results}  # NaN of a quantity too
                outputs = json_safe({**extra, **outcome.outputs})
                try:
                    stored = await asyncio.to_thread(self._tell_new, experiment.id, results, outputs or None)
                except KilnError as error:
                    if isinstance(error, StateError):
                        raise
                    stored = await asyncio.to_thread(self._fail, experiment.id, f"result not stored: {error}")
        except StateError:
            stored = await asyncio.to_thread(self.campaign.experiment, experiment.id)
        if stored.status is ExperimentStatus.PENDING:
            self._emit(
                "partial", stored, experiment.instrument, tuple(q for q in quantities if q not in stored.results)
            )
        else:
            self._emit(
                "failed" if stored.status is ExperimentStatus.FAILED else "finished", stored, experiment.instrument
            )
        return stored

    def _fail(self, experiment_id: str, reason: str) -> Experiment:
        return self.campaign.fail(experiment_id, str(reason).strip()[:NOTE_MAX] or "failed")

    def _dispatch(self, experiment_id: str, instrument: str, handle: str, expect: tuple[str, str]) -> Experiment:
        """Record a dispatch; the first record (no handle yet) only while the run is not stopping (else _Stopped)."""
        if handle:
            return self.campaign.dispatch(experiment_id, instrument, handle, expect=expect)
        if self.may_send is not None and not self.may_send():
            self.request_stop()
            raise _Stopped
        with self._gate.admit() as open_:
            if not open_:
                raise _Stopped
            return self.campaign.dispatch(experiment_id, instrument, handle, expect=expect)

    def _tell_new(self, experiment_id: str, results: dict[str, Any], outputs: dict[str, Any] | None) -> Experiment:
        """Tell the values of ``results`` the experiment has none for yet: a value someone told meanwhile (kiln tell
        while it ran) is kept, and the instrument's value for it goes to outputs (``already_told``). StateError
        when it is no longer pending."""
        told: dict[str, Any] = {}
        for _ in range(TELL_ATTEMPTS):
            new = {name: value for name, value in results.items() if name not in told}
            if told:
                outputs = {**(outputs or {}), "already_told": json_safe({n: results[n] for n in told if n in results})}
            if not new:
                return self.campaign.experiment(experiment_id)
            try:
                return self.campaign.tell(experiment_id, new, outputs=outputs)
            except StateError:
                current = self.campaign.experiment(experiment_id)
                if current.status is not ExperimentStatus.PENDING or not set(new) & set(current.results):
                    raise
                told = dict(current.results)
        raise StateError(f"experiment {experiment_id}: its values kept changing while the loop stored its result")

    def _emit(self, kind: str, experiment: Experiment, instrument: str, missing: tuple[str, ...] = ()) -> None:
        if self.on_event is not None:
            self.on_event(LoopEvent(kind, experiment, instrument, sum(self._running.values()), missing))


class _Stopped(Exception):
    """The run stopped before an experiment's dispatch was recorded: it stays pending, never sent."""


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
