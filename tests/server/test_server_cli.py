"""`kiln token` and `kiln serve` as commands: tokens made, listed, revoked; a real server answering on loopback."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from kiln.cli.app import app

KILN = Path(sys.executable).parent / "kiln"


def test_token_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "k.db")
    made = runner.invoke(app, ["token", "create", "robot", "--scope", "write", "--campaign", "films", "--store", db])
    assert made.exit_code == 0 and "films" in made.stdout
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("kiln_") and secret not in Path(db).read_bytes().decode(errors="replace")
    listing = runner.invoke(app, ["token", "list", "--store", db])
    assert "robot: write, films, live" in listing.stdout
    assert runner.invoke(app, ["token", "revoke", "robot", "--store", db]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["token", "list", "--store", db]).stdout
    bad = runner.invoke(app, ["token", "create", "x", "--scope", "god", "--store", db])
    assert bad.exit_code == 1 and "--scope" in bad.stderr
    missing = runner.invoke(app, ["token", "revoke", "nobody", "--store", db])
    assert missing.exit_code == 1 and "kiln token list" in missing.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "serve.log"  # the server's output goes to a file: reading it never waits on the process
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(KILN), "serve", "--store", str(tmp_path / "k.db"), "--port", str(port), "--public-read"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/campaigns", timeout=60)
                break
            except httpx.TransportError:
                alive = process.poll() is None
                assert alive and time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
        assert answer.status_code == 200 and answer.json() == []
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=60).json()["openapi"].startswith("3.")
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=60)
