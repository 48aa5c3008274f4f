"""ExperimentMirror: a campaign's experiments kept up to date from the event log, reading only what changed."""

from __future__ import annotations

import threading
from typing import Any

from kiln.campaign.mirror import ExperimentMirror
from kiln.core.records import Experiment
from kiln.store import open_store
from kiln.store.base import Changes, Store


class CountingStore:
    """A store that counts the experiments its ``changes`` returns."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.rows_read = 0

    def changes(self, campaign: str, after: int = 0) -> Changes:
        answer = self.inner.changes(campaign, after)
        self.rows_read += len(answer.experiments)
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def pending(n: int, start: int = 0) -> list[Experiment]:
    return [Experiment(id=f"e{start + i}", seq=0, params={"x": float(i)}) for i in range(n)]


def test_mirror_sees_every_write_of_another_store_handle_and_reads_only_changes(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    writer, reader = open_store(url), CountingStore(open_store(url))
    writer.create_campaign("c", {})
    writer.add_experiments("c", pending(200))
    mirror = ExperimentMirror(reader, "c")  # type: ignore[arg-type]
    assert mirror.current() == writer.experiments("c") and reader.rows_read == 200
    writer.complete("c", "e5", {"y": 1.0})
    writer.fail("c", "e7", "clogged")
    writer.add_experiments("c", pending(3, start=200))
    seen = mirror.current()
    assert seen == writer.experiments("c")
    assert reader.rows_read == 200 + 5
    assert mirror.current() == seen and reader.rows_read == 205  # nothing new: nothing read


def test_a_returned_list_is_the_callers_own(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    store.create_campaign("c", {})
    store.add_experiments("c", pending(3))
    mirror = ExperimentMirror(store, "c")
    mirror.current().clear()
    assert len(mirror.current()) == 3


def test_threads_sharing_a_mirror_all_see_a_consistent_history(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    store.create_campaign("c", {})
    mirror = ExperimentMirror(store, "c")
    problems: list[str] = []

    def work(k: int) -> None:
        for i in range(20):
            store.add_experiments("c", [Experiment(id=f"t{k}-{i}", seq=0, params={"x": 0.0})])
            seen = mirror.current()
            if [e.seq for e in seen] != list(range(1, len(seen) + 1)):
                problems.append(f"seq gap in {[e.seq for e in seen]}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert mirror.current() == store.experiments("c")


def test_a_campaign_made_again_under_its_name_replaces_the_old_one(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    store.create_campaign("c", {})
    store.add_experiments("c", pending(3))
    mirror = ExperimentMirror(store, "c")
    assert len(mirror.current()) == 3
    store.delete_campaign("c")
    store.create_campaign("c", {})
    store.add_experiments("c", pending(1, start=10))
    assert [(e.id, e.seq) for e in mirror.current()] == [("e10", 1)]
