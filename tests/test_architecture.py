"""The layers of kiln depend on each other in one direction only (checked by parsing every module with ast).

core <- store, space <- objective <- models <- strategies <- campaign <- lab, bench <- server <- cli; the client
needs only core.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "kiln"
ROOT = "<kiln>"  # `import kiln` / `from kiln import Campaign`: the top-level package, which loads every layer

ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "store": {"core"},
    "space": {"core"},
    "objective": {"core", "space"},
    "models": {"core", "space", "objective"},
}
FORBIDDEN: dict[str, set[str]] = {
    "strategies": {"campaign", "lab", "bench", "cli", "server", ROOT},
    "campaign": {"lab", "bench", "cli", "server", ROOT},
    "lab": {"cli", "server", ROOT},
    "bench": {"cli", "server", ROOT},
    "report": {"cli", "server", ROOT},
    "server": {"cli", ROOT},
    "client": {
        "space",
        "objective",
        "models",
        "strategies",
        "campaign",
        "lab",
        "bench",
        "cli",
        "server",
        "store",
        ROOT,
    },
    "cli": {ROOT},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every kiln module a file imports (TYPE_CHECKING and function-level imports included).

    ``from kiln import campaign`` counts as ``kiln.campaign``; ``from kiln import Campaign`` as ``kiln.Campaign``
    (the top-level package).
    """
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target == "kiln":
                found.update(f"kiln.{alias.name}" for alias in node.names)
            else:
                found.add(target)
    return {name for name in found if name == "kiln" or name.startswith("kiln.")}


def _layer(module: str) -> str:
    """The layer of a kiln module: its subpackage, or ROOT for the top-level package and its names."""
    parts = module.split(".")
    if len(parts) > 1 and ((PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").exists()):
        return parts[1]
    return ROOT


def _dependencies() -> dict[str, set[str]]:
    """Each module (but the top-level package) -> the other layers it imports."""
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if module != "kiln":
            edges[module] = {_layer(imported) for imported in _imports(path)} - {_layer(module)}
    return edges


DEPENDENCIES = _dependencies()


def test_every_module_parses_and_layers_are_found() -> None:
    layers = {_layer(module) for module in DEPENDENCIES}
    assert {"core", "store", "space", "objective", "models", "strategies", "campaign", "lab", "cli"} <= layers
    assert len(DEPENDENCIES) > 30


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_lower_layers_import_only_what_is_below_them(layer: str) -> None:
    wrong = {m: sorted(deps - ALLOWED[layer]) for m, deps in DEPENDENCIES.items() if _layer(m) == layer}
    assert {m: d for m, d in wrong.items() if d} == {}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_upper_layers_do_not_import_layers_above_them(layer: str) -> None:
    wrong = {m: sorted(deps & FORBIDDEN[layer]) for m, deps in DEPENDENCIES.items() if _layer(m) == layer}
    assert {m: d for m, d in wrong.items() if d} == {}


def test_nothing_outside_the_cli_imports_the_cli_or_the_server() -> None:
    wrong = {
        m: sorted((deps & {"cli", "server"}) - {_layer(m)})
        for m, deps in DEPENDENCIES.items()
        if _layer(m) != "cli" and (deps & {"cli", "server"}) - {_layer(m)}
    }
    assert wrong == {}


def test_the_checker_resolves_package_imports() -> None:
    assert _layer("kiln.core.errors") == "core"
    assert _layer("kiln") == ROOT
    assert _layer("kiln.Campaign") == ROOT
    imports = _imports(PACKAGE / "campaign" / "campaign.py")
    assert "kiln.store" in imports and "kiln.core.errors" in imports
    assert {"campaign", "core", "objective", "space", "store", "strategies"} >= DEPENDENCIES["kiln.campaign.campaign"]
    assert "store" in DEPENDENCIES["kiln.campaign.campaign"]


def test_the_checker_catches_violations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake package whose core reaches upwards in every way the checker must see."""
    fake = tmp_path / "kiln"
    for layer in ("core", "campaign", "cli"):
        (fake / layer).mkdir(parents=True)
        (fake / layer / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "core" / "bad.py").write_text(
        "from ..campaign import thing\nfrom kiln import Campaign\ndef f():\n    import kiln.cli.app\n"
    )
    (fake / "core" / "fine.py").write_text("from . import bad\nfrom .bad import f\nimport numpy\n")
    monkeypatch.setitem(globals(), "SRC", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGE", fake)
    edges = _dependencies()
    assert edges["kiln.core.bad"] == {"campaign", ROOT, "cli"}
    assert edges["kiln.core.fine"] == set()
