"""Partial results from instruments: an observation with some of the quantities is stored, the experiment awaits
the rest (never sent, polled or failed again, after a restart neither), and the loop goes on."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.core.errors import SpecError
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.adapters.manual import ManualInstrument
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.instrument_config import instrument_from_spec
from kiln.lab.orchestrator import LoopEvent, Orchestrator
from kiln.lab.protocol import Observation, Outcome, RunStatus
from kiln.lab.stopping import StopRules, uses_budget
from kiln.lab.workflow import Step, WorkflowInstrument
from kiln.objective import OutcomeConstraint, Target

OBJECTIVE = Objective((Target("yield"),), (OutcomeConstraint("stability", ">=", 0.5),))


@pytest.fixture
def campaign(store_url: str) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(20)])
    return Campaign.create("c", space=pool, objective=OBJECTIVE, strategy="random", store=store_url)


def yield_only(params: Mapping[str, Any]) -> dict[str, float]:
    return {"yield": float(params["x"])}


class Recording:
    """A resumable instrument that reports the yield only and records what it was sent and asked about."""

    resumable = True

    def __init__(self, name: str = "rig") -> None:
        self.name = name
        self.sent: list[str] = []
        self.asked: list[str] = []
        self.params: dict[str, Mapping[str, Any]] = {}

    async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
        self.sent.append(key)
        self.params[key] = dict(params)
        return f"h-{key}"

    async def status(self, handle: str) -> RunStatus:
        self.asked.append(handle)
        return RunStatus.DONE

    async def outcome(self, handle: str) -> Outcome:
        self.asked.append(handle)
        key = handle.removeprefix("h-")
        params = self.params.get(key, {"x": -1.0})
        return Observation({"yield": float(params["x"]), "colour": 2.0})

    async def cancel(self, handle: str) -> None:
        return None


def test_an_instrument_reporting_part_leaves_the_experiment_pending_and_the_loop_goes_on(campaign: Campaign) -> None:
    events: list[LoopEvent] = []
    instrument = Recording()
    summary = Orchestrator(campaign, [instrument], stop=StopRules(budget=3), on_event=events.append).run_sync()
    assert summary.stopped_by == "budget" and summary.partial == 3 and summary.finished == 0 and summary.total == 3
    stored = campaign.experiments()
    assert len(stored) == 3 and len({e.params["x"] for e in stored}) == 3  # one after the other, none proposed twice
    for experiment in stored:
        assert experiment.status is ExperimentStatus.PENDING and not experiment.attention
        assert experiment.results == {"yield": experiment.params["x"]}
        assert experiment.outputs == {"colour": 2.0}
        assert experiment.instrument == "rig" and experiment.handle == f"h-{experiment.id}"
        assert uses_budget(experiment)
    partial = [event for event in events if event.kind == "partial"]
    assert [e.experiment.id for e in partial] == [e.id for e in stored]
    assert all(event.missing == ("stability",) for event in partial)
    assert not [event for event in events if event.kind in ("finished", "failed", "flagged")]

    # a later tell completes it
    done = campaign.tell(stored[0].id, {"stability": 0.9})
    assert done.status is ExperimentStatus.COMPLETED and done.results == {
        "yield": stored[0].params["x"],
        "stability": 0.9,
    }

    # a resumed run neither polls nor sends the partly measured ones, and goes on with new experiments
    again = Recording()
    events.clear()
    summary = Orchestrator(campaign, [again], stop=StopRules(budget=5), on_event=events.append).run_sync()
    assert summary.partial == 2 and summary.flagged == 0 and summary.total == 5
    assert again.asked == [f"h-{key}" for key in again.sent]  # only the new ones' outcomes were asked for
    assert not set(again.sent) & {e.id for e in stored}
    assert not [event for event in events if event.kind in ("reattached", "flagged")]
    for before in stored[1:]:
        assert campaign.experiment(before.id) == before


def test_a_replayable_instrument_does_not_replay_a_partly_measured_experiment(campaign: Campaign) -> None:
    calls: list[float] = []

    def measure(params: Mapping[str, Any]) -> dict[str, float]:
        calls.append(float(params["x"]))
        return yield_only(params)

    Orchestrator(campaign, [CallableInstrument(measure, name="rig")], stop=StopRules(budget=2)).run_sync()
    first = list(calls)
    Orchestrator(campaign, [CallableInstrument(measure, name="rig")], stop=StopRules(budget=4)).run_sync()
    assert len(calls) == 4 and not set(calls[2:]) & set(first)
    assert all(e.status is ExperimentStatus.PENDING and e.results for e in campaign.experiments())


def test_a_suggestion_measured_in_part_by_a_person_is_not_sent_and_counts_against_the_budget(
    campaign: Campaign,
) -> None:
    (asked,) = campaign.ask(1)
    campaign.tell(asked.id, {"yield": 3.0})
    instrument = Recording()
    summary = Orchestrator(campaign, [instrument], stop=StopRules(budget=2)).run_sync()
    assert asked.id not in instrument.sent and len(instrument.sent) == 1
    assert summary.total == 2
    assert campaign.experiment(asked.id).results == {"yield": 3.0}


def test_an_observation_with_no_value_for_any_quantity_still_fails(campaign: Campaign) -> None:
    rig = CallableInstrument(lambda params: Observation({"colour": 1.0, "yield": math.nan}), name="rig")
    summary = Orchestrator(campaign, [rig], stop=StopRules(budget=1)).run_sync()
    (failed,) = campaign.experiments()
    assert summary.failed == 1 and summary.partial == 0
    assert failed.status is ExperimentStatus.FAILED
    assert failed.reason == "the instrument reported no value for ['yield', 'stability']; it gave ['colour', 'yield']"


def test_a_value_that_is_not_a_finite_number_counts_as_not_measured_and_is_kept(campaign: Campaign) -> None:
    rig = CallableInstrument(lambda params: Observation({"yield": math.inf, "stability": 0.8}), name="rig")
    Orchestrator(campaign, [rig], stop=StopRules(budget=1)).run_sync()
    (experiment,) = campaign.experiments()
    assert experiment.status is ExperimentStatus.PENDING and experiment.results == {"stability": 0.8}
    assert experiment.outputs == {"yield": None}  # what it gave, as JSON
    done = campaign.tell(experiment.id, {"yield": 4.0})
    assert done.status is ExperimentStatus.COMPLETED


def test_a_value_told_while_the_experiment_ran_is_kept_and_the_rest_completes_it(
    campaign: Campaign, store_url: str
) -> None:
    person = Campaign.open("c", store=store_url)

    async def measure(params: Mapping[str, Any]) -> Outcome:
        (running,) = [e for e in person.pending() if e.params == dict(params)]
        person.tell(running.id, {"yield": 5.0})  # a person records the yield while the instrument measures
        return Observation({"yield": 7.0, "stability": 0.9})

    summary = Orchestrator(campaign, [CallableInstrument(measure, name="rig")], stop=StopRules(budget=1)).run_sync()
    (experiment,) = campaign.experiments()
    assert summary.finished == 1
    assert experiment.status is ExperimentStatus.COMPLETED
    assert experiment.results == {"yield": 5.0, "stability": 0.9}
    assert experiment.outputs == {"already_told": {"yield": 7.0}}


def test_a_manual_experiment_told_in_part_is_waited_for_after_a_restart(campaign: Campaign, store_url: str) -> None:
    (asked,) = campaign.ask(1)
    campaign.dispatch(asked.id, "hands")
    campaign.dispatch(asked.id, "hands", asked.id, expect=("hands", ""))
    campaign.tell(asked.id, {"yield": 2.0})
    person = Campaign.open("c", store=store_url)
    reattached = threading.Event()

    def on_event(event: LoopEvent) -> None:
        if event.kind == "reattached":
            reattached.set()
            person.tell(event.experiment.id, {"stability": 1.0})  # the rest, once the run waits for it again

    summary = Orchestrator(
        campaign, [ManualInstrument("hands", poll_interval=0.01)], stop=StopRules(budget=1), on_event=on_event
    ).run_sync()
    assert reattached.is_set() and summary.finished == 1 and summary.total == 1
    assert campaign.experiment(asked.id).results == {"yield": 2.0, "stability": 1.0}


def test_a_workflows_steps_together_follow_the_same_rule(campaign: Campaign) -> None:
    synthesise = CallableInstrument(
        lambda params: Observation({"yield": float(params["x"]), "stability": math.nan}), name="a"
    )
    measure = CallableInstrument(lambda params: Observation({"yield": math.nan, "colour": 1.0}), name="b")
    workflow = WorkflowInstrument(
        [Step("synthesise", "a"), Step("measure", "b")], {"a": synthesise, "b": measure}, target="yield"
    )
    summary = Orchestrator(campaign, [workflow], stop=StopRules(budget=2)).run_sync()
    assert summary.partial == 2
    for experiment in campaign.experiments():  # the second step's NaN does not hide the first step's yield
        assert experiment.status is ExperimentStatus.PENDING
        assert experiment.results == {"yield": experiment.params["x"]}
        assert experiment.outputs["stability"] is None and experiment.outputs["colour"] == 1.0


def test_an_emulator_may_report_some_of_its_columns() -> None:
    emulator = DatasetEmulator.builtin("suzuki-ii", report=["turnover"])
    row = emulator.table.iloc[0][list(emulator.pool.columns)].to_dict()
    assert set(emulator.measure(row)) == {"turnover"}
    assert set(DatasetEmulator.builtin("suzuki-ii").measure(row)) == {"yield", "turnover"}
    emulator.check_compatible(list(emulator.pool.columns), ["yield", "turnover"])
    with pytest.raises(SpecError, match="none of the objective's quantities"):
        emulator.check_compatible(list(emulator.pool.columns), ["yield"])


def test_the_instrument_config_checks_report() -> None:
    _, _, emulator = instrument_from_spec({"kind": "emulator", "dataset": "suzuki-ii", "report": ["yield"]})
    assert emulator is not None and emulator.report == ["yield"]
    with pytest.raises(SpecError) as unknown:
        instrument_from_spec({"kind": "emulator", "dataset": "suzuki-ii", "report": ["yeild"]})
    assert unknown.value.field == "instrument.report"
    assert "the suzuki-ii dataset measures ['yield', 'turnover']; unknown ['yeild']" in str(unknown.value)
    for bad in ("yield", [], ["yield", "yield"]):
        with pytest.raises(SpecError) as error:
            instrument_from_spec({"kind": "simulated", "dataset": "suzuki-ii", "report": bad})
        assert error.value.field == "instrument.report"
    with pytest.raises(SpecError) as function:
        instrument_from_spec({"kind": "simulated", "function": "math:sqrt", "report": ["yield"]})
    assert function.value.field == "instrument.report"
