"""The closed loop for a synchronous instrument: ``run_loop`` runs the Orchestrator with one experiment at a time.

It is a convenience over ``kiln.lab.orchestrator.Orchestrator`` (the one run loop; ``kiln run`` uses it too) for
an ``Instrument`` with a blocking ``measure``: every step is stored before the next begins, so the loop can be
stopped at any moment (Ctrl-C, kill -9) and run again; experiments that were suggested but never got a result are
run first (``measure`` may be called again for one that was in flight, as the Instrument contract allows), then
new ones are asked for. A ``measure`` that returns some of the quantities leaves its experiment pending with those
values, awaiting the rest (``Campaign.tell``); it is not measured again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kiln.campaign import Campaign
from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.instrument import Instrument
from kiln.lab.orchestrator import LoopEvent, Orchestrator
from kiln.lab.stopping import StopRules

ProgressCallback = Callable[[Experiment, int], None]
"""Called after each finished experiment with the stored record and the number of the campaign's experiments
that have ended (completed or failed) so far."""


@dataclass(frozen=True)
class LoopResult:
    """What a run of the loop did: experiments finished in this run, the campaign's experiments that count against
    the budget (``kiln.lab.stopping.uses_budget``), whether the candidate pool ran dry, and the experiments measured
    in part in this run (``measure`` returned some of the quantities: they stay pending, awaiting the rest)."""

    finished: int
    total: int
    exhausted: bool
    partial: int = 0


def run_loop(
    campaign: Campaign,
    instrument: Instrument,
    *,
    budget: int,
    batch: int = 1,
    on_result: ProgressCallback | None = None,
) -> LoopResult:
    """Run experiments on ``instrument`` until the budget is used (see ``StopRules.budget``).

    ``batch`` experiments run at once (``measure`` is then called from several threads). Pending experiments left
    by an interrupted run are measured first, so none is lost or suggested twice.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValidationError("budget", budget, "a whole number >= 0 is required", "e.g. --budget 40")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValidationError("batch", batch, "a whole number >= 1 is required", "e.g. batch: 1")
    ended = sum(1 for e in campaign.experiments() if e.status is not ExperimentStatus.PENDING)

    def progress(event: LoopEvent) -> None:
        nonlocal ended
        if event.kind in ("finished", "failed") and on_result is not None:
            ended += 1
            on_result(event.experiment, ended)

    adapter = CallableInstrument(instrument.measure, name=instrument.name, replayable=True)
    orchestrator = Orchestrator(
        campaign, [adapter], in_flight=batch, stop=StopRules(budget=budget), retries=0, on_event=progress
    )
    summary = orchestrator.run_sync()
    return LoopResult(
        finished=summary.finished + summary.failed,
        total=summary.total,
        exhausted=summary.stopped_by == "exhausted",
        partial=summary.partial,
    )
