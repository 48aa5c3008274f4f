"""What a new user meets first: --version, help text, --json, tables at 80 columns, show in words, plain logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperArgument, TyperGroup
from typer.testing import CliRunner

from kiln import Campaign, CandidatePool, Objective, __version__
from kiln.cli.app import app
from kiln.cli.render import fmt

KILN = Path(sys.executable).parent / "kiln"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LONG_NAME = "crossed-barrel-toughness-at-room-temperature"
SMILES = [
    "O=S(OC1=CC=C(N=CC=C2)C2=C1)(C(F)(F)F)=O",
    "CC1=CC=C(N(C2CCCCO2)N=C3)C3=C1[B-](F)(F)F",
    "CC(P(C(C)(C)C)C(C)(C)C)(C)C",
]


def cli(*args: Any, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """The kiln command as a user runs it, output not a terminal, COLUMNS as given."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([str(KILN), *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def store(tmp_path: Path) -> str:
    """A store with a long-named campaign over a pool of SMILES pairs; one completed and two pending."""
    url = f"sqlite:///{tmp_path / 'kiln.db'}"
    rows = [(a, b, float(i)) for i, (a, b) in enumerate((a, b) for a in SMILES for b in SMILES)]
    pool = CandidatePool(["electrophile", "nucleophile", "temperature"], rows)
    campaign = Campaign.create(
        LONG_NAME,
        space=pool,
        objective=Objective.maximize("yield"),
        strategy="random",
        store=url,
        extra={"description": "Couplings by hand", "budget": 12, "instruments": [{"kind": "manual"}]},
    )
    first, *_ = campaign.ask(3)
    campaign.tell(first.id, 42.5)
    campaign.store.close()
    return url


def test_version() -> None:
    assert ok(cli("--version")).strip() == f"kiln {__version__}"


def _commands(group: Any, ctx: Any) -> list[tuple[str, Any]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append((name, command))
        if isinstance(command, TyperGroup):
            found += [(f"{name} {sub}", c) for sub, c in _commands(command, ctx)]
    return found


def test_every_positional_argument_is_described() -> None:
    root = typer.main.get_command(app)
    ctx = root.make_context("kiln", ["--help"], resilient_parsing=True)
    commands = _commands(root, ctx)
    assert len(commands) > 10
    for name, command in commands:
        for param in command.params:
            if isinstance(param, TyperArgument):
                assert param.help, f"kiln {name}: argument {param.name} has no help text"


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["serve", "--help"], ["token", "create", "--help"]])
def test_help_shows_flags_without_a_bool_type(args: list[str]) -> None:
    shown = ok(cli(*args))
    assert "--help" in shown
    assert "<bool>" not in shown
    if args[0] == "ask":
        assert "--json" in shown and "NAME" in shown and "Campaign name" in shown


def test_json_is_the_only_thing_on_stdout(store: str) -> None:
    listed = json.loads(ok(cli("list", "--json", "--store", store)))
    assert [c["name"] for c in listed] == [LONG_NAME] and listed[0]["completed"] == 1
    shown = json.loads(ok(cli("show", LONG_NAME, "--json", "--store", store)))
    assert shown["budget"] == 12 and shown["description"] == "Couplings by hand"
    assert shown["space"] == "a pool of 9 candidates over electrophile, nucleophile, temperature"
    assert set(shown["encodings"]) == {"electrophile", "nucleophile"}  # SMILES columns: descriptors (auto)
    assert all(line.startswith("descriptors, chosen by auto") for line in shown["encodings"].values())
    assert shown["best"]["results"] == {"yield": 42.5}
    (asked,) = json.loads(ok(cli("ask", LONG_NAME, "--json", "--store", store)))
    told = json.loads(ok(cli("tell", LONG_NAME, asked["id"], "7.5", "--json", "--store", store)))
    assert told["id"] == asked["id"] and told["status"] == "completed" and told["results"] == {"yield": 7.5}
    pending = [e for e in shown["latest"] if e["status"] == "pending"]
    failed = json.loads(ok(cli("fail", LONG_NAME, pending[0]["id"], "vial broke", "--json", "--store", store)))
    assert failed["status"] == "failed" and failed["reason"] == "vial broke"


def test_tables_fit_80_columns_and_never_cut_names_or_values(store: str) -> None:
    for args in (["list"], ["show", LONG_NAME], ["ask", LONG_NAME, "-n", "2"]):
        shown = ok(cli(*args, "--store", store))
        sentences = (store.removeprefix("sqlite:///"), "run them, then:")  # whole lines in a log, never broken
        table = [line for line in shown.splitlines() if not any(s in line for s in sentences)]
        assert max(len(line) for line in table) <= 80, shown
        assert "…" not in shown, shown
    assert LONG_NAME in ok(cli("list", "--store", store))
    campaign = Campaign.open(LONG_NAME, store=store)
    shown = ok(cli("show", LONG_NAME, "--store", store))
    for experiment in campaign.experiments():
        assert experiment.id in shown
        for value in experiment.params.values():
            assert fmt(value) in shown, (value, shown)


def test_show_speaks_words_and_tells_budget_instrument_and_description(store: str) -> None:
    shown = " ".join(ok(cli("show", LONG_NAME, "--store", store)).split())
    assert "CandidatePool(" not in shown and "{'kind'" not in shown
    assert "space a pool of 9 candidates over electrophile, nucleophile, temperature" in shown
    assert "objective maximise yield" in shown
    assert "strategy random" in shown
    assert "budget 12 experiments (1 finished)" in shown
    assert "instrument manual" in shown
    assert "about Couplings by hand" in shown
    assert "experiments 3 (1 completed, 2 pending)" in shown


def test_a_spec_stores_its_budget_instrument_and_description(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'k.db'}"
    ok(cli("create", EXAMPLES / "suzuki.yaml", "--store", store))
    shown = " ".join(ok(cli("show", "suzuki-demo", "--store", store)).split())
    assert "budget 50 experiments (0 finished)" in shown
    assert "instrument emulator (dataset suzuki)" in shown
    assert "Maximise the yield of Suzuki-Miyaura couplings" in shown


def test_a_run_into_a_log_is_whole_lines(tmp_path: Path) -> None:
    """Not a terminal: no redrawn progress bar, one line per event, long lines not broken at column 80."""
    store = tmp_path / ("a-folder-with-a-long-name-" * 3) / "kiln.db"
    store.parent.mkdir()
    log = ok(cli("run", EXAMPLES / "crossed-barrel.yaml", "--store", store, "--budget", 3, columns=80))
    lines = log.splitlines()
    assert any(line.startswith("campaign crossed-barrel-demo started in ") and "budget 3" in line for line in lines)
    events = [line for line in lines if line.startswith("#")]
    assert len([line for line in events if " finished on " in line]) == 3, log
    assert all(line.endswith("failed]") for line in events), log
    assert "\r" not in log and "\x1b[" not in log


def test_a_mismatch_names_the_field(tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "k.db")
    spec = EXAMPLES / "crossed-barrel.yaml"
    assert runner.invoke(app, ["run", str(spec), "--store", store, "--budget", "1"]).exit_code == 0
    again = runner.invoke(app, ["run", str(spec), "--store", store, "--budget", "2", "--seed", "9"])
    assert again.exit_code == 1
    assert "seed: stored 0, spec 9" in again.stderr


def test_serve_on_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("serve", "--port", port, "--store", tmp_path / "k.db")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --port"), result.stderr
    assert f"127.0.0.1:{port}" in lines[0]


def test_a_token_for_a_campaign_not_in_the_store_warns(store: str) -> None:
    result = cli("token", "create", "robot", "--campaign", "nosuch", "--store", store)
    assert result.returncode == 0
    assert "warning: no campaign 'nosuch'" in result.stderr
    assert len(result.stdout.strip().splitlines()[-1]) > 20  # the secret is still printed
    quiet = cli("token", "create", "robot-2", "--campaign", LONG_NAME, "--store", store)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
