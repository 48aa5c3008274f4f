"""``kiln NAME ...`` runs an app holding command NAME alone (``kiln.cli.app.command_app``): it must read exactly
as the whole app does, help and errors included."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from kiln.cli.app import _command_name, app, command_app

NAMES = sorted({str(_command_name(c)) for c in app.registered_commands} | {str(g.name) for g in app.registered_groups})


def _both(args: list[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    runner = CliRunner()
    whole = runner.invoke(app, args, env={"COLUMNS": "100"})
    single = runner.invoke(command_app(args), args, env={"COLUMNS": "100"})
    return (whole.exit_code, whole.output), (single.exit_code, single.output)


def test_every_command_and_group_is_found() -> None:
    assert {"show", "tell", "list", "export", "import", "bench", "token", "serve", "amend"} <= set(NAMES)
    for name in NAMES:
        single = command_app([name, "--help"])
        assert single is not app
        assert len(single.registered_commands) + len(single.registered_groups) == 1


@pytest.mark.parametrize("name", NAMES)
def test_a_commands_help_reads_as_from_the_whole_app(name: str) -> None:
    whole, single = _both([name, "--help"])
    assert whole[0] == 0 and "Usage: kiln " + name in whole[1]
    assert single == whole


@pytest.mark.parametrize(
    "args",
    [
        ["show"],
        ["show", "c", "--bogus"],
        ["tell", "c"],
        ["export", "c", "--format", "xml"],
        ["bench", "--help"],
        ["token"],
        ["bench", "run", "--help"],
    ],
)
def test_usage_errors_read_as_from_the_whole_app(args: list[str]) -> None:
    whole, single = _both(args)
    assert single == whole
    assert whole[1]


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"], ["shwo"], ["-x"]])
def test_other_arguments_get_the_whole_app(args: list[str]) -> None:
    assert command_app(args) is app
