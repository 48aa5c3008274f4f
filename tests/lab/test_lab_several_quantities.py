"""Emulators, simulated instruments and specs with several measured quantities: targets and constrained ones."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kiln import CandidatePool, SpecError, ValidationError
from kiln.lab import DatasetEmulator, load_spec, spec_from_dict
from kiln.lab.adapters.simulated import SimulatedInstrument
from kiln.lab.protocol import Observation

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TWO = {
    "targets": [{"name": "yield", "direction": "max"}, {"name": "turnover", "direction": "max"}],
}


def _small_csv(tmp_path: Path) -> pd.DataFrame:
    path = tmp_path / "plates.csv"
    path.write_text("x,solvent,yield,cost\n1,water,10,2\n1,water,20,2\n2,water,30,5\n3,ethanol,5,1\n")
    return pd.read_csv(path)


def test_an_emulator_reports_every_measured_column(tmp_path: Path) -> None:
    emulator = DatasetEmulator(_small_csv(tmp_path), ["x", "solvent"], ["yield", "cost"])
    assert emulator.target == "yield" and emulator.columns == ["yield", "cost"]
    assert emulator.measure({"x": 1, "solvent": "water"}) == {"yield": 15.0, "cost": 2.0}  # replicates merged
    assert emulator.measure({"x": 2, "solvent": "water"}) == {"yield": 30.0, "cost": 5.0}
    assert emulator.top_keys(0.3) == {1}  # ranked by the first column
    emulator.check_compatible(["solvent", "x"], ["cost", "yield"])  # any of the measured columns
    with pytest.raises(SpecError, match=r"cannot report \['purity'\]") as error:
        emulator.check_compatible(["solvent", "x"], ["yield", "purity"])
    assert "['yield', 'cost']" in str(error.value)


def test_an_emulators_noise_is_per_column(tmp_path: Path) -> None:
    frame = _small_csv(tmp_path)
    emulator = DatasetEmulator(frame, ["x", "solvent"], ["yield", "cost"], noise={"yield": 3.0}, seed=1)
    values = [emulator.measure({"x": 2, "solvent": "water"}) for _ in range(5)]
    assert all(v["cost"] == 5.0 for v in values)
    assert len({v["yield"] for v in values}) == 5
    for bad in ({"purity": 1.0}, {"yield": -1.0}, {"yield": "a"}, float("nan")):
        with pytest.raises(ValidationError, match=r"^instrument: noise"):
            DatasetEmulator(frame, ["x", "solvent"], ["yield", "cost"], noise=bad)  # type: ignore[arg-type]


def test_the_builtin_two_column_pool_reports_both() -> None:
    emulator = DatasetEmulator.builtin("suzuki-ii")
    values = emulator.measure(emulator.pool.row(0))
    assert set(values) == {"yield", "turnover"}
    single = DatasetEmulator.builtin("p3ht")
    assert list(single.measure(single.pool.row(0))) == [single.target]


def test_a_simulated_instrument_reports_several_values_with_noise_per_name() -> None:
    def source(params: Mapping[str, Any]) -> dict[str, float]:
        return {"yield": 50.0, "cost": 3.0, "stability": 0.9}

    instrument = SimulatedInstrument(source, noise={"yield": 2.0}, seed=3)
    outcomes = [asyncio.run(instrument.run({"x": 1.0})) for _ in range(4)]
    assert all(isinstance(o, Observation) for o in outcomes)
    values = [o.values for o in outcomes if isinstance(o, Observation)]
    assert all(set(v) == {"yield", "cost", "stability"} for v in values)
    assert all(v["cost"] == 3.0 and v["stability"] == 0.9 for v in values)
    assert len({v["yield"] for v in values}) == 4
    with pytest.raises(ValidationError, match=r"^instrument: noise: yield"):
        SimulatedInstrument(source, noise={"yield": -1.0})


def test_the_two_target_example_runs_on_an_emulator_of_both_columns() -> None:
    spec = load_spec(EXAMPLES / "suzuki-ii-two-targets.yaml")
    objective = spec.config.objective
    assert objective.is_multi and objective.names == ["yield", "turnover"]
    assert objective.reference == {"yield": 0.0, "turnover": 0.0}
    ((_, _, emulator),) = spec.build_instruments()
    assert emulator is not None
    emulator.check_compatible(spec.config.domain.names, objective.quantities)
    assert isinstance(spec.config.domain, CandidatePool) and emulator.pool.rows == spec.config.domain.rows


def test_spec_noise_per_column_and_its_errors() -> None:
    base = {"name": "s", "pool": {"dataset": "suzuki-ii"}, "objective": TWO}
    spec = spec_from_dict({**base, "instrument": {"kind": "emulator", "dataset": "suzuki-ii", "noise": {"yield": 1}}})
    ((_, _, emulator),) = spec.build_instruments()
    assert emulator is not None and emulator.noise == {"yield": 1.0}
    bad = spec_from_dict({**base, "instrument": {"kind": "emulator", "dataset": "suzuki-ii", "noise": {"yeld": 1}}})
    with pytest.raises(SpecError) as error:
        bad.build_instruments()
    assert error.value.field == "instrument.noise" and "['yield', 'turnover']" in str(error.value)


def test_a_stop_target_needs_one_target() -> None:
    base = {"name": "s", "pool": {"dataset": "suzuki-ii"}, "stop": {"target": 40}}
    with pytest.raises(SpecError, match=r"^stop\.target: got 40") as error:
        spec_from_dict({**base, "objective": TWO})
    assert "patience" in str(error.value)
    scalarised = {**TWO, "scalarisation": "desirability"}
    with pytest.raises(SpecError, match=r"^stop\.target"):
        spec_from_dict({**base, "objective": scalarised})
    assert spec_from_dict({**base, "objective": {"target": "yield"}}).stop.target == 40


def test_the_orchestrator_refuses_a_stop_target_with_several_targets(tmp_path: Path) -> None:
    """Through the Python API too: a stop target would never be reached (several targets have no one best), so it
    is refused before anything runs, and nothing is stored."""
    from kiln import Campaign, Objective, Target
    from kiln.lab.adapters.callable import CallableInstrument
    from kiln.lab.orchestrator import Orchestrator
    from kiln.lab.stopping import StopRules

    pool = CandidatePool.from_dataframe(pd.DataFrame({"x": [float(i) for i in range(5)]}))
    instrument = CallableInstrument(lambda p: {"yield": p["x"], "turnover": -p["x"]}, name="f")
    for objective in (
        Objective((Target("yield"), Target("turnover"))),
        Objective((Target("yield"), Target("turnover")), scalarisation="desirability"),
    ):
        campaign = Campaign.create(
            f"c{len(objective.targets)}{objective.scalarisation}",
            space=pool,
            objective=objective,
            strategy="random",
            store=f"sqlite:///{tmp_path / 'k.db'}",
        )
        with pytest.raises(ValidationError, match=r"^stop: target: got 40; .* one target"):
            Orchestrator(campaign, [instrument], stop=StopRules(budget=3, target=40))
        assert campaign.experiments() == []
    one = Campaign.create(
        "one", space=pool, objective=Objective((Target("yield"),)), store=f"sqlite:///{tmp_path / 'k.db'}"
    )
    assert Orchestrator(one, [instrument], stop=StopRules(target=40)).stop.target == 40


def test_a_workflow_reward_needs_one_target() -> None:
    document = {
        "name": "s",
        "pool": {"dataset": "suzuki-ii"},
        "objective": TWO,
        "workflow": {"steps": [{"name": "m", "instrument": "emulator"}], "reward": "math:fsum"},
    }
    with pytest.raises(SpecError, match=r"^workflow.reward: got 'math:fsum'; a reward gives one target"):
        spec_from_dict(document)


def test_a_csv_pools_inputs_leave_out_every_quantity(tmp_path: Path) -> None:
    _small_csv(tmp_path)
    (tmp_path / "spec.yaml").write_text(
        "name: plates\npool: {csv: plates.csv}\nobjective: {targets: [{name: yield}], constraints: ['cost <= 3']}\n"
    )
    pool = load_spec(tmp_path / "spec.yaml").config.domain
    assert isinstance(pool, CandidatePool) and pool.columns == ["x", "solvent"]


def test_every_objective_form_reads_from_yaml_and_resumes_unchanged(tmp_path: Path) -> None:
    from kiln import Campaign

    (tmp_path / "spec.yaml").write_text(
        """
name: films
space:
  parameters: [{name: x, type: continuous, low: 0, high: 1}]
objective:
  targets:
    - {name: yield, direction: max, unit: "%", weight: 2}
    - {name: size, target: [80, 120], prefer: centre, unit: nm}
    - name: cost
      direction: min
  constraints:
    - stability >= 0.9
    - {name: viscosity, op: "<=", bound: 3}
  scalarisation: desirability
  reference: {yield: 0, cost: 10}
"""
    )
    spec = load_spec(tmp_path / "spec.yaml")
    objective = spec.config.objective
    assert objective.quantities == ["yield", "size", "cost", "stability", "viscosity"]
    assert objective.targets[1].prefer == "centre" and (objective.targets[1].low, objective.targets[1].high) == (
        80,
        120,
    )
    assert [str(c) for c in objective.constraints] == ["stability >= 0.9", "viscosity <= 3"]
    store = f"sqlite:///{tmp_path / 'k.db'}"
    _, created = Campaign.open_or_create(spec.name, spec.config, store=store)
    again, resumed = Campaign.open_or_create(spec.name, load_spec(tmp_path / "spec.yaml").config, store=store)
    assert created and not resumed and again.objective == objective


def test_the_two_target_example_runs_its_loop(tmp_path: Path) -> None:
    from kiln import Campaign, ExperimentStatus
    from kiln.lab.orchestrator import Orchestrator
    from kiln.lab.stopping import StopRules

    spec = load_spec(EXAMPLES / "suzuki-ii-two-targets.yaml")
    campaign, _ = Campaign.open_or_create(spec.name, spec.config, store=f"sqlite:///{tmp_path / 'k.db'}")
    ((instrument, _, _),) = spec.build_instruments()
    summary = Orchestrator(campaign, [instrument], stop=StopRules(budget=7)).run_sync()
    assert summary.finished == 7
    done = campaign.experiments()
    assert all(e.status is ExperimentStatus.COMPLETED and set(e.results) == {"yield", "turnover"} for e in done)
    front = campaign.pareto()
    others = {e.id: [o.results for o in done if o.id != e.id] for e in done}
    assert front == [e for e in done if campaign.objective.on_front(e.results, others[e.id])] != []
    assert len({e.candidate for e in done}) == 7  # a pool row is suggested once
