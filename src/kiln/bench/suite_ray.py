"""A Ray cluster on this machine for ``kiln bench suite --ray auto``, tests and benchmarks: a head node and any
number of worker nodes, each a ``ray start --block`` child process on 127.0.0.1, stopped on exit.

Ray's own servers listen on every interface (Ray decides that); token authentication guards them. The token is
random, one per process (Ray's client caches the token it first reads), whatever the environment says. The
nodes and this process get it through Ray's ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` environment variables
(this process's are restored on exit). Ray reads the mode when it is imported: a process that connects to the
cluster itself must enter the cluster before its first ``import ray`` (the CLI does), or run with
``RAY_AUTH_MODE=token`` from its start. Nothing is written to the user's ``~/.ray``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from kiln.core.errors import KilnError, ValidationError

_PROCESS_TOKEN = secrets.token_hex(32)
_CPUS = re.compile(r"[0-9.]+/([0-9.]+) CPU")

_NODE_PORTS = (
    "node-manager-port",
    "object-manager-port",
    "metrics-export-port",
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "runtime-env-agent-port",
)

READY_SECONDS = 180.0
"""How long a node may take to start (a deadline for a busy machine, not a wait: ready nodes return at once)."""


class RayStartError(KilnError):
    """A local Ray node did not start; the message quotes the end of its log."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ray_command() -> str:
    beside = Path(sys.executable).parent / "ray"
    return str(beside) if beside.exists() else "ray"


class LocalRayCluster:
    """A head node with ``head_cpus`` CPUs and ``workers`` worker nodes of ``worker_cpus`` CPUs each.

    ``with LocalRayCluster(...) as cluster:`` starts them and waits until every node's CPUs are in the cluster
    (``ray status``); ``cluster.address`` is the head's ``127.0.0.1:PORT``, for ``ray.init`` or ``--ray``.
    """

    def __init__(self, head_cpus: int, workers: int = 0, worker_cpus: int = 1, log_folder: Path | None = None) -> None:
        self.head_cpus, self.workers, self.worker_cpus = head_cpus, workers, worker_cpus
        self.address = f"127.0.0.1:{_free_port()}"
        self.log_folder = log_folder
        self._processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        self._token = _PROCESS_TOKEN
        self._saved_environment: dict[str, str | None] = {}

    def _start(self, arguments: list[str], label: str) -> None:
        folder = self.log_folder or Path(os.environ.get("TMPDIR", "/tmp"))
        log = folder / f"kiln-ray-{os.getpid()}-{label}.log"
        # nodes on one machine need their own ports (Ray's defaults would collide): free ones, chosen here
        arguments = [*arguments, *(f"--{option}={_free_port()}" for option in _NODE_PORTS)]
        with log.open("wb") as handle:
            if not Path(_ray_command()).exists() and shutil.which(_ray_command()) is None:
                raise ValidationError("--ray", "auto", "Ray is not installed here", "pip install 'kiln[cluster]'")
            process = subprocess.Popen(
                [
                    _ray_command(),
                    "start",
                    "--block",
                    "--disable-usage-stats",
                    "--node-ip-address=127.0.0.1",
                    *arguments,
                ],
                stdout=handle,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self._environment(), "RAY_USAGE_STATS_ENABLED": "0"},
            )
        self._processes.append((process, log))

    def _check_alive(self) -> None:
        for process, log in self._processes:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RayStartError(f"a local Ray node exited with code {process.returncode}:\n{tail}")

    def _cpus(self) -> float | None:
        """The cluster's CPUs as ``ray status`` reports them; None while the head does not answer."""
        try:
            result = subprocess.run(
                [_ray_command(), "status", f"--address={self.address}"],
                capture_output=True,
                text=True,
                env={**os.environ, **self._environment()},
                check=False,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            return None
        if result.returncode != 0:
            return None
        match = _CPUS.search(result.stdout)
        return 0.0 if match is None else float(match.group(1))

    def _wait_for_cpus(self, total: int) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            self._check_alive()
            cpus = self._cpus()
            if cpus is not None and cpus >= total:
                return
            if time.monotonic() > deadline:
                raise RayStartError(f"the Ray cluster at {self.address} has not reached {total} CPUs (has {cpus})")
            time.sleep(0.5)

    def _environment(self) -> dict[str, str]:
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self._token}

    def __enter__(self) -> LocalRayCluster:
        port = self.address.rsplit(":", 1)[1]
        environment = self._environment()
        self._saved_environment = {name: os.environ.get(name) for name in environment}
        os.environ.update(environment)
        try:
            self._start(
                ["--head", f"--port={port}", f"--num-cpus={self.head_cpus}", "--include-dashboard=false"], "head"
            )
            self._wait_for_cpus(self.head_cpus)
            for index in range(self.workers):  # one after another: nodes starting together race for resources
                self._start([f"--address={self.address}", f"--num-cpus={self.worker_cpus}"], f"worker{index}")
                self._wait_for_cpus(self.head_cpus + (index + 1) * self.worker_cpus)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Disconnect, then stop the workers and the head (SIGTERM: each ``ray start --block`` stops its own)."""
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            ray.shutdown()
        for process, _ in reversed(self._processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in reversed(self._processes):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.unlink(missing_ok=True)
        self._processes.clear()
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment = {}
