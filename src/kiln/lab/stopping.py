"""When a closed loop stops asking for experiments: budgets of experiments, cost and time, a target, patience."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus


def _check(name: str, value: float | int | None, *, whole: bool = False, low: float = 0.0) -> None:
    if value is None:
        return
    bad = isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < low
    if whole and not isinstance(value, int):
        bad = True
    if bad:
        allowed = f"a whole number >= {low:g}" if whole else f"a finite number >= {low:g}"
        raise ValidationError(f"stop: {name}", value, allowed, "or leave it out")


@dataclass(frozen=True)
class StopRules:
    """The loop stops dispatching when any rule holds; experiments in flight then finish.

    Attributes:
        budget: experiments of the campaign that have been run or sent to run (``uses_budget``), whoever made
            them: this run, earlier runs, ``kiln ask`` or the REST API followed by a result, imported data; a
            partly measured one counts (it was started).
            Suggestions still waiting to be sent do not count until the loop sends one.
        max_cost: total cost of the experiments dispatched in this run (instrument costs, any unit).
        max_seconds: wall time of this run.
        target: stop once a result at least this good (direction-aware) has been measured.
        patience: stop after this many finished experiments in a row without a better result.
    """

    budget: int | None = None
    max_cost: float | None = None
    max_seconds: float | None = None
    target: float | None = None
    patience: int | None = None

    def __post_init__(self) -> None:
        _check("budget", self.budget, whole=True)
        _check("max_cost", self.max_cost)
        _check("max_seconds", self.max_seconds)
        _check("patience", self.patience, whole=True, low=1)
        if self.target is not None and (
            isinstance(self.target, bool) or not isinstance(self.target, int | float) or not math.isfinite(self.target)
        ):
            raise ValidationError("stop: target", self.target, "a finite number", "or leave it out")


def uses_budget(experiment: Experiment) -> bool:
    """Whether an experiment counts against a loop's budget: it finished (completed or failed, also when amended or
    retracted later; imported data too), or it is pending and was sent to an instrument (in flight, or waiting for
    the operator) or measured in part (it has some of its results). A suggestion never sent nor measured, or
    discarded, does not count."""
    if experiment.status in (ExperimentStatus.COMPLETED, ExperimentStatus.FAILED):
        return True
    return experiment.status is ExperimentStatus.PENDING and bool(experiment.instrument or experiment.results)
