"""The kiln command never prints a store URL's password: create, run, show, list and error lines mask it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from backends import POSTGRES_URL, fresh_postgres
from kiln.cli.app import app

SECRET = "S3cretPw"
SPEC = """\
name: bench
pool: {dataset: p3ht}
instrument: {kind: emulator, dataset: p3ht}
objective: {target: "Conductivity (measured) (S/cm)", direction: max}
strategy: {kind: random}
budget: 2
"""


def kiln(*args: Any) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def test_an_error_line_masks_the_password() -> None:
    result = kiln("list", "--store", f"postgresql+nosuchdriver://kiln:{SECRET}@127.0.0.1:1/k")
    assert result.exit_code == 1
    assert SECRET not in result.stderr and "kiln:***@" in result.stderr


def test_commands_on_a_postgres_store_mask_the_password(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        return  # the error-line test above runs everywhere; this one needs a PostgreSQL server
    url = make_url(fresh_postgres()).set(password=SECRET).render_as_string(hide_password=False)
    spec = tmp_path / "bench.yaml"
    spec.write_text(SPEC)
    results = [
        kiln("create", spec, "--store", url),
        kiln("run", spec, "--store", url),
        kiln("show", "bench", "--store", url),
        kiln("list", "--store", url),
        kiln("show", "nope", "--store", url),
    ]
    for result in results:
        text = result.stdout + result.stderr
        assert SECRET not in text and "***" in text, text
