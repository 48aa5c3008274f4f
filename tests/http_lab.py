"""A simulated lab service speaking the HTTP instrument protocol (kiln.lab.adapters.http), for tests.

It runs in a thread of the test process, so it outlives a `kiln run` that the test kills. Each experiment takes
``latency`` seconds; y = the parameter x. Every POST is logged with its Idempotency-Key.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LabService:
    def __init__(self, latency: float = 0.0, fail_submits: int = 0) -> None:
        self.latency = latency
        self.fail_submits = fail_submits
        self.jobs: dict[str, dict[str, Any]] = {}
        self.posts: list[tuple[str, dict[str, Any]]] = []  # (Idempotency-Key, params)
        self.lock = threading.Lock()
        self.numbers = itertools.count(1)

    def state(self, handle: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(handle)
        if job is None:
            return None
        if job["status"] == "cancelled":
            return {"status": "cancelled"}
        if time.monotonic() < job["ready"]:
            return {"status": "running"}
        x = job["params"].get("x")
        if not isinstance(x, int | float):
            return {"status": "failed", "reason": "no x given"}
        return {"status": "done", "results": {"y": float(x), "colour": "red"}}


def _handler(service: LabService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            params = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with service.lock:
                service.posts.append((self.headers.get("Idempotency-Key", ""), params))
                if service.fail_submits > 0:
                    service.fail_submits -= 1
                    self._send(503, {"detail": "robot busy"})
                    return
                handle = f"job-{next(service.numbers)}"
                service.jobs[handle] = {"params": params, "ready": time.monotonic() + service.latency, "status": ""}
            self._send(201, {"id": handle})

        def do_GET(self) -> None:
            state = service.state(self.path.rsplit("/", 1)[-1])
            self._send(404, {"detail": "unknown"}) if state is None else self._send(200, state)

        def do_DELETE(self) -> None:
            with service.lock:
                job = service.jobs.get(self.path.rsplit("/", 1)[-1])
                if job is not None:
                    job["status"] = "cancelled"
            self._send(200, {})

    return Handler


@contextmanager
def running_service(service: LabService) -> Iterator[str]:
    """Serve ``service`` on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
