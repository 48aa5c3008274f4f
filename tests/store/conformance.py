"""Conformance suite of the Store protocol (see ``kiln.store.base``).

Every Store implementation runs it: subclass ``StoreConformance`` in a test module that provides a ``store``
fixture yielding a fresh, empty store (``test_conformance.py`` does it for each backend).
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from kiln.core.errors import ConflictError, KilnError, LeaseHeldError, NotFoundError, StateError, ValidationError
from kiln.core.records import Change, Experiment, ExperimentStatus, Origin
from kiln.store.base import Store


def exp(exp_id: str, **fields: Any) -> Experiment:
    """A pending suggestion with a given id (seq is ignored by stores)."""
    fields.setdefault("params", {"temperature": 120.0, "solvent": "toluene"})
    fields.setdefault("seq", 0)
    return Experiment(id=exp_id, **fields)


def kinds(store: Store, campaign: str | None = None) -> list[str]:
    return [event.kind for event in store.events(campaign)]


def race_a_discard(store: Store, action: str, act: Callable[[str], object]) -> dict[str, list[str]]:
    """Campaign ``c`` with eight pending experiments e0..e7, each discarded and given to ``act`` at the same time
    from two threads; returns each id's two outcomes: ``"discard"`` or ``action`` for a call that succeeded,
    ``"refused"`` for one that raised StateError."""
    store.create_campaign("c", {})
    store.add_experiments("c", [exp(f"e{i}") for i in range(8)])
    outcomes: dict[str, list[str]] = {f"e{i}": [] for i in range(8)}
    lock = threading.Lock()

    def attempt(exp_id: str, which: str) -> None:
        try:
            if which == "discard":
                store.discard("c", exp_id, note="not needed")
            else:
                act(exp_id)
            outcome = which
        except StateError:
            outcome = "refused"
        with lock:
            outcomes[exp_id].append(outcome)

    threads = [
        threading.Thread(target=attempt, args=(exp_id, which)) for exp_id in outcomes for which in ("discard", action)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


class StoreConformance:
    """Behaviour every Store must show. Needs a ``store`` fixture: a new empty store per test."""

    # -- campaigns ------------------------------------------------------------------------------------------

    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert isinstance(store.url, str)

    def test_campaign_round_trip(self, store: Store) -> None:
        config = {"schema_version": 1, "space": [{"name": "t", "low": 0.0, "high": 1.5}], "note": None}
        created = store.create_campaign("p3ht", config)
        assert created.name == "p3ht"
        assert created.config == config
        assert store.get_campaign("p3ht") == created
        assert [c.name for c in store.list_campaigns()] == ["p3ht"]

    def test_list_campaigns_oldest_first(self, store: Store) -> None:
        for name in ["zeta", "alpha", "mid"]:
            store.create_campaign(name, {})
        assert [c.name for c in store.list_campaigns()] == ["zeta", "alpha", "mid"]
        assert store.list_campaigns() == sorted(store.list_campaigns(), key=lambda c: c.created_at)

    def test_duplicate_campaign_conflicts_and_changes_nothing(self, store: Store) -> None:
        store.create_campaign("a", {"v": 1})
        with pytest.raises(ConflictError, match="'a' exists already"):
            store.create_campaign("a", {"v": 2})
        assert store.get_campaign("a").config == {"v": 1}
        assert kinds(store) == ["campaign_created"]

    @pytest.mark.parametrize(
        "name", ["a", "A9", "p3ht-run_2.1", "7up", "x" * 200, "Überprüfung-α", "é", "薄膜.2024", "Ω" * 200]
    )
    def test_valid_campaign_names(self, store: Store, name: str) -> None:
        assert store.create_campaign(name, {}).name == name
        assert store.get_campaign(name).name == name and [c.name for c in store.list_campaigns()] == [name]
        store.add_experiments(name, [exp("e1")])
        assert [e.id for e in store.experiments(name)] == ["e1"]

    @pytest.mark.parametrize(
        "name",
        [
            "",
            "-a",
            "_a",
            ".a",
            "a b",
            "a/b",
            "a:b",
            "x" * 201,
            "a\n",
            12,
            "a\x00",
            "a%2F",
            "e\u0301t\u00e9",
            "α\u2009β",
        ],
    )
    def test_invalid_campaign_names(self, store: Store, name: Any) -> None:
        with pytest.raises(ValidationError) as info:
            store.create_campaign(name, {})
        assert info.value.field == "name"
        assert store.list_campaigns() == []

    def test_config_must_be_json(self, store: Store) -> None:
        for config in [{"x": float("nan")}, {"x": object()}, {1: "a"}, ["not", "a", "dict"]]:
            with pytest.raises(ValidationError):
                store.create_campaign("c", config)  # type: ignore[arg-type]
        assert store.list_campaigns() == []

    def test_unknown_campaign_lists_known_names(self, store: Store) -> None:
        with pytest.raises(NotFoundError, match="no campaigns yet"):
            store.get_campaign("nope")
        names = [f"c{i:02d}" for i in range(12)]
        for name in names:
            store.create_campaign(name, {})
        with pytest.raises(NotFoundError) as info:
            store.get_campaign("nope")
        message = str(info.value)
        assert "'nope'" in message
        assert all(name in message for name in names[:10])
        assert "c10" not in message and "c11" not in message
        assert isinstance(info.value, KilnError) and isinstance(info.value, KeyError)

    def test_unknown_campaign_in_every_method(self, store: Store) -> None:
        store.create_campaign("real", {})
        calls = [
            lambda: store.delete_campaign("ghost"),
            lambda: store.add_experiments("ghost", [exp("e1")]),
            lambda: store.add_experiments("ghost", []),
            lambda: store.complete("ghost", "e1", {"y": 1.0}),
            lambda: store.add_results("ghost", "e1", {"y": 1.0}),
            lambda: store.fail("ghost", "e1", "broken"),
            lambda: store.experiments("ghost"),
            lambda: store.get_experiment("ghost", "e1"),
            lambda: store.events("ghost"),
            lambda: store.amend("ghost", "e1", results={"y": 1.0}, note="x"),
            lambda: store.retract("ghost", "e1", note="x"),
            lambda: store.discard("ghost", "e1"),
            lambda: store.history("ghost", "e1"),
            lambda: store.revisions("ghost"),
        ]
        for call in calls:
            with pytest.raises(NotFoundError, match="real"):
                call()

    # -- experiments ----------------------------------------------------------------------------------------

    def test_experiment_round_trip(self, store: Store) -> None:
        store.create_campaign("c", {})
        created = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
        given = [
            exp(
                "e-1",
                params={"t": 1.5, "n": 3, "s": "x", "v": [1, 2]},
                strategy="qlognei",
                batch=2,
                candidate=7,
            ),
            Experiment(
                id="e-2",
                seq=0,
                params={"t": 2.0},
                status=ExperimentStatus.COMPLETED,
                origin=Origin.IMPORTED,
                results={"y": 0.25, "z": -3.0},
                created_at=created,
                finished_at=created + timedelta(hours=1),
            ),
            Experiment(
                id="e-3",
                seq=0,
                params={},
                status=ExperimentStatus.FAILED,
                origin=Origin.IMPORTED,
                reason="spill",
            ),
        ]
        stored = store.add_experiments("c", given)
        for original, record in zip(given, stored, strict=True):
            assert record == dataclasses.replace(original, seq=record.seq, finished_at=record.finished_at)
            assert isinstance(record.status, ExperimentStatus) and isinstance(record.origin, Origin)
        assert stored[1].finished_at == created + timedelta(hours=1)
        assert stored[2].finished_at is not None  # imported without a finish time gets one
        assert store.experiments("c") == stored
        assert [store.get_experiment("c", e.id) for e in given] == stored

    def test_seq_assigned_in_creation_order(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.create_campaign("d", {})
        first = store.add_experiments("c", [exp("a", seq=99), exp("b", seq=-1), exp("c")])
        second = store.add_experiments("c", [exp("d"), exp("e")])
        other = store.add_experiments("d", [exp("f")])
        assert [e.seq for e in first + second] == [1, 2, 3, 4, 5]
        assert [e.id for e in store.experiments("c")] == ["a", "b", "c", "d", "e"]
        assert [e.seq for e in other] == [1]

    def test_add_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        assert store.add_experiments("c", []) == []
        assert kinds(store) == ["campaign_created"]

    def test_existing_id_conflicts_and_adds_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.create_campaign("d", {})
        store.add_experiments("c", [exp("e1")])
        before = store.events()
        for campaign in ["c", "d"]:  # ids are unique across the whole store
            with pytest.raises(ConflictError, match="e1"):
                store.add_experiments(campaign, [exp("e2"), exp("e1"), exp("e3")])
        assert [e.id for e in store.experiments("c")] == ["e1"]
        assert store.experiments("d") == []
        assert store.events() == before

    def test_duplicate_id_inside_batch_adds_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        with pytest.raises(ConflictError, match="dup"):
            store.add_experiments("c", [exp("x1"), exp("dup"), exp("dup")])
        assert store.experiments("c") == []
        assert store.add_experiments("c", [exp("x1")])[0].seq == 1  # nothing half-written

    def test_malformed_experiments_add_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        bad = [
            exp("e2", params={"t": float("inf")}),
            exp("e2", params={"t": object()}),
            exp("e2", reason="why"),  # pending with a reason
            exp("e2", finished_at=datetime(2024, 1, 1, tzinfo=UTC)),  # pending but finished
            exp("e2", created_at=datetime(2024, 1, 1)),  # naive
            exp(""),
            exp("x" * 65),
        ]
        for experiment in bad:
            with pytest.raises(ValidationError):
                store.add_experiments("c", [exp("e1"), experiment])
        assert store.experiments("c") == []

    def test_unknown_experiment(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.create_campaign("d", {})
        store.add_experiments("d", [exp("in-d")])
        for call in [
            lambda: store.get_experiment("c", "nope"),
            lambda: store.get_experiment("c", "in-d"),  # exists, but in another campaign
            lambda: store.complete("c", "in-d", {"y": 1.0}),
            lambda: store.fail("c", "nope", "why"),
        ]:
            with pytest.raises(NotFoundError, match="not found in campaign 'c'"):
                call()
        assert store.get_experiment("d", "in-d").status is ExperimentStatus.PENDING

    # -- complete / fail ------------------------------------------------------------------------------------

    def test_complete(self, store: Store) -> None:
        store.create_campaign("c", {})
        pending = store.add_experiments("c", [exp("e1"), exp("e2")])[0]
        at = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)
        done = store.complete("c", "e1", {"yield": 0.75, "cost": 3}, at=at)
        assert done == dataclasses.replace(
            pending, status=ExperimentStatus.COMPLETED, results={"yield": 0.75, "cost": 3.0}, finished_at=at
        )
        assert store.get_experiment("c", "e1") == done
        assert store.get_experiment("c", "e2").status is ExperimentStatus.PENDING

    def test_fail(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        failed = store.fail("c", "e1", "furnace tripped")
        assert failed.status is ExperimentStatus.FAILED
        assert failed.reason == "furnace tripped"
        assert failed.results == {}
        assert failed.finished_at is not None and failed.finished_at >= failed.created_at
        assert store.get_experiment("c", "e1") == failed

    def test_dispatch_is_recorded_before_and_after_the_instrument_accepts(self, store: Store) -> None:
        store.create_campaign("c", {})
        (added,) = store.add_experiments("c", [exp("e1")])
        assert (added.instrument, added.handle, added.dispatched_at, added.attention) == ("", "", None, "")
        sending = store.dispatch("c", "e1", "robot")
        assert (sending.instrument, sending.handle) == ("robot", "")
        assert sending.dispatched_at is not None and sending.status is ExperimentStatus.PENDING
        accepted = store.dispatch("c", "e1", "robot", "job-17")
        assert accepted.handle == "job-17" and store.get_experiment("c", "e1") == accepted
        assert accepted.dispatched_at == sending.dispatched_at  # when it was sent, not when the answer came
        store.add_experiments("c", [exp("e2")])
        assert store.dispatch("c", "e2", "robot", "job-18").dispatched_at is not None
        assert kinds(store, "c")[-4:] == [
            "experiment_dispatched",
            "experiment_dispatched",
            "experiments_added",
            "experiment_dispatched",
        ]
        done = store.complete("c", "e1", {"yield": 1.0})
        assert (done.instrument, done.handle) == ("robot", "job-17")  # kept with the finished record

    def test_outputs_are_kept_with_the_result(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        steps = {"steps": [{"step": "anneal", "values": {"T": 410.5}}], "colour": "red"}
        done = store.complete("c", "e1", {"yield": 1.0}, outputs=steps)
        assert done.outputs == steps and store.get_experiment("c", "e1").outputs == steps
        assert store.complete("c", "e2", {"yield": 2.0}).outputs == {}
        with pytest.raises(ValidationError, match="outputs"):
            store.complete("c", "e1", {"yield": 1.0}, outputs={"bad": float("nan")})

    def test_a_note_is_kept_with_the_result(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        note = "film cracked at the edge; Überprüfung nötig ✓"
        done = store.complete("c", "e1", {"yield": 1.0}, note=note)
        assert done.note == note and store.get_experiment("c", "e1").note == note
        assert store.complete("c", "e2", {"yield": 2.0}).note == ""
        assert store.add_experiments("c", [exp("e3")])[0].note == ""

    @pytest.mark.parametrize("bad", ["x" * 10_001, "a\x00b", 3])
    def test_a_bad_note_is_refused_and_changes_nothing(self, store: Store, bad: Any) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        with pytest.raises(ValidationError, match="note"):
            store.complete("c", "e1", {"yield": 1.0}, note=bad)
        assert store.get_experiment("c", "e1").status is ExperimentStatus.PENDING

    def test_imports_keep_outputs_and_notes(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        imported = exp(
            "e3",
            status=ExperimentStatus.COMPLETED,
            origin=Origin.IMPORTED,
            results={"yield": 3.0},
            outputs={"purity": 0.93, "trace": [1, 2]},
            note="from the old notebook",
        )
        told, plain, added = store.record_results(
            "c", [("e1", {"yield": 1.0}, {"colour": "red"}, "hazy"), ("e2", {"yield": 2.0})], [imported]
        )
        assert (told.outputs, told.note) == ({"colour": "red"}, "hazy")
        assert (plain.outputs, plain.note) == ({}, "")
        assert (added.outputs, added.note) == ({"purity": 0.93, "trace": [1, 2]}, "from the old notebook")
        assert [store.get_experiment("c", i) for i in ("e1", "e2", "e3")] == [told, plain, added]
        store.add_experiments("c", [exp("e4")])
        with pytest.raises(ValidationError, match="note"):
            store.record_results("c", [("e4", {"yield": 1.0}, None, "a\x00")], [])
        assert store.get_experiment("c", "e4").status is ExperimentStatus.PENDING

    def test_dispatch_and_flag_need_a_pending_experiment(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        store.fail("c", "e1", "broken")
        with pytest.raises(StateError, match="already failed"):
            store.dispatch("c", "e1", "robot")
        with pytest.raises(StateError):
            store.flag("c", "e1", "look")
        with pytest.raises(NotFoundError):
            store.dispatch("c", "nope", "robot")
        with pytest.raises(ValidationError, match="instrument"):
            store.dispatch("c", "e1", "")
        assert store.get_experiment("c", "e1").instrument == ""

    def test_dispatch_compare_and_set_lets_one_run_take_an_experiment(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        store.dispatch("c", "e1", "robot-a", expect=("", ""))
        with pytest.raises(StateError, match="dispatched meanwhile"):
            store.dispatch("c", "e1", "robot-b", expect=("", ""))  # a second run read it before the first took it
        assert store.dispatch("c", "e1", "robot-a", "job-1", expect=("robot-a", "")).handle == "job-1"
        with pytest.raises(StateError):
            store.dispatch("c", "e1", "robot-a", "job-2", expect=("robot-a", ""))
        assert store.get_experiment("c", "e1").handle == "job-1"

    def test_tokens_round_trip_and_revoke(self, store: Store) -> None:
        from kiln.core.records import TokenRecord

        made = store.add_token(TokenRecord("robot", "write", ("films",), "a" * 64))
        assert (made.name, made.scope, made.campaigns, made.revoked_at) == ("robot", "write", ("films",), None)
        store.add_token(TokenRecord("viewer", "read", None, "b" * 64))
        assert [t.name for t in store.list_tokens()] == ["robot", "viewer"]
        assert store.token_by_hash("a" * 64) == made and store.token_by_hash("c" * 64) is None
        with pytest.raises(ConflictError, match="robot"):
            store.add_token(TokenRecord("robot", "read", None, "d" * 64))
        revoked = store.revoke_token("robot")
        assert revoked.revoked_at is not None and store.token_by_hash("a" * 64) is None
        with pytest.raises(NotFoundError, match="kiln token list"):
            store.revoke_token("nobody")

    def test_flag_marks_and_clears(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        assert store.flag("c", "e1", "in flight at a crash; check the robot").attention.startswith("in flight")
        assert store.get_experiment("c", "e1").attention != ""
        assert store.flag("c", "e1", "").attention == ""
        assert "experiment_flagged" in kinds(store, "c")

    def test_record_results_completes_and_adds_in_one_go(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        imported = exp("e3", status=ExperimentStatus.COMPLETED, origin=Origin.IMPORTED, results={"yield": 2.0})
        stored = store.record_results("c", [("e2", {"yield": 1.5})], [imported])
        assert [(e.id, e.seq, e.status) for e in stored] == [
            ("e2", 2, ExperimentStatus.COMPLETED),
            ("e3", 3, ExperimentStatus.COMPLETED),
        ]
        assert stored[0].results == {"yield": 1.5}
        assert store.get_experiment("c", "e1").status is ExperimentStatus.PENDING

    def test_record_results_is_all_or_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        store.complete("c", "e2", {"yield": 1.0})
        before = store.experiments("c"), kinds(store, "c")
        imported = exp("e3", status=ExperimentStatus.COMPLETED, origin=Origin.IMPORTED, results={"yield": 2.0})
        with pytest.raises(StateError):  # e2 is finished: the completion of e1 and the new row are rolled back
            store.record_results("c", [("e1", {"yield": 1.5}), ("e2", {"yield": 9.0})], [imported])
        with pytest.raises(ConflictError):  # an existing id among the new rows
            store.record_results("c", [("e1", {"yield": 1.5})], [exp("e2", status=ExperimentStatus.COMPLETED)])
        assert (store.experiments("c"), kinds(store, "c")) == before

    def test_finished_experiments_cannot_be_told_again(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        done = store.complete("c", "e1", {"y": 1.0})
        store.fail("c", "e2", "broken")
        with pytest.raises(StateError, match="e1 is already completed"):
            store.complete("c", "e1", {"y": 2.0})
        with pytest.raises(StateError, match="e1 is already completed"):
            store.fail("c", "e1", "late")
        with pytest.raises(StateError, match="e2 is already failed"):
            store.complete("c", "e2", {"y": 2.0})
        assert store.get_experiment("c", "e1") == done
        assert kinds(store).count("experiment_completed") == 1

    def test_bad_results_change_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        for results in [{"y": "high"}, {"y": float("nan")}, {"y": None}, [1.0]]:
            with pytest.raises(ValidationError):
                store.complete("c", "e1", results)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="timezone-aware"):
            store.complete("c", "e1", {"y": 1.0}, at=datetime(2024, 1, 1))
        assert store.get_experiment("c", "e1").status is ExperimentStatus.PENDING

    def test_racing_completions_have_one_winner(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        outcomes: list[str] = []
        barrier = threading.Barrier(8)

        def tell(i: int) -> None:
            barrier.wait()
            try:
                store.complete("c", "e1", {"y": float(i)})
                outcomes.append("ok")
            except StateError:
                outcomes.append("state")
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=tell, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ok"] + ["state"] * 7
        assert kinds(store).count("experiment_completed") == 1

    # -- partial results ------------------------------------------------------------------------------------

    def test_partial_results_stay_pending_until_every_quantity_has_a_value(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        cursor = store.events("c")[-1].cursor
        part = store.add_results("c", "e1", {"yield": 82.0}, required=["yield", "cost"], outputs={"a": 1}, note="day 1")
        assert (part.status, dict(part.results), part.finished_at) == (ExperimentStatus.PENDING, {"yield": 82.0}, None)
        assert store.changes("c", after=cursor).experiments == [part]
        at = datetime(2030, 1, 2, tzinfo=UTC)
        done = store.add_results(
            "c", "e1", {"cost": 3.1}, required=["yield", "cost"], at=at, outputs={"b": 2}, note="day 2"
        )
        assert (done.status, dict(done.results), done.finished_at) == (
            ExperimentStatus.COMPLETED,
            {"yield": 82.0, "cost": 3.1},
            at,
        )
        assert (dict(done.outputs), done.note) == ({"a": 1, "b": 2}, "day 1\nday 2")
        assert [(e.kind, dict(e.payload)) for e in store.events("c")][-2:] == [
            ("experiment_results_added", {"id": "e1", "results": {"yield": 82.0}}),
            ("experiment_completed", {"id": "e1", "results": {"yield": 82.0, "cost": 3.1}}),
        ]
        assert store.get_experiment("c", "e1") == done

    def test_without_required_names_add_results_completes_at_once(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        done = store.add_results("c", "e1", {"y": 1.0})
        assert (done.status, dict(done.results)) == (ExperimentStatus.COMPLETED, {"y": 1.0})
        assert done.finished_at is not None

    def test_a_quantity_told_twice_is_refused_and_changes_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2"), exp("e3")])
        store.add_results("c", "e1", {"yield": 82.0}, required=["yield", "cost"])
        store.complete("c", "e2", {"yield": 1.0, "cost": 2.0})
        store.fail("c", "e3", "clogged")
        before = store.experiments("c"), kinds(store, "c")
        with pytest.raises(StateError, match=r"e1 has a value for \['yield'\] already \(yield=82\).*use amend"):
            store.add_results("c", "e1", {"yield": 80.0, "cost": 1.0}, required=["yield", "cost"])
        with pytest.raises(StateError, match="e2 is already completed"):
            store.add_results("c", "e2", {"other": 1.0}, required=["yield", "cost"])
        with pytest.raises(StateError, match="e3 is already failed"):
            store.add_results("c", "e3", {"cost": 1.0})
        for bad in [{}, {"cost": float("nan")}, {"cost": "x"}, [1.0]]:
            with pytest.raises(ValidationError):
                store.add_results("c", "e1", bad, required=["yield", "cost"])  # type: ignore[arg-type]
        for required in ["cost", [1]]:
            with pytest.raises(ValidationError, match="required"):
                store.add_results("c", "e1", {"cost": 1.0}, required=required)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="NUL"):
            store.add_results("c", "e1", {"cost": 1.0}, note="a\x00")
        with pytest.raises(NotFoundError, match="ghost"):
            store.add_results("c", "ghost", {"cost": 1.0})
        assert (store.experiments("c"), kinds(store, "c")) == before

    def test_complete_keeps_partial_results_and_refuses_them_twice(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        store.add_results("c", "e1", {"a": 1.0}, required=["a", "b"], outputs={"raw": [1]})
        done = store.complete("c", "e1", {"b": 2.0})
        assert (done.status, dict(done.results), dict(done.outputs)) == (
            ExperimentStatus.COMPLETED,
            {"a": 1.0, "b": 2.0},
            {"raw": [1]},
        )
        store.add_results("c", "e2", {"a": 1.0}, required=["a", "b"])
        with pytest.raises(StateError, match=r"e2 has a value for \['a'\]"):
            store.complete("c", "e2", {"a": 3.0, "b": 2.0})
        with pytest.raises(StateError, match=r"e2 has a value for \['a'\]"):
            store.record_results("c", [("e2", {"a": 3.0, "b": 2.0})], [])
        assert store.get_experiment("c", "e2").status is ExperimentStatus.PENDING

    def test_racing_partial_results_all_land_and_one_completes(self, store: Store) -> None:
        store.create_campaign("c", {})
        ids = [f"e{i}" for i in range(6)]
        store.add_experiments("c", [exp(i) for i in ids])
        quantities = ["a", "b", "c"]
        errors: list[str] = []
        barrier = threading.Barrier(len(quantities))

        def tell(name: str) -> None:
            barrier.wait()
            for exp_id in ids:
                try:
                    store.add_results("c", exp_id, {name: 1.0}, required=quantities)
                except Exception as exc:  # pragma: no cover - reported by the assertion below
                    errors.append(repr(exc))

        threads = [threading.Thread(target=tell, args=(name,)) for name in quantities]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert all(
            (e.status, dict(e.results)) == (ExperimentStatus.COMPLETED, {"a": 1.0, "b": 1.0, "c": 1.0})
            for e in store.experiments("c")
        )
        assert kinds(store, "c").count("experiment_completed") == len(ids)
        assert kinds(store, "c").count("experiment_results_added") == 2 * len(ids)

    def test_racing_tells_of_one_quantity_have_one_winner(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        outcomes: list[str] = []
        barrier = threading.Barrier(6)

        def tell(i: int) -> None:
            barrier.wait()
            try:
                store.add_results("c", "e1", {"a": float(i)}, required=["a", "b"])
                outcomes.append("ok")
            except StateError:
                outcomes.append("state")

        threads = [threading.Thread(target=tell, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ok"] + ["state"] * 5
        assert store.get_experiment("c", "e1").status is ExperimentStatus.PENDING

    def test_record_results_with_required_adds_values_and_keeps_partial_imports(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        store.add_results("c", "e2", {"a": 1.0}, required=["a", "b"])
        partial = exp("e3", origin=Origin.IMPORTED, results={"a": 5.0})
        stored = store.record_results("c", [("e1", {"a": 2.0}), ("e2", {"b": 3.0})], [partial], required=["a", "b"])
        assert [(e.id, e.status, dict(e.results)) for e in stored] == [
            ("e1", ExperimentStatus.PENDING, {"a": 2.0}),
            ("e2", ExperimentStatus.COMPLETED, {"a": 1.0, "b": 3.0}),
            ("e3", ExperimentStatus.PENDING, {"a": 5.0}),
        ]
        before = store.experiments("c"), kinds(store, "c")
        with pytest.raises(StateError, match="e2 is already completed"):  # all or nothing
            store.record_results("c", [("e3", {"b": 1.0}), ("e2", {"b": 9.0})], [], required=["a", "b"])
        with pytest.raises(StateError, match=r"e1 has a value for \['a'\]"):
            store.record_results("c", [("e1", {"a": 1.0})], [], required=["a", "b"])
        assert (store.experiments("c"), kinds(store, "c")) == before

    def test_amend_corrects_a_partly_measured_pending_experiment(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        store.add_results("c", "e1", {"a": 1.0}, required=["a", "b"])
        fixed = store.amend("c", "e1", results={"a": 1.5}, note="misread")
        assert (fixed.status, dict(fixed.results), fixed.amended) == (ExperimentStatus.PENDING, {"a": 1.5}, 1)
        assert [(r.number, r.status, dict(r.results)) for r in store.history("c", "e1")] == [
            (0, ExperimentStatus.PENDING, {"a": 1.0}),
            (1, ExperimentStatus.PENDING, {"a": 1.5}),
        ]
        before = store.experiments("c"), kinds(store, "c")
        with pytest.raises(StateError, match="fail it"):
            store.amend("c", "e1", failure="broken", note="x")
        with pytest.raises(ValidationError, match="different"):
            store.amend("c", "e1", results={"a": 1.5}, note="same")
        assert (store.experiments("c"), kinds(store, "c")) == before
        done = store.add_results("c", "e1", {"b": 2.0}, required=["a", "b"])
        assert (done.status, dict(done.results), done.amended) == (ExperimentStatus.COMPLETED, {"a": 1.5, "b": 2.0}, 1)
        last = store.history("c", "e1")[-1]  # the history goes on with the values added after the correction
        assert (last.number, last.change, last.status, dict(last.results)) == (
            2,
            Change.RECORDED,
            ExperimentStatus.COMPLETED,
            {"a": 1.5, "b": 2.0},
        )

    # -- events ---------------------------------------------------------------------------------------------

    def test_every_change_logs_an_event(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        store.complete("c", "e1", {"y": 0.5})
        store.fail("c", "e2", "clogged")
        log = store.events()
        assert [(e.campaign, e.kind, dict(e.payload)) for e in log] == [
            ("c", "campaign_created", {"name": "c"}),
            ("c", "experiments_added", {"ids": ["e1", "e2"]}),
            ("c", "experiment_completed", {"id": "e1", "results": {"y": 0.5}}),
            ("c", "experiment_failed", {"id": "e2", "reason": "clogged"}),
        ]

    def test_event_cursors_after_limit_and_filter(self, store: Store) -> None:
        for name in ["a", "b"]:
            store.create_campaign(name, {})
            store.add_experiments(name, [exp(f"{name}1"), exp(f"{name}2")])
        store.complete("a", "a1", {"y": 1.0})
        everything = store.events()
        cursors = [e.cursor for e in everything]
        assert cursors == sorted(set(cursors)) and len(cursors) == 5
        assert store.events(after=cursors[1]) == everything[2:]
        assert store.events(after=cursors[-1]) == []
        assert store.events(limit=2) == everything[:2]
        assert store.events(after=cursors[0], limit=2) == everything[1:3]
        only_a = store.events("a")
        assert [e.kind for e in only_a] == ["campaign_created", "experiments_added", "experiment_completed"]
        assert all(e.campaign == "a" for e in only_a)
        assert store.events("a", after=only_a[1].cursor) == only_a[2:]
        with pytest.raises(ValidationError):
            store.events(limit=0)

    def test_changes_name_every_experiment_touched_since_a_cursor(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.create_campaign("other", {})
        store.add_experiments("c", [exp("e1"), exp("e2"), exp("e3")])
        everything, cursor, complete = store.changes("c")
        assert [e.id for e in everything] == ["e1", "e2", "e3"] and cursor == store.events("c")[-1].cursor
        assert complete
        assert store.changes("c", after=cursor) == ([], cursor, False)
        store.add_experiments("other", [exp("o1")])  # another campaign's writes are not this one's changes
        assert store.changes("c", after=cursor) == ([], cursor, False)
        store.complete("c", "e2", {"y": 1.0})
        store.dispatch("c", "e3", "robot", "h-1")
        store.add_experiments("c", [exp("e4")])
        changed, later, complete = store.changes("c", after=cursor)
        assert not complete
        assert [(e.id, e.status, e.handle) for e in changed] == [
            ("e2", ExperimentStatus.COMPLETED, ""),
            ("e3", ExperimentStatus.PENDING, "h-1"),
            ("e4", ExperimentStatus.PENDING, ""),
        ]
        assert later > cursor
        store.flag("c", "e3", "check the robot")
        store.record_results("c", [("e4", {"y": 2.0})], [exp("e5", origin=Origin.IMPORTED)])
        store.fail("c", "e1", "clogged")
        changed, last, _ = store.changes("c", after=later)
        assert last > later
        assert [e.id for e in changed] == ["e1", "e3", "e4", "e5"]
        assert changed[1].attention == "check the robot" and changed[2].results == {"y": 2.0}
        assert store.changes("c")[0] == store.experiments("c")
        for bad in [-1, 1.5, True, "3"]:
            with pytest.raises(ValidationError, match="after"):
                store.changes("c", after=bad)  # type: ignore[arg-type]
        with pytest.raises(NotFoundError):
            store.changes("ghost")
        store.delete_campaign("c")
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("n1")])
        again = store.changes("c", after=last)  # the cursor is older than the campaign: all of it, complete
        assert [e.id for e in again.experiments] == ["n1"] and again.complete and again.cursor > last

    def test_cursors_keep_growing_after_delete(self, store: Store) -> None:
        store.create_campaign("a", {})
        store.add_experiments("a", [exp("e1")])
        last = store.events()[-1].cursor
        store.delete_campaign("a")
        store.create_campaign("b", {})
        assert store.events()[0].cursor > last

    # -- corrections ----------------------------------------------------------------------------------------

    def test_amend_keeps_every_earlier_value(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        told = store.complete("c", "e1", {"y": 1e308})
        assert told.amended == 0 and store.history("c", "e1")[0].results == {"y": 1e308}
        first = store.amend("c", "e1", results={"y": 3.1}, note="typo: 3.1, not 1e308")
        assert (first.status, first.results, first.amended) == (ExperimentStatus.COMPLETED, {"y": 3.1}, 1)
        assert first.finished_at == told.finished_at and first.params == told.params
        failed = store.amend("c", "e1", failure="sample contaminated", note="seen under the microscope", actor="ana")
        assert (failed.status, failed.results, failed.reason, failed.amended) == (
            ExperimentStatus.FAILED,
            {},
            "sample contaminated",
            2,
        )
        back = store.amend("c", "e1", results={"y": 3.0}, note="re-read the log", expect=2)
        assert (back.status, back.reason, back.amended) == (ExperimentStatus.COMPLETED, "", 3)
        assert store.get_experiment("c", "e1") == back
        history = store.history("c", "e1")
        assert [(r.number, r.change, r.status, dict(r.results), r.reason) for r in history] == [
            (0, Change.RECORDED, ExperimentStatus.COMPLETED, {"y": 1e308}, ""),
            (1, Change.AMENDED, ExperimentStatus.COMPLETED, {"y": 3.1}, ""),
            (2, Change.AMENDED, ExperimentStatus.FAILED, {}, "sample contaminated"),
            (3, Change.AMENDED, ExperimentStatus.COMPLETED, {"y": 3.0}, ""),
        ]
        assert [(r.note, r.actor) for r in history] == [
            ("", ""),
            ("typo: 3.1, not 1e308", ""),
            ("seen under the microscope", "ana"),
            ("re-read the log", ""),
        ]
        assert history[0].at == told.finished_at
        assert all(a.at <= b.at for a, b in itertools.pairwise(history))
        assert all(r.at.utcoffset() == timedelta(0) for r in history)
        assert [r.number for r in store.revisions("c")] == [0, 1, 2, 3]
        amended = [e for e in store.events("c") if e.kind == "experiment_amended"]
        assert [(e.payload["id"], e.payload["note"], e.payload["actor"]) for e in amended][1] == (
            "e1",
            "seen under the microscope",
            "ana",
        )

    def test_history_of_an_uncorrected_experiment_is_its_current_value(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        done = store.complete("c", "e1", {"y": 2.0})
        (only,) = store.history("c", "e1")
        assert (only.number, only.change, dict(only.results), only.at) == (
            0,
            Change.RECORDED,
            {"y": 2.0},
            done.finished_at,
        )
        assert store.history("c", "e2")[0].status is ExperimentStatus.PENDING
        assert store.revisions("c") == []
        with pytest.raises(NotFoundError, match="nope"):
            store.history("c", "nope")

    def test_amend_refusals_change_nothing(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("p"), exp("d"), exp("e")])
        store.complete("c", "e", {"y": 1.0})
        store.discard("c", "d")
        before = (store.experiments("c"), store.events("c"), store.revisions("c"))
        with pytest.raises(StateError, match=r"pending.*tell"):
            store.amend("c", "p", results={"y": 2.0}, note="x")
        with pytest.raises(StateError, match="discarded"):
            store.amend("c", "d", results={"y": 2.0}, note="x")
        with pytest.raises(StateError, match="amended 0 times, not 1"):
            store.amend("c", "e", results={"y": 2.0}, note="x", expect=1)
        with pytest.raises(ValidationError, match="different"):
            store.amend("c", "e", results={"y": 1.0}, note="same value")
        for bad in [{"y": float("nan")}, {"y": "x"}]:
            with pytest.raises(ValidationError):
                store.amend("c", "e", results=bad, note="x")  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="exactly one"):
            store.amend("c", "e", results={"y": 2.0}, failure="both", note="x")
        with pytest.raises(ValidationError, match="failure"):
            store.amend("c", "e", failure="  ", note="x")
        with pytest.raises(NotFoundError, match="ghost"):
            store.amend("c", "ghost", results={"y": 2.0}, note="x")
        for call in [  # text that PostgreSQL cannot store is refused on every backend
            lambda: store.amend("c", "e", results={"y": 2.0}, note="a\x00b"),
            lambda: store.amend("c", "e", failure="a\x00b", note="x"),
            lambda: store.amend("c", "e", results={"y": 2.0}, note="x", actor="a\x00"),
            lambda: store.retract("c", "e", note="\x00"),
            lambda: store.discard("c", "p", note="\x00"),
        ]:
            with pytest.raises(ValidationError, match="NUL"):
                call()
        assert (store.experiments("c"), store.events("c"), store.revisions("c")) == before

    def test_retract_and_take_it_back(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("p")])
        store.fail("c", "e1", "clogged")
        retracted = store.retract("c", "e1", note="wrong sample loaded", actor="robot-1")
        assert retracted.retracted and retracted.status is ExperimentStatus.FAILED and retracted.amended == 0
        assert store.get_experiment("c", "e1").retracted
        with pytest.raises(StateError, match="retracted already"):
            store.retract("c", "e1", note="again")
        with pytest.raises(StateError, match=r"pending.*discard"):
            store.retract("c", "p", note="not run")
        back = store.retract("c", "e1", note="it was the right sample", retracted=False)
        assert not back.retracted
        with pytest.raises(StateError, match="not retracted"):
            store.retract("c", "e1", note="again", retracted=False)
        assert [(r.change, r.retracted, r.actor) for r in store.history("c", "e1")] == [
            (Change.RECORDED, False, ""),
            (Change.RETRACTED, True, "robot-1"),
            (Change.UNRETRACTED, False, ""),
        ]
        assert [k for k in kinds(store, "c") if k.endswith("retracted")] == [
            "experiment_retracted",
            "experiment_unretracted",
        ]

    def test_discard_a_pending_suggestion(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        store.dispatch("c", "e2", "robot", "job-1")
        discarded = store.discard("c", "e1", note="no more substrate", actor="ana")
        assert (discarded.status, discarded.reason, discarded.results) == (
            ExperimentStatus.DISCARDED,
            "no more substrate",
            {},
        )
        assert discarded.finished_at is not None
        with pytest.raises(StateError, match=r"in flight on instrument 'robot' since .*kiln fail"):
            store.discard("c", "e2")  # dispatched: its result would have nowhere to go
        assert store.get_experiment("c", "e2").status is ExperimentStatus.PENDING
        store.add_experiments("c", [exp("e4")])
        store.dispatch("c", "e4", "robot")  # being sent (no handle yet) is in flight too
        with pytest.raises(StateError, match="in flight"):
            store.discard("c", "e4")
        store.add_experiments("c", [exp("e5")])
        assert store.discard("c", "e5").reason == ""  # no reason needed
        for call in [
            lambda: store.discard("c", "e1"),
            lambda: store.complete("c", "e1", {"y": 1.0}),
            lambda: store.fail("c", "e1", "late"),
            lambda: store.dispatch("c", "e1", "robot"),
        ]:
            with pytest.raises(StateError):
                call()
        history = store.history("c", "e1")
        assert [(r.change, r.status, r.note, r.actor) for r in history] == [
            (Change.RECORDED, ExperimentStatus.PENDING, "", ""),
            (Change.DISCARDED, ExperimentStatus.DISCARDED, "no more substrate", "ana"),
        ]
        assert "experiment_discarded" in kinds(store, "c")
        store.add_experiments("c", [exp("e3")])
        store.complete("c", "e3", {"y": 1.0})
        with pytest.raises(StateError, match="only an open suggestion"):
            store.discard("c", "e3")

    def test_corrections_reach_changes_and_deletion_removes_them(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1"), exp("e2")])
        store.complete("c", "e1", {"y": 1.0})
        cursor = store.changes("c").cursor
        store.amend("c", "e1", results={"y": 2.0}, note="fix")
        store.discard("c", "e2")
        changed = store.changes("c", after=cursor)
        assert [(e.id, e.status) for e in changed.experiments] == [
            ("e1", ExperimentStatus.COMPLETED),
            ("e2", ExperimentStatus.DISCARDED),
        ]
        assert changed.experiments[0].results == {"y": 2.0}
        store.delete_campaign("c")
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        assert store.revisions("c") == []
        assert len(store.history("c", "e1")) == 1

    def test_racing_amendments_with_expect_have_one_winner(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.add_experiments("c", [exp("e1")])
        store.complete("c", "e1", {"y": 1.0})
        outcomes: list[str] = []
        lock = threading.Lock()

        def amend(value: float) -> None:
            try:
                store.amend("c", "e1", results={"y": value}, note="race", expect=0)
                outcome = "ok"
            except StateError:
                outcome = "state"
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=amend, args=(2.0 + i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ok"] + ["state"] * 5
        assert store.get_experiment("c", "e1").amended == 1
        assert len(store.history("c", "e1")) == 2

    def test_a_discard_racing_a_completion_has_one_winner(self, store: Store) -> None:
        outcomes = race_a_discard(store, "complete", lambda exp_id: store.complete("c", exp_id, {"y": 1.0}))
        for exp_id, seen in outcomes.items():
            assert sorted(seen) in (["complete", "refused"], ["discard", "refused"]), seen
            stored = store.get_experiment("c", exp_id).status
            winner = next(o for o in seen if o != "refused")
            assert stored is (ExperimentStatus.DISCARDED if winner == "discard" else ExperimentStatus.COMPLETED)

    def test_a_discard_racing_a_dispatch_has_one_winner(self, store: Store) -> None:
        outcomes = race_a_discard(
            store, "dispatch", lambda exp_id: store.dispatch("c", exp_id, "robot", expect=("", ""))
        )
        for exp_id, seen in outcomes.items():
            assert sorted(seen) in (["discard", "refused"], ["dispatch", "refused"]), seen
            stored = store.get_experiment("c", exp_id)
            if "discard" in seen:
                assert (stored.status, stored.instrument, stored.dispatched_at) == (
                    ExperimentStatus.DISCARDED,
                    "",
                    None,
                )
            else:
                assert (stored.status, stored.instrument) == (ExperimentStatus.PENDING, "robot")

    # -- delete ---------------------------------------------------------------------------------------------

    def test_delete_cascades(self, store: Store) -> None:
        store.create_campaign("gone", {})
        store.create_campaign("kept", {})
        store.add_experiments("gone", [exp("g1"), exp("g2")])
        store.add_experiments("kept", [exp("k1")])
        store.complete("gone", "g1", {"y": 1.0})
        store.delete_campaign("gone")
        assert [c.name for c in store.list_campaigns()] == ["kept"]
        assert all(e.campaign == "kept" for e in store.events())
        with pytest.raises(NotFoundError):
            store.experiments("gone")
        with pytest.raises(NotFoundError):
            store.delete_campaign("gone")
        # the rows are gone, not just hidden: the ids are free again and seq restarts
        store.create_campaign("gone", {})
        assert store.experiments("gone") == []
        assert [e.seq for e in store.add_experiments("gone", [exp("g2"), exp("g1")])] == [1, 2]
        assert [e.id for e in store.experiments("kept")] == ["k1"]

    # -- run leases -----------------------------------------------------------------------------------------

    def test_a_free_lease_is_taken_and_a_second_run_is_refused(self, store: Store) -> None:
        store.create_campaign("c", {})
        assert store.get_lease("c") is None
        first = store.acquire_lease("c", "run-a", host="lab-pc", pid=4242, expiry=30)
        assert (first.campaign, first.owner, first.host, first.pid) == ("c", "run-a", "lab-pc", 4242)
        assert first.since == first.heartbeat_at and first.expires_at - first.since == timedelta(seconds=30)
        assert store.get_lease("c") == first
        with pytest.raises(LeaseHeldError, match=r"process 4242 on 'lab-pc' since") as refused:
            store.acquire_lease("c", "run-b", host="other", pid=7, expiry=30)
        assert refused.value.lease == first and isinstance(refused.value, ConflictError)
        assert store.get_lease("c") == first  # refusing changed nothing

    def test_the_holder_renews_and_keeps_since(self, store: Store) -> None:
        store.create_campaign("c", {})
        first = store.acquire_lease("c", "run-a", host="h", pid=1, expiry=30)
        renewed = store.renew_lease("c", "run-a", expiry=60)
        assert renewed.since == first.since and renewed.heartbeat_at >= first.heartbeat_at
        assert renewed.expires_at - renewed.heartbeat_at == timedelta(seconds=60)
        again = store.acquire_lease("c", "run-a", host="h", pid=1, expiry=30)  # taking it again renews it
        assert again.since == first.since
        with pytest.raises(StateError, match="no longer held"):
            store.renew_lease("c", "run-b", expiry=30)

    def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_renew(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.acquire_lease("c", "run-a", host="h", pid=1, expiry=0.001)
        taken = None
        for _ in range(10_000):  # until the store sees it expired (a millisecond)
            try:
                taken = store.acquire_lease("c", "run-b", host="h2", pid=2, expiry=30)
                break
            except LeaseHeldError:
                continue
        assert taken is not None and taken.owner == "run-b" and store.get_lease("c") == taken
        with pytest.raises(StateError):
            store.renew_lease("c", "run-a", expiry=30)
        assert store.release_lease("c", "run-a") is False  # and cannot release the new holder's lease
        assert store.get_lease("c") == taken

    def test_a_dead_holder_named_in_replace_is_taken_over_at_once(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.acquire_lease("c", "run-a", host="h", pid=1, expiry=30)
        with pytest.raises(LeaseHeldError):
            store.acquire_lease("c", "run-c", host="h", pid=3, expiry=30, replace="run-x")  # not the holder
        taken = store.acquire_lease("c", "run-b", host="h", pid=2, expiry=30, replace="run-a")
        assert taken.owner == "run-b" and taken.pid == 2

    def test_release_frees_the_lease_and_leases_go_with_their_campaign(self, store: Store) -> None:
        store.create_campaign("c", {})
        store.create_campaign("d", {})
        store.acquire_lease("c", "run-a", host="h", pid=1, expiry=30)
        store.acquire_lease("d", "run-a", host="h", pid=1, expiry=30)  # one lease per campaign
        assert store.release_lease("c", "run-a") is True and store.get_lease("c") is None
        assert store.release_lease("c", "run-a") is False
        assert store.acquire_lease("c", "run-b", host="h", pid=2, expiry=30).owner == "run-b"
        store.delete_campaign("d")
        store.create_campaign("d", {})
        assert store.get_lease("d") is None
        assert not [e for e in store.events() if "lease" in e.kind]  # heartbeats do not fill the event log

    def test_one_of_many_racing_runs_takes_the_lease(self, store: Store) -> None:
        store.create_campaign("c", {})
        winners: list[str] = []
        barrier = threading.Barrier(6)

        def take(owner: str) -> None:
            barrier.wait()
            try:
                store.acquire_lease("c", owner, host="h", pid=1, expiry=30)
            except LeaseHeldError:
                return
            winners.append(owner)

        threads = [threading.Thread(target=take, args=(f"run-{i}",)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(winners) == 1
        lease = store.get_lease("c")
        assert lease is not None and lease.owner == winners[0]

    @pytest.mark.parametrize(
        ("field", "kwargs"),
        [
            ("expiry", {"expiry": 0}),
            ("expiry", {"expiry": float("nan")}),
            ("expiry", {"expiry": True}),
            ("owner", {"owner": ""}),
            ("owner", {"owner": "x" * 65}),
            ("owner", {"owner": "run\x00a"}),
            ("host", {"host": "lab\x00pc"}),
            ("pid", {"pid": -1}),
        ],
    )
    def test_bad_lease_values_are_refused_and_change_nothing(
        self, store: Store, field: str, kwargs: dict[str, Any]
    ) -> None:
        store.create_campaign("c", {})
        given = {"owner": "run-a", "host": "h", "pid": 1, "expiry": 30.0, **kwargs}
        owner = given.pop("owner")
        with pytest.raises(ValidationError) as error:
            store.acquire_lease("c", owner, **given)
        assert error.value.field == field
        assert store.get_lease("c") is None

    def test_leases_of_an_unknown_campaign_are_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.acquire_lease("nope", "run-a", host="h", pid=1, expiry=30)
        with pytest.raises(NotFoundError):
            store.get_lease("nope")

    # -- timestamps and snapshots ---------------------------------------------------------------------------

    def test_timestamps_are_aware_utc(self, store: Store) -> None:
        campaign = store.create_campaign("c", {})
        plus_two = timezone(timedelta(hours=2))
        local = datetime(2024, 6, 1, 14, 0, tzinfo=plus_two)
        store.add_experiments("c", [exp("e1", created_at=local)])
        done = store.complete("c", "e1", {"y": 1.0}, at=local + timedelta(minutes=5))
        stamps = [campaign.created_at, done.created_at, done.finished_at, *(e.at for e in store.events())]
        for stamp in stamps:
            assert stamp is not None and stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
        assert done.created_at == local and done.created_at.hour == 12
        assert done.finished_at == datetime(2024, 6, 1, 12, 5, tzinfo=UTC)
        now = datetime.now(UTC)
        assert abs(now - campaign.created_at) < timedelta(hours=1)

    def test_records_are_immutable_snapshots(self, store: Store) -> None:
        config: dict[str, Any] = {"space": {"t": [0, 1]}}
        campaign = store.create_campaign("c", config)
        config["space"]["t"].append(2)  # the caller's dict is not the stored one
        params = {"t": 1.0}
        record = store.add_experiments("c", [exp("e1", params=params)])[0]
        params["t"] = 99.0
        with pytest.raises(dataclasses.FrozenInstanceError):
            record.seq = 5  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            campaign.name = "other"  # type: ignore[misc]
        record.params["t"] = -1.0  # type: ignore[index]  # a copy: the store keeps its own
        store.complete("c", "e1", {"y": 2.0})
        assert record.status is ExperimentStatus.PENDING  # later changes do not reach old records
        assert store.get_experiment("c", "e1").params == {"t": 1.0}
        assert store.get_campaign("c").config == {"space": {"t": [0, 1]}}
        event = store.events()[0]
        event.payload["name"] = "hacked"  # type: ignore[index]
        assert store.events()[0].payload == {"name": "c"}
