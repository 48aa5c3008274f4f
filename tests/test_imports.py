"""Importing kiln and running `kiln --help` stay light: no PyTorch, BoTorch, GPyTorch or SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torch", "botorch", "gpytorch", "sqlalchemy", "rdkit", "pymatgen")

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


EVERYDAY = """
import json, sys
sys.argv = ["kiln"] + {args}
from kiln.cli.app import main
try:
    main()
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print("MODULES " + json.dumps(sorted({modules})))
"""
TOP_LEVEL = "{m.split('.')[0] for m in sys.modules}"
"""The ``modules`` of EVERYDAY that name top-level packages (torch, pandas, ...)."""

NEVER_AT_START = {
    "torch",
    "botorch",
    "gpytorch",
    "sklearn",
    "scipy",
    "fastapi",
    "plotly",
    "alembic",
    "uvicorn",
    "pydantic",
    "rdkit",
    "pymatgen",
}
"""Libraries that none of the everyday commands needs: importing them costs seconds on a small machine (pydantic
0.1 s: typer from 0.29 on coerces every parameter through it, which is why pyproject.toml keeps typer below 0.29)."""


@pytest.fixture(scope="module")
def everyday_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, list[str]]:
    """A SQLite store with a default-strategy campaign on a pool, some results, and pending experiments."""
    from kiln import Campaign, CandidatePool, Objective

    url = f"sqlite:///{tmp_path_factory.mktemp('everyday') / 'kiln.db'}"
    pool = CandidatePool(["x", "c"], [(float(i), f"c{i % 3}") for i in range(30)])
    campaign = Campaign.create("daily", space=pool, objective=Objective.maximize("y"), store=url)
    for number, experiment in enumerate(campaign.ask(3)):
        campaign.tell(experiment.id, float(number))
    pending = [e.id for e in campaign.ask(2)]
    campaign.store.close()
    return url, "daily", pending


def _modules_of(args: list[str]) -> set[str]:
    output = _run(EVERYDAY.format(args=args, modules=TOP_LEVEL))
    return set(json.loads(output.strip().splitlines()[-1].removeprefix("MODULES ")))


def test_kiln_list_imports_no_numerics_and_no_migrations(everyday_store: tuple[str, str, list[str]]) -> None:
    url, _, _ = everyday_store
    loaded = _modules_of(["list", "--store", url])
    assert "sqlalchemy" in loaded  # the check sees what a command imports
    assert loaded.isdisjoint(NEVER_AT_START | {"pandas", "numpy"}), loaded & (NEVER_AT_START | {"pandas", "numpy"})


@pytest.mark.parametrize("command", ["show", "tell", "export"])
def test_everyday_commands_import_no_models(command: str, everyday_store: tuple[str, str, list[str]]) -> None:
    url, name, pending = everyday_store
    args = {
        "show": ["show", name],
        "tell": ["tell", name, pending[0], "2.5"],
        "export": ["export", name, "--format", "csv"],
    }[command]
    loaded = _modules_of([*args, "--store", url])
    assert "sqlalchemy" in loaded  # the check sees what a command imports
    assert loaded.isdisjoint(NEVER_AT_START | {"pandas", "numpy"}), loaded & (NEVER_AT_START | {"pandas", "numpy"})


@pytest.mark.parametrize("extra", [["--format", "json"], ["--history"]])
def test_kiln_export_writes_without_pandas(extra: list[str], everyday_store: tuple[str, str, list[str]]) -> None:
    """CSV and JSON, with or without the history, are written with the standard library (kiln.campaign.export_text)."""
    url, name, _ = everyday_store
    loaded = _modules_of(["export", name, *extra, "--store", url])
    assert "pandas" not in loaded


def test_the_version_is_the_projects() -> None:
    import tomllib
    from pathlib import Path

    import kiln

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    assert kiln.__version__ == project["version"]


LAB_MODULES = "(m for m in sys.modules if m.startswith('kiln.lab'))"


def test_kiln_show_reads_the_lease_without_the_rest_of_the_lab(everyday_store: tuple[str, str, list[str]]) -> None:
    """kiln.lab's names load on first use: the lease module comes without the emulators, the loop and specs."""
    url, name, _ = everyday_store
    output = _run(EVERYDAY.format(args=["show", name, "--store", url], modules=LAB_MODULES))
    loaded = set(json.loads(output.strip().splitlines()[-1].removeprefix("MODULES ")))
    assert "kiln.lab.lease" in loaded
    assert loaded.isdisjoint({"kiln.lab.emulator", "kiln.lab.loop", "kiln.lab.spec"}), loaded


@pytest.fixture(scope="module")
def random_pool_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, list[str]]:
    """A SQLite store with a random-strategy campaign on a pool of numbers and names, results and pending ones."""
    from kiln import Campaign, CandidatePool, Objective

    url = f"sqlite:///{tmp_path_factory.mktemp('random') / 'kiln.db'}"
    pool = CandidatePool(["x", "c"], [(float(i), f"c{i % 3}") for i in range(30)])
    campaign = Campaign.create("sweep", space=pool, objective=Objective.maximize("y"), strategy="random", store=url)
    for number, experiment in enumerate(campaign.ask(3)):
        campaign.tell(experiment.id, float(number))
    pending = [e.id for e in campaign.ask(2)]
    campaign.store.close()
    return url, "sweep", pending


@pytest.mark.parametrize("command", ["show", "tell", "export"])
def test_a_pool_campaign_opens_without_numpy(command: str, random_pool_store: tuple[str, str, list[str]]) -> None:
    """The pool scales its columns and encodes its rows on first use, and the space and strategy modules import
    numpy inside the functions that compute: show, tell and export of a pool campaign need no numpy."""
    url, name, pending = random_pool_store
    args = {"show": ["show", name], "tell": ["tell", name, pending[0], "2.5"], "export": ["export", name]}[command]
    loaded = _modules_of([*args, "--store", url])
    assert "sqlalchemy" in loaded
    assert "numpy" not in loaded


@pytest.mark.parametrize(
    ("code", "libraries"),
    [
        ("import kiln.space.features, kiln.space.molecules", {"rdkit", "sklearn"}),
        (
            "from kiln.space.elements import element_of, is_formula\n"
            "assert is_formula('Ca3(PO4)2') and element_of('ni_load') == 'Ni'",
            {"pymatgen"},
        ),
    ],
)
def test_chemistry_modules_load_their_libraries_only_when_computing(code: str, libraries: set[str]) -> None:
    """Importing the molecule and element modules, and the quick checks, load neither RDKit, scikit-learn nor
    pymatgen: a campaign is opened, and auto decides what its choices are, without them."""
    shown = _run(f"import json, sys\n{code}\nprint(json.dumps(sorted({TOP_LEVEL} & {libraries!r})))\n")
    assert json.loads(shown.strip().splitlines()[-1]) == []
