"""The closed loop: ask the campaign, run each experiment on the instrument, tell or fail, until the budget.

Every step is stored before the next begins, so the loop can be stopped at any moment (Ctrl-C, kill -9) and run
again: experiments that were suggested but never got a result are run first, then new ones are asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiln.campaign import Campaign
from kiln.core.errors import StateError, ValidationError
from kiln.core.records import Experiment
from kiln.lab.instrument import ExperimentFailed, Instrument

ProgressCallback = Callable[[Experiment, int], None]
"""Called after each finished experiment with the stored record and the number of experiments run so far."""


@dataclass(frozen=True)
class LoopResult:
    """What a run of the loop did: experiments finished in this run, experiments in the campaign, and whether
    the candidate pool ran dry."""

    finished: int
    total: int
    exhausted: bool


def experiment_count(campaign: Campaign) -> int:
    """Experiments of the campaign so far, of every status and origin (imported prior data counts)."""
    return len(campaign.experiments())


def run_loop(
    campaign: Campaign,
    instrument: Instrument,
    *,
    budget: int,
    batch: int = 1,
    on_result: ProgressCallback | None = None,
) -> LoopResult:
    """Run experiments until the campaign holds ``budget`` experiments (earlier runs and imported data count).

    Pending experiments left by an interrupted run are measured first, so none is lost or suggested twice.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
        raise ValidationError("budget", budget, "a whole number >= 0 is required", "e.g. --budget 40")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValidationError("batch", batch, "a whole number >= 1 is required", "e.g. batch: 1")
    finished = 0
    total = experiment_count(campaign)
    exhausted = False
    queue = campaign.pending()
    while True:
        for experiment in queue:
            stored = _run_one(campaign, instrument, experiment)
            finished += 1
            if on_result is not None:
                on_result(stored, total)
        if total >= budget:
            break
        queue = campaign.ask(min(batch, budget - total))
        if not queue:
            exhausted = True
            break
        total += len(queue)
    return LoopResult(finished=finished, total=total, exhausted=exhausted)


def _run_one(campaign: Campaign, instrument: Instrument, experiment: Experiment) -> Experiment:
    """Measure one experiment and store the outcome; if someone finished it meanwhile (kiln tell), keep theirs."""
    try:
        results = instrument.measure(experiment.params)
    except ExperimentFailed as failure:
        outcome: tuple[str, Any] = ("fail", str(failure) or "failed")
    else:
        outcome = ("tell", dict(results))
    try:
        if outcome[0] == "fail":
            return campaign.fail(experiment.id, outcome[1])
        return campaign.tell(experiment.id, outcome[1])
    except StateError:
        return campaign.store.get_experiment(campaign.name, experiment.id)
