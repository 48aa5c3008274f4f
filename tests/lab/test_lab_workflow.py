"""Workflows: steps on several instruments, each step's outputs recorded, a reward from several quantities."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.core.errors import SpecError
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.instrument import ExperimentFailed
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.spec import spec_from_dict
from kiln.lab.stopping import StopRules
from kiln.lab.workflow import Step, WorkflowInstrument


def synthesise(params: Mapping[str, Any]) -> dict[str, float]:
    if params["x"] == 3:
        raise ExperimentFailed("precursor crashed out")
    return {"mass": 10.0 + params["x"]}


def anneal(params: Mapping[str, Any]) -> dict[str, float]:
    return {"crystallinity": params["mass"] / 100.0}  # uses the previous step's output


def measure(params: Mapping[str, Any]) -> dict[str, float]:
    return {"conductivity": 2.0 * params["x"], "transparency": 0.5}


def merit(values: Mapping[str, float]) -> float:
    """The reward named in the spec: a figure of merit from three measured quantities."""
    return values["conductivity"] * values["crystallinity"] * values["transparency"]


def _instruments() -> dict[str, CallableInstrument]:
    return {
        name: CallableInstrument(f, name=name)
        for name, f in (("robot", synthesise), ("furnace", anneal), ("bench", measure))
    }


def test_steps_run_in_order_and_are_recorded(store_url: str) -> None:
    pool = CandidatePool(["x"], [[float(i)] for i in range(8)])
    campaign = Campaign.create(
        "wf", space=pool, objective=Objective.maximize("merit"), strategy="random", store=store_url
    )
    steps = [Step("synthesise", "robot", 2.0), Step("anneal", "furnace", 1.0, 600.0), Step("measure", "bench", 0.5)]
    workflow = WorkflowInstrument(steps, _instruments(), target="merit", reward=merit)
    assert workflow.cost == 3.5
    summary = Orchestrator(
        campaign, [workflow], in_flight=3, stop=StopRules(budget=8), costs={"workflow": 3.5}
    ).run_sync()
    assert summary.finished == 7 and summary.failed == 1 and summary.cost == 8 * 3.5
    for experiment in campaign.experiments():
        x = experiment.params["x"]
        if x == 3:
            assert experiment.status is ExperimentStatus.FAILED
            assert experiment.reason == "step 'synthesise' on 'robot': precursor crashed out"
            continue
        assert experiment.results == {"merit": pytest.approx(2 * x * (10 + x) / 100 * 0.5)}
        record = experiment.outputs["steps"]
        assert [s["step"] for s in record] == ["synthesise", "anneal", "measure"]
        assert record[1]["values"] == {"crystallinity": pytest.approx((10 + x) / 100)}
        assert experiment.outputs["conductivity"] == 2 * x  # every measured quantity is kept


def test_a_workflow_from_a_spec(tmp_path: Path) -> None:
    spec = spec_from_dict(
        {
            "name": "wf",
            "pool": {"dataset": "p3ht"},
            "objective": {"target": "merit", "direction": "max"},
            "instruments": [
                {"kind": "callable", "name": "robot", "function": "test_lab_workflow:synthesise"},
                {"kind": "callable", "name": "furnace", "function": "test_lab_workflow:anneal"},
            ],
            "workflow": {
                "steps": [
                    {"name": "make", "instrument": "robot", "cost": 2},
                    {"name": "bake", "instrument": "furnace"},
                ],
                "reward": "test_lab_workflow:merit",
            },
        }
    )
    ((workflow, cost, _),) = spec.build_instruments()
    assert isinstance(workflow, WorkflowInstrument) and cost == 3.0
    assert [s.name for s in workflow.steps] == ["make", "bake"] and workflow.reward is merit


@pytest.mark.parametrize(
    ("workflow", "field"),
    [
        ({"steps": []}, "workflow"),
        ({"steps": [{"name": "a", "instrument": "nowhere"}]}, "workflow: steps"),
        ({"steps": [{"name": "a", "instrument": "robot", "cost": -1}]}, "workflow.steps[0].cost"),
        ({"steps": [{"name": "a", "instrument": "robot"}, {"name": "a", "instrument": "robot"}]}, "workflow.steps"),
        ({"steps": [{"name": "a", "instrument": "robot"}], "reward": "no_module_here:f"}, "workflow.reward"),
        ({"steps": [{"name": "a", "instrument": "robot"}], "extra": 1}, "workflow"),
    ],
)
def test_bad_workflows_are_named(workflow: dict[str, Any], field: str) -> None:
    spec = spec_from_dict(
        {
            "name": "wf",
            "pool": {"dataset": "p3ht"},
            "objective": {"target": "merit"},
            "instruments": [{"kind": "callable", "name": "robot", "function": "test_lab_workflow:synthesise"}],
            "workflow": workflow,
        }
    )
    with pytest.raises(SpecError) as error:
        spec.build_instruments()
    assert error.value.field == field


def test_steps_get_their_own_key_and_manual_steps_are_refused() -> None:
    import asyncio

    seen: list[str] = []

    class Keyed(CallableInstrument):
        async def submit(self, params: Mapping[str, Any], key: str = "") -> str:
            seen.append(key)
            return await super().submit(params, key)

    workflow = WorkflowInstrument(
        [Step("make", "robot"), Step("look", "bench")],
        {"robot": Keyed(synthesise, name="robot"), "bench": Keyed(measure, name="bench")},
        target="conductivity",
    )

    async def go() -> Any:
        handle = await workflow.submit({"x": 1.0}, key="exp-7")
        return await workflow.outcome(handle)

    assert asyncio.run(go()).values["conductivity"] == 2.0
    assert seen == ["exp-7/make", "exp-7/look"]
    spec = spec_from_dict(
        {
            "name": "wf",
            "pool": {"dataset": "p3ht"},
            "objective": {"target": "merit"},
            "instruments": [{"kind": "manual", "name": "hands"}],
            "workflow": {"steps": [{"name": "a", "instrument": "hands"}]},
        }
    )
    with pytest.raises(SpecError, match="automated instruments"):
        spec.build_instruments()
