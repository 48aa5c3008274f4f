"""Importing kiln and running `kiln --help` stay light: no PyTorch, BoTorch, GPyTorch or SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "botorch", "gpytorch", "sqlalchemy")

IMPORT_KILN = """
import json, sys
import kiln
from kiln import Campaign, CandidatePool, Objective, SearchSpace
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""

KILN_HELP = """
import json, sys
sys.argv = ["kiln"] + {args}
from kiln.cli.app import main
try:
    main()
except SystemExit as exit:
    code = exit.code
print("MODULES " + json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in {heavy})]))
"""


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_kiln_is_light() -> None:
    loaded = json.loads(_run(IMPORT_KILN.format(heavy=set(HEAVY))).strip().splitlines()[-1])
    assert loaded == []


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["ask", "--help"], ["datasets"]])
def test_kiln_help_is_light(args: list[str]) -> None:
    output = _run(KILN_HELP.format(args=args, heavy=set(HEAVY)))
    code, loaded = json.loads(output.strip().splitlines()[-1].removeprefix("MODULES "))
    assert code in (0, None)
    assert loaded == []
    if args[-1] == "--help":
        assert "Usage" in output


def test_the_checker_sees_heavy_modules() -> None:
    """The check above can fail: asking for a model does load torch."""
    code = IMPORT_KILN.replace("import kiln\n", "import kiln\nimport torch\n")
    assert "torch" in json.loads(_run(code.format(heavy=set(HEAVY))).strip().splitlines()[-1])
