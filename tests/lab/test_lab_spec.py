"""Run specifications: the examples parse, and malformed specs raise SpecError naming the field at fault."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from kiln import CandidatePool, SearchSpace, SpecError
from kiln.core.errors import KilnError, ValidationError
from kiln.lab import DatasetEmulator, load_spec, spec_from_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
P3HT_TARGET = "Conductivity (measured) (S/cm)"

SPACE_SPEC: dict[str, Any] = {
    "name": "by-hand",
    "space": {
        "parameters": [
            {"name": "temperature", "type": "continuous", "low": 20, "high": 200},
            {"name": "solvent", "type": "categorical", "choices": ["water", "ethanol"]},
        ],
        "compositions": [{"name": "mix", "parts": ["A", "B"], "total": 1}],
    },
    "objective": {"target": "y", "direction": "min"},
    "strategy": {"kind": "sobol"},
    "budget": 12,
    "batch": 3,
    "seed": 4,
}

POOL_SPEC: dict[str, Any] = {
    "name": "emulated",
    "instrument": {"kind": "emulator", "dataset": "p3ht"},
    "pool": {"dataset": "p3ht"},
    "objective": {"target": P3HT_TARGET, "direction": "max"},
}


@pytest.mark.parametrize(
    ("file", "name", "rows", "budget"),
    [
        ("p3ht.yaml", "p3ht-demo", 178, 40),
        ("crossed-barrel.yaml", "crossed-barrel-demo", 600, 50),
        ("suzuki.yaml", "suzuki-demo", 3696, 50),
    ],
)
def test_every_example_parses(file: str, name: str, rows: int, budget: int) -> None:
    spec = load_spec(EXAMPLES / file)
    assert spec.name == name
    assert spec.budget == budget
    assert spec.batch == 1
    assert spec.source == EXAMPLES / file
    assert isinstance(spec.config.domain, CandidatePool)
    assert len(spec.config.domain) == rows
    assert spec.config.strategy.kind == "default"
    assert spec.config.seed == 0
    ((instrument, cost, emulator),) = spec.build_instruments()
    assert instrument.name == "emulator" and cost == 1.0 and getattr(instrument, "replayable", False)
    assert isinstance(emulator, DatasetEmulator)
    assert emulator.target == spec.config.objective.target.name
    assert emulator.pool.rows == spec.config.domain.rows  # the pool's row keys are the emulator's


def test_examples_folder_has_only_parseable_specs() -> None:
    files = sorted(EXAMPLES.glob("*.yaml"))
    assert len(files) >= 3
    for file in files:
        load_spec(file)


def test_a_space_spec_from_a_dict() -> None:
    spec = spec_from_dict(copy.deepcopy(SPACE_SPEC))
    assert spec.name == "by-hand"
    assert spec.instruments == ()
    assert (spec.budget, spec.batch, spec.config.seed) == (12, 3, 4)
    assert isinstance(spec.config.domain, SearchSpace)
    assert spec.config.domain.names == ["temperature", "solvent", "A", "B"]
    assert spec.config.objective.target.direction.value == "min"
    assert spec.config.strategy.kind == "sobol"
    with pytest.raises(SpecError, match=r"^instrument"):
        spec.build_instruments()


def test_defaults_of_a_minimal_spec() -> None:
    spec = spec_from_dict({"name": "m", "pool": {"dataset": "p3ht"}, "objective": {"target": P3HT_TARGET}})
    assert spec.budget is None and spec.batch == 1 and spec.config.seed == 0
    assert spec.config.strategy.kind == "default"


def test_a_csv_pool_is_read_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "cands.csv").write_text("x,solvent,y\n1,water,0.5\n2,water,0.7\n1,water,0.9\n3,ethanol,0.1\n")
    (tmp_path / "spec.yaml").write_text(
        "name: csv-pool\npool: {csv: data/cands.csv}\nobjective: {target: y, direction: max}\n"
    )
    spec = load_spec(tmp_path / "spec.yaml")
    pool = spec.config.domain
    assert isinstance(pool, CandidatePool)
    assert pool.columns == ["x", "solvent"]  # the target column is not an input
    assert len(pool) == 3  # identical rows merged


def test_a_csv_pool_may_name_an_image_file_relative_to_the_spec(tmp_path: Path) -> None:
    import numpy as np

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "points.csv").write_text("x,y,reward\n1,2,0.5\n4,0,0.7\n")
    np.save(tmp_path / "data" / "overview.npy", np.arange(30.0).reshape(5, 6))
    (tmp_path / "spec.yaml").write_text(
        "name: imaged\npool: {csv: data/points.csv, image: {npy: data/overview.npy, patch: 3}}\n"
        "objective: {target: reward, direction: max}\n"
    )
    pool = load_spec(tmp_path / "spec.yaml").config.domain
    assert isinstance(pool, CandidatePool) and pool.image is not None
    assert pool.image.patches([0], normalised=False)[0, 1, 1] == 2 * 6 + 1
    (tmp_path / "spec.yaml").write_text(
        "name: imaged\npool: {csv: data/points.csv, image: data/overview.npy}\nobjective: {target: reward}\n"
    )
    with pytest.raises(SpecError, match="an image file") as error:
        load_spec(tmp_path / "spec.yaml")
    assert error.value.field == "pool.image"


def _broken(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(base)
    for key, value in changes.items():
        if value is _DROP:
            document.pop(key)
        else:
            document[key] = value
    return document


_DROP = object()


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (_broken(POOL_SPEC, name=_DROP), "name", "needs a campaign name"),
        (_broken(POOL_SPEC, name=""), "name", ""),
        (_broken(POOL_SPEC, name=7), "name", ""),
        (_broken(POOL_SPEC, objective=_DROP), "objective", "needs an objective"),
        (_broken(POOL_SPEC, space=SPACE_SPEC["space"]), "space/pool", "exactly one of space and pool"),
        (_broken(POOL_SPEC, pool=_DROP), "space/pool", "exactly one of space and pool"),
        (_broken(POOL_SPEC, budgett=10), "spec", "budgett"),
        (_broken(POOL_SPEC, budget=0), "budget", ">= 1"),
        (_broken(POOL_SPEC, budget=-5), "budget", ">= 1"),
        (_broken(POOL_SPEC, budget="ten"), "budget", ">= 1"),
        (_broken(POOL_SPEC, budget=2.5), "budget", ">= 1"),
        (_broken(POOL_SPEC, budget=True), "budget", ">= 1"),
        (_broken(POOL_SPEC, batch=0), "batch", ">= 1"),
        (_broken(POOL_SPEC, seed=-1), "seed", ">= 0"),
        (_broken(POOL_SPEC, seed="x"), "seed", ">= 0"),
        (_broken(POOL_SPEC, pool={"dataset": "nope"}), "pool.dataset", "crossed-barrel"),
        (_broken(POOL_SPEC, pool={"dataset": "p3ht", "csv": "x.csv"}), "pool", "exactly one of dataset"),
        (_broken(POOL_SPEC, pool={"dataset": "p3ht", "colour": 1}), "pool", "colour"),
        (_broken(POOL_SPEC, pool={"dataset": "p3ht", "inputs": []}), "pool.inputs", "non-empty list"),
        (_broken(POOL_SPEC, pool={"csv": "missing.csv"}), "pool.csv", "does not exist"),
        (_broken(POOL_SPEC, instrument="emulator"), "instrument", "a map is required"),
        (_broken(POOL_SPEC, strategy={"kind": "magic"}), "strategy: kind", "known kinds"),
        (_broken(POOL_SPEC, strategy={"kind": "default", "colour": 1}), "strategy 'default'", "colour"),
        (_broken(POOL_SPEC, objective={"target": P3HT_TARGET, "goal": "max"}), "objective.goal", "'optimise', 'map'"),
        (_broken(POOL_SPEC, objective={"target": P3HT_TARGET, "colour": "red"}), "objective", "colour"),
        (
            _broken(SPACE_SPEC, space={"parameters": [{"name": "x", "type": "real"}]}),
            "space.parameters[0]: type",
            "real",
        ),
        ("just text", "spec", "a YAML map"),
        (None, "spec", "a YAML map"),
    ],
)
def test_malformed_specs_name_the_field(tmp_path: Path, document: Any, field: str, words: str) -> None:
    with pytest.raises(SpecError) as error:
        spec_from_dict(document, base=tmp_path)
    assert error.value.field == field
    assert str(error.value).startswith(f"{field}: got ")
    assert words in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("instrument", "field"),
    [
        ({"kind": "robot", "dataset": "p3ht"}, "instrument.kind"),
        ({"kind": "emulator", "dataset": "nope"}, "instrument.dataset"),
        ({"kind": "emulator", "dataset": "p3ht", "nosie": 1}, "instrument"),
    ],
)
def test_a_bad_instrument_is_named_when_built(instrument: dict[str, Any], field: str) -> None:
    spec = spec_from_dict(_broken(POOL_SPEC, instrument=instrument))
    with pytest.raises(SpecError) as error:
        spec.build_instruments()
    assert error.value.field == field


@pytest.mark.parametrize("noise", ["abc", [1]])
def test_a_non_numeric_noise_is_a_spec_error(noise: Any) -> None:
    spec = spec_from_dict(_broken(POOL_SPEC, instrument={"kind": "emulator", "dataset": "p3ht", "noise": noise}))
    with pytest.raises(KilnError, match="noise"):
        spec.build_instruments()


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="does not exist") as error:
        load_spec(tmp_path / "absent.yaml")
    assert error.value.field == "spec"


@pytest.mark.parametrize("text", ["name: [a\n", "name: a\n  objective: {\n", "a: b: c\n"])
def test_bad_yaml_is_a_spec_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match="valid YAML is required") as error:
        load_spec(path)
    assert error.value.field == "spec"


def test_bad_yaml_error_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [a\n")
    with pytest.raises(SpecError) as error:
        load_spec(path)
    assert "\n" not in str(error.value)
    assert "line" in str(error.value)  # still says where


def test_an_empty_yaml_file_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    with pytest.raises(SpecError, match="a YAML map is required"):
        load_spec(path)


def test_the_simulated_lab_example_has_three_instruments_and_four_in_flight() -> None:
    spec = load_spec(EXAMPLES / "simulated-lab.yaml")
    assert spec.in_flight == 4 and spec.timeout == 60 and spec.stop.patience == 40 and spec.budget == 60
    built = spec.build_instruments()
    assert [instrument.name for instrument, _, _ in built] == ["fast-robot", "slow-robot", "bench"]
    assert [cost for _, cost, _ in built] == [1.0, 1.0, 2.0]
    fast = built[0][0]
    assert fast.in_failure_region({"D2 content (%)": 25.0})  # type: ignore[attr-defined]
    assert not fast.in_failure_region({"D2 content (%)": 5.0})  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"stop": {"patience": 0}}, "stop: patience"),
        ({"stop": {"budget": 3}}, "stop"),
        ({"in_flight": 0}, "in_flight"),
        ({"timeout": -1}, "timeout"),
        ({"instruments": [], "instrument": _DROP}, "instruments"),
        (
            {"instruments": [{"kind": "emulator", "dataset": "p3ht"}], "instrument": {"kind": "emulator"}},
            "instrument/instruments",
        ),
    ],
)
def test_bad_loop_settings_are_named(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError) as error:
        spec_from_dict(_broken(POOL_SPEC, **changes))
    assert error.value.field == field


@pytest.mark.parametrize(
    ("instruments", "field"),
    [
        ([{"kind": "emulator", "dataset": "p3ht"}, {"kind": "emulator", "dataset": "p3ht"}], "instruments: name"),
        ([{"kind": "callable", "function": "nowhere.at.all:f"}], "instrument.function"),
        ([{"kind": "simulated"}], "instrument"),
        ([{"kind": "simulated", "dataset": "p3ht", "latency": {"kind": "gamma"}}], "instrument"),
        ([{"kind": "emulator", "dataset": "p3ht", "cost": -1}], "instrument.cost"),
    ],
)
def test_bad_instruments_are_named_when_built(instruments: list[dict[str, Any]], field: str) -> None:
    spec = spec_from_dict(_broken(POOL_SPEC, instrument=_DROP, instruments=instruments))
    with pytest.raises(SpecError) as error:
        spec.build_instruments()
    assert error.value.field == field


def test_command_and_callable_instruments_from_a_spec(tmp_path: Path) -> None:
    spec = spec_from_dict(
        _broken(
            POOL_SPEC,
            instrument=_DROP,
            instruments=[
                {"kind": "command", "name": "cli", "command": ["python", "measure.py"], "timeout": 5},
                {"kind": "callable", "name": "py", "function": "math:sqrt"},
            ],
        ),
        base=tmp_path,
        source=tmp_path / "spec.yaml",
    )
    (cli, _, none), (py, _, _) = spec.build_instruments()
    assert none is None and cli.cwd == str(tmp_path) and cli.timeout == 5.0  # type: ignore[attr-defined]
    assert py.name == "py"


YAML_BOOLEANS = """\
name: {name}
space:
  parameters:
    - {{name: {parameter}, type: continuous, low: 0, high: 1}}
    - {{name: mode, type: categorical, choices: {choices}}}
objective: {{target: y, direction: max}}
"""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"choices": "[yes, no]"}, "space.parameters[1].choices[0]"),
        ({"choices": "[auto, on, off]"}, "space.parameters[1].choices[1]"),
        ({"name": "yes"}, "name"),
        ({"parameter": "on"}, "parameter name"),
    ],
)
def test_an_unquoted_yes_no_on_off_is_refused_with_a_quote_hint(
    tmp_path: Path, changes: dict[str, str], field: str
) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(YAML_BOOLEANS.format(**{"name": "c", "parameter": "x", "choices": "[a, b]", **changes}))
    with pytest.raises(ValidationError) as error:
        load_spec(path)
    assert error.value.field.endswith(field)
    assert "YAML reads an unquoted yes, no, on, off" in str(error.value) and "quote it" in str(error.value)


def test_quoted_yes_no_on_off_are_text(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(YAML_BOOLEANS.format(name="'yes'", parameter="'on'", choices="['yes', 'no', 'off']"))
    spec = load_spec(path)
    assert spec.name == "yes" and spec.config.domain.names == ["on", "mode"]
    mode = spec.config.domain.parameters[1]
    assert mode.choices == ("yes", "no", "off")  # type: ignore[union-attr]


def test_booleans_as_choices_or_keys_are_refused_in_python_too() -> None:
    from kiln import Categorical, LinearConstraint

    with pytest.raises(ValidationError, match="quote it"):
        Categorical("mode", (True, False))
    with pytest.raises(ValidationError, match="quote it"):
        Categorical("mode", ("a", "b"), descriptors={True: (1.0,), "b": (2.0,)})
    with pytest.raises(ValidationError, match="quote it"):
        LinearConstraint({True: 1.0}, 1.0)


def test_a_pool_spec_declares_units(tmp_path: Path) -> None:
    (tmp_path / "pool.csv").write_text("T,solvent,y\n20,a,1\n30,b,2\n")
    spec = {**POOL_SPEC, "pool": {"csv": "pool.csv", "units": {"T": "°C"}}, "objective": {"target": "y"}}
    del spec["instrument"]
    parsed = spec_from_dict(spec, base=tmp_path)
    assert parsed.config.domain.units == {"T": "°C"}
