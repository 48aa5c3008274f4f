"""The run lease: one run drives a campaign at a time; the heartbeat keeps it; a dead holder is taken over (at
once on this host, after the expiry elsewhere); a run whose lease was taken over is told. Waits are for states."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import pytest

from kiln import Campaign, CandidatePool, Objective
from kiln.core.errors import ConflictError, SpecError, ValidationError
from kiln.lab.lease import LeaseSettings, RunLease
from kiln.lab.spec import spec_from_dict

FAST = LeaseSettings(expiry=1.0, heartbeat=0.05)
STEADY = LeaseSettings(expiry=120.0, heartbeat=0.05)  # for tests in which no lease may expire on a busy machine


@pytest.fixture
def campaign(store_url: str) -> Campaign:
    pool = CandidatePool(["x"], [[float(i)] for i in range(10)])
    return Campaign.create("c", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url)


def _until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)


def test_a_second_run_is_refused_naming_the_first(campaign: Campaign) -> None:
    with RunLease(campaign, STEADY) as first:
        with pytest.raises(ConflictError) as refused:
            RunLease(campaign, STEADY).acquire()
        message = str(refused.value)
        assert f"process {first.pid} on host {socket.gethostname()!r} since" in message
        assert "wait for it to finish or stop it with Ctrl-C" in message and "lease expires in" in message
        lease = campaign.store.get_lease("c")
        assert lease is not None and lease.owner == first.owner  # the refused run changed nothing
    assert campaign.store.get_lease("c") is None  # released on exit
    with RunLease(campaign, STEADY) as again:
        assert again.took_over is None


def test_the_heartbeat_moves_the_expiry_on(campaign: Campaign) -> None:
    with RunLease(campaign, STEADY) as held:
        assert held.record is not None
        first = held.record

        def renewed() -> bool:
            lease = campaign.store.get_lease("c")
            return lease is not None and lease.heartbeat_at > first.heartbeat_at and lease.since == first.since

        _until(renewed, "a heartbeat")
        lease = campaign.store.get_lease("c")
        assert lease is not None and lease.expires_at - lease.heartbeat_at == first.expires_at - first.heartbeat_at
        assert lease.expires_at > first.expires_at and held.valid()
        with pytest.raises(ConflictError):
            RunLease(campaign, STEADY).acquire()


def test_a_holder_elsewhere_is_taken_over_only_after_its_lease_expires(campaign: Campaign) -> None:
    held = campaign.store.acquire_lease("c", "robot-pc-run", host="robot-pc", pid=999, expiry=60)
    with pytest.raises(ConflictError, match="process 999 on host 'robot-pc'"):
        RunLease(campaign, FAST).acquire()
    lease = campaign.store.get_lease("c")
    assert lease is not None and lease.owner == "robot-pc-run"  # the refused run changed nothing
    # robot-pc renews its own lease with a short expiry (then, say, loses its machine): it is taken over once that
    # expiry has passed, however long that takes to come on this machine
    gone = campaign.store.acquire_lease("c", "robot-pc-run", host="robot-pc", pid=999, expiry=0.5)
    assert gone.since == held.since
    taken: list[RunLease] = []

    def try_again() -> bool:
        lease = RunLease(campaign, FAST)
        try:
            lease.acquire()
        except ConflictError:
            return False
        taken.append(lease)
        return True

    _until(try_again, "the lease of robot-pc expires")
    try:
        assert taken[0].took_over == gone
        assert taken[0].record is not None and taken[0].record.since >= gone.expires_at  # not before it expired
    finally:
        taken[0].release()


def test_a_dead_process_on_this_host_is_taken_over_at_once(campaign: Campaign) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(ended.stdout)
    gone = campaign.store.acquire_lease("c", "crashed-run", host=socket.gethostname(), pid=dead_pid, expiry=3600)
    with RunLease(campaign, STEADY) as lease:
        assert lease.took_over == gone


def test_a_run_whose_lease_was_taken_over_is_told_and_releases_nothing(campaign: Campaign) -> None:
    lost = threading.Event()
    lease = RunLease(campaign, STEADY, on_lost=lost.set)
    lease.acquire()
    try:  # e.g. this process stalled past the expiry and another run took over
        other = campaign.store.acquire_lease("c", "other-run", host="h", pid=1, expiry=60, replace=lease.owner)
        assert lost.wait(timeout=60) and lease.lost and not lease.valid()
    finally:
        lease.release()
    assert campaign.store.get_lease("c") == other


@pytest.mark.parametrize(
    ("lease", "field"),
    [({"expiry": 0}, "lease: expiry"), ({"expiry": 5, "heartbeat": 5}, "lease: heartbeat"), ({"every": 1}, "lease")],
)
def test_bad_lease_settings_name_the_field(lease: dict[str, float], field: str) -> None:
    document = {
        "name": "c",
        "space": {"parameters": [{"name": "x", "type": "continuous", "low": 0, "high": 1}]},
        "objective": {"target": "y", "direction": "max"},
        "lease": lease,
    }
    with pytest.raises(SpecError) as error:
        spec_from_dict(document)
    assert error.value.field == field
    with pytest.raises(ValidationError):
        LeaseSettings(expiry=2, heartbeat=3)


def test_a_spec_sets_the_lease() -> None:
    document = {
        "name": "c",
        "space": {"parameters": [{"name": "x", "type": "continuous", "low": 0, "high": 1}]},
        "objective": {"target": "y", "direction": "max"},
        "lease": {"expiry": 12, "heartbeat": 2},
    }
    assert spec_from_dict(document).lease == LeaseSettings(expiry=12, heartbeat=2)
    assert spec_from_dict({**document, "lease": None}).lease.interval == 5.0  # 30 s, a beat every 5 s
