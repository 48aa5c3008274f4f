"""``kiln bench suite`` on Ray: a local head on 127.0.0.1 with no CPUs of its own and two one-CPU worker nodes,
started and stopped here; the runs equal the process-pool runs of the same suite, file for file.

The suite runs in a ``kiln`` subprocess: Ray reads its authentication mode when it is first imported, and this
test process must not depend on whether another test imported Ray before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kiln.bench.suite import SuiteProgress, run_suite
from kiln.bench.suite_ray import LocalRayCluster
from kiln.bench.suite_spec import load_suite

pytest.importorskip("ray")
KILN = Path(sys.executable).parent / "kiln"


def records(folder: Path) -> dict[str, dict[str, object]]:
    """Each run file's record without its wall-clock ``seconds`` (the one field that differs between equal runs)."""
    found = {}
    for path in sorted(folder.rglob("run-*.json")):
        record = json.loads(path.read_text())
        found[str(path.relative_to(folder))] = {k: v for k, v in record.items() if k != "seconds"}
    return found


def test_ray_runs_equal_process_runs(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    body = {"runs": 2, "budget": 5, "seed": 1, "strategies": ["random", "gp-iso-ucb"], "datasets": [{"name": "p3ht"}]}
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    suite = load_suite(path)
    run_suite(suite, tmp_path / "processes", jobs=2)

    mode_before = os.environ.get("RAY_AUTH_MODE")
    with LocalRayCluster(head_cpus=0, workers=2, log_folder=tmp_path) as cluster:
        assert cluster.address.startswith("127.0.0.1:") and os.environ["RAY_AUTH_MODE"] == "token"
        status = subprocess.run(
            [str(KILN.parent / "ray"), "status", f"--address={cluster.address}"], capture_output=True, text=True
        )
        assert "0.0/2.0 CPU" in status.stdout and status.stdout.count(" node_") == 3, status.stdout
        command = [str(KILN), "bench", "suite", str(path), "--out", str(tmp_path / "ray"), "--ray", cluster.address]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "4 runs, 0 already in" in result.stderr
    assert os.environ.get("RAY_AUTH_MODE") == mode_before  # restored
    gone = subprocess.run(
        [str(KILN.parent / "ray"), "status", f"--address={cluster.address}"], capture_output=True, text=True
    )
    assert gone.returncode != 0  # the nodes are stopped

    assert len(records(tmp_path / "ray")) == 4
    assert records(tmp_path / "ray") == records(tmp_path / "processes")
    # --ray auto: a cluster of this machine for the one command, stopped at its end
    command = [str(KILN), "bench", "suite", str(path), "--out", str(tmp_path / "auto"), "--ray", "auto", "--jobs", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert records(tmp_path / "auto") == records(tmp_path / "processes")

    again: list[SuiteProgress] = []
    run_suite(suite, tmp_path / "ray", ray_address="127.0.0.1:1", on_start=again.append)  # nothing left to run
    assert again[0].skipped == 4
