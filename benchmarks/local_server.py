"""``kiln serve`` on loopback for the benchmarks that load the server: start it, wait until it answers, stop it."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from kiln.server.auth import create_token
from kiln.store import open_store

KILN = Path(sys.executable).parent / "kiln"


def load_arguments(doc: str | None, *, pairs: int, port: int) -> argparse.Namespace:
    """The options of a load script: --clients, --pairs, --store (a URL; a fresh SQLite file by default), --port."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=pairs)
    parser.add_argument("--store", default="")
    parser.add_argument("--port", type=int, default=port)
    return parser.parse_args()


def admin_token(store_url: str, label: str) -> str:
    """The secret of a new admin token in the store at ``store_url``."""
    store = open_store(store_url)
    try:
        return create_token(store, f"{label}-admin-{time.time_ns()}", "admin")[1]
    finally:
        store.close()


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


def run_clients(worker: Callable[[], None], clients: int) -> float:
    """Run ``worker`` in ``clients`` threads at once; the seconds until the last one finished."""
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began
