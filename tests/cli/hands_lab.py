"""A lab whose experiments wait for a person (the test), for tests of `kiln run` as a real process: the spec, the
experiments sent to the person and a person who measures them."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.exc import SQLAlchemyError

from kiln import Campaign, KilnError

KILN = Path(sys.executable).parent / "kiln"
NAME = "hands-lab"


def hands_lab(tmp_path: Path, budget: int, lease: dict[str, float] | None = None) -> tuple[list[str], str]:
    """Write campaign ``hands-lab`` (a pool x = 0..49, a manual instrument ``hands``, two in flight, ``budget``
    experiments, ``lease`` settings if given) to ``tmp_path/lab.yaml``; returns the `kiln run` command and the
    store URL (SQLite in ``tmp_path``)."""
    (tmp_path / "pool.csv").write_text("x\n" + "\n".join(str(i) for i in range(50)) + "\n")
    spec: dict[str, Any] = {
        "name": NAME,
        "pool": {"csv": "pool.csv"},
        "objective": {"target": "y", "direction": "max"},
        "strategy": {"kind": "random"},
        "instruments": [{"kind": "manual", "name": "hands", "poll_interval": 0.05}],
        "in_flight": 2,
        "budget": budget,
    }
    if lease is not None:
        spec["lease"] = lease
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump(spec))
    url = f"sqlite:///{tmp_path / 'k.db'}"
    return [str(KILN), "run", str(tmp_path / "lab.yaml"), "--store", url], url


def open_lab(url: str) -> Campaign | None:
    """The campaign, or None while the run has not created it yet."""
    try:
        return Campaign.open(NAME, store=url)
    except (KilnError, SQLAlchemyError):
        return None


def sent_to_hands(url: str) -> list[Any]:
    """The experiments the run has sent to the person (accepted, still pending); none before the campaign exists."""
    campaign = open_lab(url)
    if campaign is None:
        return []
    try:
        return [e for e in campaign.pending() if e.instrument == "hands" and e.handle]
    finally:
        campaign.store.close()


@contextmanager
def person(url: str) -> Iterator[None]:
    """Someone who measures every experiment sent to the hands (y = x), until the block ends."""
    done = threading.Event()

    def work() -> None:
        while not done.is_set():
            campaign = open_lab(url)
            if campaign is not None:
                try:
                    for experiment in sent_to_hands(url):
                        campaign.tell(experiment.id, experiment.params["x"])
                except Exception:
                    pass  # told by the other thread of the run meanwhile
                finally:
                    campaign.store.close()
            time.sleep(0.02)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=30)
