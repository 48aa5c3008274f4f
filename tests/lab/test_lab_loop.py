"""run_loop (the Orchestrator for a synchronous instrument): budgets, failures, exhausted pools, and resuming
after an interrupted run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective, SearchSpace, ValidationError
from kiln.core.records import Origin
from kiln.lab import ExperimentFailed, LoopResult, run_loop

TARGET = "y"


class Recorder:
    """An instrument that answers y = -(temperature - 100)^2 (or the pool's x) and remembers every call."""

    name = "recorder"

    def __init__(self, fail_when: Any = None, crash_at: int | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_when = fail_when
        self.crash_at = crash_at

    def measure(self, params: Mapping[str, Any]) -> Mapping[str, float]:
        self.calls.append(dict(params))
        if self.crash_at is not None and len(self.calls) == self.crash_at:
            raise RuntimeError("power cut")
        if self.fail_when is not None and self.fail_when(params):
            raise ExperimentFailed(f"too hot at {params['temperature']:.1f}")
        if "temperature" in params:
            return {TARGET: -((params["temperature"] - 100.0) ** 2)}
        return {TARGET: float(params["x"])}


def _campaign(domain: Any, store_url: str, strategy: str = "random") -> Campaign:
    return Campaign.create(
        "loop", space=domain, objective=Objective.maximize(TARGET), strategy=strategy, store=store_url
    )


def test_random_strategy_reaches_the_budget(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    instrument = Recorder()
    seen: list[tuple[str, int]] = []
    result = run_loop(campaign, instrument, budget=7, on_result=lambda e, total: seen.append((e.id, total)))
    assert result == LoopResult(finished=7, total=7, exhausted=False)
    experiments = Campaign.open("loop", store=store_url).experiments()
    assert len(experiments) == 7
    assert all(e.status is ExperimentStatus.COMPLETED for e in experiments)
    assert [dict(e.params) for e in experiments] == instrument.calls
    for e in experiments:
        assert e.results == {TARGET: -((e.params["temperature"] - 100.0) ** 2)}
    assert [i for i, _ in seen] == [e.id for e in experiments]
    assert [t for _, t in seen] == [1, 2, 3, 4, 5, 6, 7]


def test_a_batch_runs_at_once_and_never_overshoots_the_budget(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    result = run_loop(campaign, Recorder(), budget=7, batch=3)
    assert result.total == 7 and result.finished == 7
    assert len(campaign.experiments()) == 7


def test_a_second_run_with_the_same_budget_does_nothing(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    run_loop(campaign, Recorder(), budget=4)
    instrument = Recorder()
    assert run_loop(campaign, instrument, budget=4) == LoopResult(finished=0, total=4, exhausted=False)
    assert instrument.calls == []
    assert run_loop(campaign, instrument, budget=6).finished == 2  # a larger budget continues
    assert len(campaign.experiments()) == 6


def test_a_failing_instrument_records_failures(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    result = run_loop(campaign, Recorder(fail_when=lambda p: p["temperature"] > 110), budget=10)
    assert result.total == 10 and result.finished == 10
    experiments = campaign.experiments()
    failed = [e for e in experiments if e.status is ExperimentStatus.FAILED]
    completed = [e for e in experiments if e.status is ExperimentStatus.COMPLETED]
    assert failed and completed and len(failed) + len(completed) == 10
    for e in failed:
        assert e.params["temperature"] > 110
        assert e.reason == f"too hot at {e.params['temperature']:.1f}"
        assert e.results == {}
    assert all(e.params["temperature"] <= 110 for e in completed)


def test_an_instrument_failing_without_a_message_still_gets_a_reason(pool: CandidatePool, store_url: str) -> None:
    class Silent:
        name = "silent"

        def measure(self, params: Mapping[str, Any]) -> Mapping[str, float]:
            raise ExperimentFailed()

    campaign = _campaign(pool, store_url)
    run_loop(campaign, Silent(), budget=2)
    assert [(e.status, e.reason) for e in campaign.experiments()] == [(ExperimentStatus.FAILED, "failed")] * 2


def test_resume_measures_pending_experiments_first(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    left = campaign.ask(3)  # an earlier run asked, then stopped before measuring
    instrument = Recorder()
    result = run_loop(Campaign.open("loop", store=store_url), instrument, budget=5)
    assert result == LoopResult(finished=5, total=5, exhausted=False)
    assert instrument.calls[:3] == [dict(e.params) for e in left]
    experiments = campaign.experiments()
    assert [e.id for e in experiments[:3]] == [e.id for e in left]
    assert len(experiments) == 5
    assert all(e.status is ExperimentStatus.COMPLETED for e in experiments)


def test_resume_with_more_pending_than_budget_runs_the_oldest_within_it(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    left = campaign.ask(4)
    instrument = Recorder()
    result = run_loop(campaign, instrument, budget=2)
    assert result.total == 2 and result.finished == 2
    assert instrument.calls == [dict(e.params) for e in left[:2]]
    assert [e.id for e in campaign.experiments()] == [e.id for e in left]
    assert [e.id for e in campaign.pending()] == [e.id for e in left[2:]]


def test_an_experiment_in_flight_at_a_crash_is_measured_again(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    run_loop(campaign, Recorder(), budget=2)
    (left,) = campaign.ask(1)
    campaign.dispatch(left.id, "recorder")  # sent, then the process died before the result was stored
    instrument = Recorder()
    result = run_loop(campaign, instrument, budget=4)
    assert result == LoopResult(finished=2, total=4, exhausted=False)
    assert instrument.calls[0] == dict(left.params)  # measure may be called again, as the protocol allows
    after = campaign.experiments()
    assert after[2].id == left.id and not after[2].attention
    assert len(after) == 4 and all(e.status is ExperimentStatus.COMPLETED for e in after)


def test_an_instrument_error_fails_the_experiment_and_the_loop_goes_on(space: SearchSpace, store_url: str) -> None:
    campaign = _campaign(space, store_url)
    result = run_loop(campaign, Recorder(crash_at=2), budget=4)
    assert result.finished == 4
    assert [e.status for e in campaign.experiments()].count(ExperimentStatus.FAILED) == 1
    assert "RuntimeError: power cut" in campaign.experiments()[1].reason


def test_imported_data_counts_against_the_budget(pool: CandidatePool, store_url: str) -> None:
    campaign = _campaign(pool, store_url)
    campaign.add_data([{"x": 1, "solvent": "water", TARGET: 1.0}])
    result = run_loop(campaign, Recorder(), budget=3)
    assert result == LoopResult(finished=2, total=3, exhausted=False)
    origins = [e.origin for e in campaign.experiments()]
    assert origins == [Origin.IMPORTED, Origin.SUGGESTED, Origin.SUGGESTED]


@pytest.mark.parametrize("strategy", ["random", "sobol"])
def test_an_exhausted_pool_stops_the_loop(pool: CandidatePool, store_url: str, strategy: str) -> None:
    campaign = _campaign(pool, store_url, strategy)
    result = run_loop(campaign, Recorder(), budget=10, batch=4)
    assert result == LoopResult(finished=6, total=6, exhausted=True)
    experiments = campaign.experiments()
    assert sorted(e.candidate for e in experiments) == list(range(6))
    assert all(e.results == {TARGET: pool.row(e.candidate)["x"]} for e in experiments)


@pytest.mark.parametrize(
    ("budget", "batch", "field"), [(-1, 1, "budget"), (2.5, 1, "budget"), (True, 1, "budget"), (3, 0, "batch")]
)
def test_bad_budget_or_batch_is_rejected(
    space: SearchSpace, store_url: str, budget: Any, batch: Any, field: str
) -> None:
    campaign = _campaign(space, store_url)
    with pytest.raises(ValidationError) as error:
        run_loop(campaign, Recorder(), budget=budget, batch=batch)
    assert error.value.field == field
    assert campaign.experiments() == []
