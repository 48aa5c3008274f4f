"""The command line with several targets and an outcome constraint: ``kiln tell NAME ID yield=82 cost=3.1``,
partial results, bad input (changing nothing), ``kiln pending`` / ``show`` with what is missing, ``kiln pareto``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kiln import Campaign, ExperimentStatus
from kiln.cli.app import app
from kiln.cli.result_args import parse_result_args
from kiln.core.errors import ValidationError

SPEC = """\
name: films
space:
  parameters:
    - {name: x, type: continuous, low: 0, high: 1}
objective:
  targets:
    - {name: yield, direction: max, unit: '%'}
    - {name: cost, direction: min}
  constraints: ["stability >= 0.9"]
strategy: {kind: random}
seed: 3
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def db(tmp_path: Path, runner: CliRunner) -> str:
    """A store with the campaign ``films`` (targets yield and cost, stability >= 0.9) and nothing asked yet."""
    spec = tmp_path / "films.yaml"
    spec.write_text(SPEC)
    url = f"sqlite:///{tmp_path / 'k.db'}"
    ok(kiln(runner, "create", spec, "--store", url))
    return url


def kiln(runner: CliRunner, *args: Any) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def ok(result: Any) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def error_line(result: Any) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def asked(runner: CliRunner, db: str, n: int) -> list[dict[str, Any]]:
    return json.loads(ok(kiln(runner, "ask", "films", "-n", n, "--json", "--store", db)).stdout)


def stored(db: str) -> list[Any]:
    return Campaign.open("films", store=db).experiments()


# ------------------------------------------------------------------------------------------------ the parser
@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["82"], "82"),
        (["-1.5"], "-1.5"),
        (["yield=82", "cost=3.1"], {"yield": "82", "cost": "3.1"}),
        ([" yield = 82 "], {"yield": "82"}),
        (["cost=-1e-3"], {"cost": "-1e-3"}),
    ],
)
def test_result_arguments_are_read_as_typed(items: list[str], expected: Any) -> None:
    assert parse_result_args(items) == expected


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([], "a measured value is required"),
        (["1", "2"], "several need their names"),
        (["82", "cost=3"], "every value needs its quantity's name"),
        (["=3"], "needs the quantity's name"),
        (["yield="], "needs a number after '=' for 'yield'"),
        (["yield=1", "yield=2"], "'yield' is given twice"),
    ],
)
def test_bad_result_arguments_say_what_is_wrong(items: list[str], words: str) -> None:
    with pytest.raises(ValidationError, match=words) as error:
        parse_result_args(items)
    assert error.value.field == "VALUE"


# ------------------------------------------------------------------------------------------------ kiln tell
def test_tell_every_quantity_by_name(runner: CliRunner, db: str) -> None:
    (suggestion,) = asked(runner, db, 1)
    out = ok(kiln(runner, "tell", "films", suggestion["id"], "yield=82", "cost=3.1", "stability=0.95", "--store", db))
    assert f"{suggestion['id']}: completed with yield = 82, cost = 3.1, stability = 0.95" in out.stdout
    (experiment,) = stored(db)
    assert experiment.status is ExperimentStatus.COMPLETED
    assert experiment.results == {"yield": 82.0, "cost": 3.1, "stability": 0.95}


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (["yeild=82"], "unknown ['yeild']"),
        (["yeild=82"], "['yield', 'cost', 'stability']"),
        (["yield=abc"], "result 'yield': got 'abc'"),
        (["yield=nan"], "result 'yield'"),
        (["82"], "a bare number is the value of the only quantity"),
        (["yield=1", "yield=2"], "'yield' is given twice"),
    ],
)
def test_tell_bad_input_is_one_line_and_changes_nothing(
    runner: CliRunner, db: str, values: list[str], words: str
) -> None:
    (suggestion,) = asked(runner, db, 1)
    before = stored(db)
    line = error_line(kiln(runner, "tell", "films", "--store", db, "--", suggestion["id"], *values))
    assert words in line
    assert stored(db) == before


def test_ask_and_pending_say_how_to_tell_each_quantity(runner: CliRunner, db: str) -> None:
    out = ok(kiln(runner, "ask", "films", "--store", db)).stdout
    assert "kiln tell films ID yield=VALUE cost=VALUE stability=VALUE" in out
    out = ok(kiln(runner, "pending", "films", "--store", db)).stdout
    assert "kiln tell films ID yield=VALUE cost=VALUE stability=VALUE" in out
    (record,) = json.loads(ok(kiln(runner, "pending", "films", "--json", "--store", db)).stdout)
    assert record["missing"] == ["yield", "cost", "stability"]


def test_show_describes_the_objective(runner: CliRunner, db: str) -> None:
    out = ok(kiln(runner, "show", "films", "--store", db)).stdout
    assert "maximise yield, minimise cost" in out and "subject to stability >= 0.9" in out
    summary = json.loads(ok(kiln(runner, "show", "films", "--json", "--store", db)).stdout)
    assert summary["constraints"] == [{"name": "stability", "op": ">=", "bound": 0.9}]
    assert summary["best"] is None and summary["front"] == []


@pytest.mark.parametrize(
    ("objective", "acquisition"),
    [
        ("  targets: [{name: yield}, {name: cost, direction: min}]", "acquisition qlognehvi"),
        ("  targets: [{name: yield}]\n  constraints: ['stability >= 0.9']", "acquisition qlognei"),
        ("  targets: [{name: yield}, {name: cost, direction: min}]\n  scalarisation: desirability", "ucb"),
    ],
)
def test_show_names_the_acquisition_the_default_strategy_uses(
    runner: CliRunner, tmp_path: Path, objective: str, acquisition: str
) -> None:
    """Several targets or an outcome constraint hand the default's BO phase to the multi-objective strategy: kiln
    show names its acquisition, not the one-target UCB it leaves aside; a scalarised objective keeps UCB."""
    spec = tmp_path / "default.yaml"
    text = SPEC.replace("strategy: {kind: random}", "strategy: {kind: default}")
    start, end = text.index("objective:\n") + len("objective:\n"), text.index("strategy:")
    spec.write_text(text[:start] + objective + "\n" + text[end:])
    url = f"sqlite:///{tmp_path / 'k.db'}"
    ok(kiln(runner, "create", spec, "--store", url))
    out = " ".join(ok(kiln(runner, "show", "films", "--store", url)).stdout.split())  # lines may wrap anywhere
    assert acquisition in out and "kernel matern52" in out
    assert ("ucb" in out) == (acquisition == "ucb")


# ------------------------------------------------------------------------------------------------ the front
MEASURED = [  # yield, cost, stability: #1 and #2 are the front; #3 is dominated by #1; #4 breaks the constraint
    {"yield": 80.0, "cost": 2.0, "stability": 0.95},
    {"yield": 90.0, "cost": 4.0, "stability": 0.92},
    {"yield": 70.0, "cost": 3.0, "stability": 0.99},
    {"yield": 99.0, "cost": 1.0, "stability": 0.5},
]


def measured(db: str) -> list[str]:
    """The ids of the four experiments of MEASURED, told through the Python API."""
    campaign = Campaign.open("films", store=db)
    ids = []
    for experiment, results in zip(campaign.ask(4), MEASURED, strict=True):
        campaign.tell(experiment.id, results)
        ids.append(experiment.id)
    return ids


def test_pareto_lists_the_front_best_first_target_first(runner: CliRunner, db: str) -> None:
    ids = measured(db)
    out = ok(kiln(runner, "pareto", "films", "--store", db)).stdout
    assert "Pareto front of films: 2 experiment(s)" in out
    assert ids[1] in out and ids[0] in out and ids[2] not in out and ids[3] not in out
    assert out.index(ids[1]) < out.index(ids[0])  # yield 90 before yield 80
    assert "hypervolume 28.4" in out and "reference point yield 68, cost 4.2" in out
    document = json.loads(ok(kiln(runner, "pareto", "films", "--json", "--store", db)).stdout)
    assert [e["id"] for e in document["front"]] == [ids[0], ids[1]]
    assert document["constraints"] == [{"name": "stability", "op": ">=", "bound": 0.9}]
    # reference: the worst score of the feasible ones less a tenth of the spread: yield 70 - 2, -cost -4 - 0.2
    assert document["reference_scores"] == pytest.approx({"yield": 68.0, "cost": -4.2})
    assert document["hypervolume"] == pytest.approx((80 - 68) * (-2 + 4.2) + (90 - 80) * (-4 + 4.2))


def test_pareto_without_a_front_says_so(runner: CliRunner, db: str) -> None:
    out = ok(kiln(runner, "pareto", "films", "--store", db)).stdout
    assert "no Pareto front yet" in out
    assert json.loads(ok(kiln(runner, "pareto", "films", "--json", "--store", db)).stdout)["front"] == []


def test_show_marks_the_front(runner: CliRunner, db: str) -> None:
    ids = measured(db)
    out = ok(kiln(runner, "show", "films", "--store", db)).stdout
    assert "Pareto front: 2 experiment(s)" in out and "front" in out
    assert "breaks stability >= 0.9" in out  # #4
    summary = json.loads(ok(kiln(runner, "show", "films", "--json", "--store", db)).stdout)
    assert [e["id"] for e in summary["front"]] == ids[:2] and summary["best"] is None


# ------------------------------------------------------------------------------------------------ partial results
def test_results_told_in_parts(runner: CliRunner, db: str) -> None:
    (suggestion,) = asked(runner, db, 1)
    identifier = suggestion["id"]
    out = ok(kiln(runner, "tell", "films", identifier, "yield=82", "--store", db)).stdout
    assert f"{identifier}: recorded yield = 82; still pending, waiting for cost, stability" in out
    assert f"(kiln tell films {identifier} cost=VALUE stability=VALUE)" in out
    (experiment,) = stored(db)
    assert experiment.status is ExperimentStatus.PENDING and experiment.results == {"yield": 82.0}

    pending = ok(kiln(runner, "pending", "films", "--store", db)).stdout
    assert "1 open, 1 of them partly measured" in pending and "cost, stability" in pending
    (record,) = json.loads(ok(kiln(runner, "pending", "films", "--json", "--store", db)).stdout)
    assert record["results"] == {"yield": 82.0} and record["missing"] == ["cost", "stability"]
    shown = ok(kiln(runner, "show", "films", "--store", db)).stdout
    assert "partly measured" in shown and "1 waiting for cost, stability (kiln pending films)" in shown
    summary = json.loads(ok(kiln(runner, "show", "films", "--json", "--store", db)).stdout)
    assert [e["id"] for e in summary["partly_measured"]] == [identifier]

    out = " ".join(
        ok(kiln(runner, "amend", "films", identifier, "yield=81", "--reason", "typo", "--store", db)).stdout.split()
    )
    assert f"{identifier}: amended, now pending with {{'yield': 81.0}}, waiting for cost, stability" in out, out
    assert f"(kiln tell films {identifier} cost=VALUE stability=VALUE)" in out and "completed" not in out
    ok(kiln(runner, "amend", "films", identifier, "yield=82", "--reason", "typo", "--store", db))

    before = stored(db)
    line = error_line(kiln(runner, "tell", "films", identifier, "yield=83", "--store", db))
    assert "yield" in line and f"kiln amend films {identifier} yield=83 --reason TEXT" in line, line
    assert stored(db) == before

    out = ok(kiln(runner, "tell", "films", identifier, "cost=3.1", "stability=0.95", "--store", db)).stdout
    assert f"{identifier}: completed with yield = 82, cost = 3.1, stability = 0.95" in out
    ok(kiln(runner, "amend", "films", identifier, "cost=2.5", "--reason", "typo", "--store", db))
    assert stored(db)[0].results == {"yield": 82.0, "cost": 2.5, "stability": 0.95}


# ------------------------------------------------------------------------------------------------ kiln run
MEASURE = """
import json, sys
x = json.load(sys.stdin)["x"]
print(json.dumps({"yield": 100 * x, "cost": 1 + 4 * x * x, "stability": 0.95 if x < 0.8 else 0.5}))
"""


def test_the_summary_of_a_run_reports_the_front(runner: CliRunner, tmp_path: Path) -> None:
    import sys

    import yaml

    (tmp_path / "measure.py").write_text(MEASURE)
    spec = yaml.safe_load(SPEC)
    spec.update(
        name="films-run",
        instruments=[{"kind": "command", "name": "rig", "command": [sys.executable, str(tmp_path / "measure.py")]}],
        budget=6,
    )
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(spec))
    url = f"sqlite:///{tmp_path / 'run.db'}"
    out = ok(kiln(runner, "run", tmp_path / "run.yaml", "--store", url)).stdout
    campaign = Campaign.open("films-run", store=url)
    front = campaign.pareto()
    assert front and f"Pareto front: {len(front)} experiment(s)" in out, out
    assert all(e.id in out for e in front)
    assert "best found" not in out and "top-5 %" not in out


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "suzuki-ii-two-targets.yaml"


@pytest.mark.parametrize("scalarised", [False, True])
def test_the_two_target_example_runs_and_ends_with_its_summary(
    runner: CliRunner, tmp_path: Path, scalarised: bool
) -> None:
    """The example on its emulator (both measured columns), and the same scalarised: a best card, no top-5 %
    line (the dataset's ranking is of one target)."""
    import yaml

    spec = yaml.safe_load(EXAMPLE.read_text())
    if scalarised:
        spec["objective"].pop("reference")
        spec["objective"]["scalarisation"] = "desirability"
    spec["strategy"] = {"kind": "random"}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    out = ok(kiln(runner, "run", tmp_path / "spec.yaml", "--budget", 4, "--store", tmp_path / "s.db")).stdout
    assert "4 experiments: 4 completed" in out
    assert ("best found" in out) is scalarised and ("Pareto front:" in out) is not scalarised
    assert "top-5 %" not in out


def test_show_marks_broken_constraints_with_one_target(runner: CliRunner, tmp_path: Path) -> None:
    from kiln import Continuous, SearchSpace
    from kiln.objective import Objective, OutcomeConstraint, Target

    url = f"sqlite:///{tmp_path / 'one.db'}"
    objective = Objective((Target("yield"),), (OutcomeConstraint("stability", ">=", 0.9),))
    campaign = Campaign.create(
        "one", space=SearchSpace([Continuous("x", 0.0, 1.0)]), objective=objective, strategy="random", store=url
    )
    good, bad = campaign.ask(2)
    campaign.tell(good.id, {"yield": 50.0, "stability": 0.95})
    campaign.tell(bad.id, {"yield": 99.0, "stability": 0.2})
    out = ok(kiln(runner, "show", "one", "--store", url)).stdout
    assert "constraints" in out and "breaks stability >= 0.9" in out
    card = out[out.index("best so far") : out.index("latest")]
    assert good.id in card and bad.id not in card  # the better yield breaks the constraint


def test_history_shows_every_quantity(runner: CliRunner, db: str) -> None:
    (identifier, *_) = measured(db)
    ok(kiln(runner, "amend", "films", identifier, "stability=0.97", "--reason", "recalibrated", "--store", db))
    out = ok(kiln(runner, "history", "films", identifier, "--store", db)).stdout
    assert "0.95" in out and "0.97" in out  # a column per quantity (headers fold to fit 80 columns)
    versions = json.loads(ok(kiln(runner, "history", "films", identifier, "--json", "--store", db)).stdout)
    assert [v["results"]["stability"] for v in versions] == [0.95, 0.97]
