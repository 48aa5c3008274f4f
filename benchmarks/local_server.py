"""``kiln serve`` on loopback for the benchmarks that load the server: start it, wait until it answers, stop it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

KILN = Path(sys.executable).parent / "kiln"


@contextmanager
def local_server(store_url: str, port: int, *, start_timeout: float = 60.0) -> Iterator[tuple[str, list[str]]]:
    """Run ``kiln serve --store store_url --port port``; yields its base URL and, after it stopped, its log lines
    (the list fills when the block ends)."""
    server = subprocess.Popen(
        [str(KILN), "serve", "--store", store_url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    log: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        yield base, log
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            log.extend(server.stderr.read().decode(errors="replace").splitlines())
