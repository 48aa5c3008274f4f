"""The server's promises under hostile requests (docs/server.md, "Security"): the token before any work, bounded
bodies, JSON values and queues, campaigns kept apart, no server files read on a client's say."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from kiln.campaign import Campaign
from kiln.server import json_body, model_cache
from kiln.server.auth import create_token
from kiln.server.jobs import Jobs
from kiln.server.limits import ServerLimits
from kiln.store import open_store
from kiln.store.base import Store
from kiln.strategies.profile import Profile
from server_helpers import SPEC, create_app, http, scoped_tokens

API = "/api/v1"


@pytest.fixture
def setup(backend_store: Store) -> tuple[Any, dict[str, str]]:
    """A store with campaign ``films``; tokens: read, write, admin, write for 'other' only, admin for 'films' only."""
    tokens = scoped_tokens(backend_store)
    tokens["films-admin"] = create_token(backend_store, "films-admin", "admin", ["films"])[1]
    http(create_app(backend_store), tokens["admin"]).post(f"{API}/campaigns", json=SPEC).raise_for_status()
    return backend_store, tokens


# -- 3. the token before the body; bounded bodies; parsing off the event loop --------------------------------


def test_the_token_is_checked_before_the_body_is_read(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store)
    malformed = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    anonymous = http(app).post(f"{API}/campaigns/films/import", **malformed)
    assert anonymous.status_code == 401 and anonymous.json()["detail"]["field"] == "Authorization"
    assert http(app, "kiln_wrong").post(f"{API}/campaigns/films/ask", **malformed).status_code == 401
    reader = http(app, tokens["read"]).post(f"{API}/campaigns/films/ask", **malformed)
    assert reader.status_code == 403 and "write" in reader.json()["detail"]["message"]
    elsewhere = http(app, tokens["other"]).post(f"{API}/campaigns/films/ask", **malformed)
    assert elsewhere.status_code == 403
    huge = b"x" * (ServerLimits().max_body + 1)
    assert http(app).post(f"{API}/campaigns/films/import/csv", content=huge).status_code == 401
    assert http(app).get(f"{API}/jobs/job-1").status_code == 401


def test_a_body_over_the_limit_is_a_413_naming_it(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store, limits=ServerLimits(max_body=2000))
    writer = http(app, tokens["write"])
    rows = [{"x": 0.5, "y": float(i)} for i in range(200)]
    refused = writer.post(f"{API}/campaigns/films/import", json={"rows": rows})
    assert refused.status_code == 413, refused.text
    detail = refused.json()["detail"]
    assert detail["field"] == "body" and "2000 bytes" in detail["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
        yield b"x,y\n"
        for _ in range(100):
            yield b"0.5,1.0\n" * 10

    streamed = writer.post(f"{API}/campaigns/films/import/csv", content=chunks(), headers={"content-type": "text/csv"})
    assert streamed.status_code == 413 and streamed.json()["detail"]["field"] == "body"
    assert sum(writer.get(f"{API}/campaigns/films").json()["counts"].values()) == 0
    small = writer.post(f"{API}/campaigns/films/import", json={"rows": rows[:3]})
    assert small.status_code == 200


def test_json_bodies_are_parsed_off_the_event_loop(
    setup: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, tokens = setup
    seen: list[bool] = []
    parse = json_body.parse_json

    def recording(body: bytes) -> Any:
        try:
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:
            seen.append(False)  # no event loop in this thread: a worker thread
        return parse(body)

    monkeypatch.setattr(json_body, "parse_json", recording)
    answer = http(create_app(store), tokens["write"]).post(
        f"{API}/campaigns/films/import", json={"rows": [{"x": 0.1, "y": 1.0}]}
    )
    assert answer.status_code == 200 and seen == [False]


# -- 2. no server files read on a client's say; fields the server does not use are refused ------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"pool": {"csv": "/etc/passwd"}}, "pool.csv"),
        ({"pool": {"csv": "../../secrets.csv"}}, "pool.csv"),
        ({"pool": {"csv": "/dev/zero"}}, "pool.csv"),
        ({"instrument": {"kind": "command", "command": ["rm", "-rf", "/"]}}, "instrument"),
        ({"instruments": [{"kind": "emulator", "dataset": "p3ht"}]}, "instruments"),
        ({"workflow": {"steps": [], "reward": "os:system"}}, "workflow"),
        ({"budget": 10}, "budget"),
    ],
)
def test_a_spec_naming_a_file_or_an_unused_field_is_refused(
    setup: tuple[Any, dict[str, str]], tmp_path: Path, extra: dict[str, Any], field: str
) -> None:
    store, tokens = setup
    spec = {key: value for key, value in SPEC.items() if not ("pool" in extra and key == "space")}
    answer = http(create_app(store), tokens["admin"]).post(f"{API}/campaigns", json={**spec, **extra, "name": "c2"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]["field"] == field
    assert "root:" not in answer.text
    assert [c.name for c in store.list_campaigns()] == ["films"]


def test_a_pool_comes_inline(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    pool = {"kind": "pool", "columns": ["x", "solvent"], "rows": [[1.0, "water"], [2.0, "ethanol"]]}
    spec = {**SPEC, "name": "pooled", "space": pool}
    made = http(create_app(store), tokens["admin"]).post(f"{API}/campaigns", json=spec)
    assert made.status_code == 201, made.text
    assert made.json()["parameters"] == ["x", "solvent"]


def test_a_spec_asking_for_too_many_molecules_is_refused_before_any_is_encoded(
    setup: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Descriptors cost time per molecule: beyond ServerLimits.encoded_choices the spec is a 422 naming the
    encoding, and nothing is computed (RDKit is never asked); one-hot lists of any length still pass."""
    import kiln.space.encodings as encodings

    store, tokens = setup
    app = create_app(store, limits=ServerLimits(encoded_choices=3))
    calls: list[Any] = []
    monkeypatch.setattr(encodings, "_molecule_table", lambda *a: calls.append(a))
    rows = [[float(i), "C" * (i + 1)] for i in range(5)]  # five alkanes: five molecules to encode
    pool = {"kind": "pool", "columns": ["x", "chain"], "rows": rows}
    answer = http(app, tokens["admin"]).post(f"{API}/campaigns", json={**SPEC, "name": "alkanes", "space": pool})
    assert answer.status_code == 422 and answer.json()["detail"]["field"] == "space: encoding", answer.text
    assert calls == [] and [c.name for c in store.list_campaigns()] == ["films"]
    onehot = {**pool, "encoding": "onehot"}
    made = http(app, tokens["admin"]).post(f"{API}/campaigns", json={**SPEC, "name": "alkanes", "space": onehot})
    assert made.status_code == 201, made.text
    assert made.json()["encodings"] == {"chain": "one-hot: 5 columns"}


@pytest.mark.parametrize(
    "space",
    [
        # a null table or stored encoding is none: the choices are still computed
        {
            "parameters": [
                {"name": "s", "type": "categorical", "choices": ["C", "CC", "CCC", "CCCC"], "descriptors": None}
            ]
        },
        {"parameters": [{"name": "s", "type": "categorical", "choices": ["C", "CC", "CCC", "CCCC"], "encoded": None}]},
        # a text column whose other values are numbers: they become text and are encoded too
        {"kind": "pool", "columns": ["s"], "rows": [[1], [2], [3], ["C"]]},
        # an element composition: each part is looked up
        {"compositions": [{"name": "m", "parts": ["Ni", "Fe", "Co", "Mn"], "total": 1, "encoding": "elements"}]},
        # a pool's element columns
        {"kind": "pool", "columns": ["Ni", "Fe", "Co", "Mn"], "rows": [[1, 0, 0, 0]], "encoding": "elements"},
    ],
)
def test_the_encoding_bound_counts_what_a_spec_would_compute(
    space: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each of these would compute four molecules, formulas or elements: over a bound of 3 before any is."""
    import kiln.space.encodings as encodings
    from kiln.core.errors import SpecError
    from kiln.server.campaign_spec import campaign_spec

    calls: list[Any] = []
    for name in ("_molecule_table", "_formula_table", "element_block_config", "_automatic"):
        monkeypatch.setattr(encodings, name, lambda *a, **k: calls.append(a))
    with pytest.raises(SpecError) as raised:
        campaign_spec({**SPEC, "space": space}, 3)
    assert raised.value.field == "space: encoding" and calls == []


def test_the_encoding_bound_survives_odd_shapes() -> None:
    """Shapes the spec parser refuses reach it as the parser's error, not as a crash in the count."""
    from kiln.core.errors import ValidationError
    from kiln.server.campaign_spec import campaign_spec

    odd = [
        {"parameters": 5},
        {"kind": "pool", "columns": [["a"]], "rows": [[1]], "encoding": {"a": "onehot"}},
        {"compositions": 5},
    ]
    for space in odd:
        with pytest.raises(ValidationError):
            campaign_spec({**SPEC, "space": space}, 3)


# -- 5. a scoped admin token creates no other campaign ------------------------------------------------------


def test_an_admin_token_limited_to_a_campaign_cannot_create_another(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    admin = http(create_app(store), tokens["films-admin"])
    refused = admin.post(f"{API}/campaigns", json={**SPEC, "name": "c"})
    assert refused.status_code == 403 and refused.json()["detail"]["field"] == "Authorization"
    assert [c.name for c in store.list_campaigns()] == ["films"]
    assert admin.post(f"{API}/campaigns", json=SPEC).status_code == 201  # its own campaign: the same spec again


# -- 6. scoped tokens learn no other names; jobs are unguessable and kept apart ------------------------------


def test_a_scoped_token_learns_no_other_campaign_names(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store, public_read=True)
    for client in (http(app, tokens["other"]), http(app)):
        missing = client.get(f"{API}/campaigns/other")
        assert missing.status_code == 404 and missing.json()["detail"]["field"] == "name"
        assert "films" not in missing.text and store.url not in missing.text
    assert http(app, tokens["other"]).get(f"{API}/campaigns/films").status_code == 403


def test_job_ids_are_unguessable_and_other_campaigns_jobs_invisible(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store)
    admin = http(app, tokens["admin"])
    admin.post(f"{API}/campaigns", json={**SPEC, "name": "other"}).raise_for_status()
    jobs = [
        http(app, tokens["write"]).post(f"{API}/campaigns/films/ask", json={"n": 1}).json()["job"] for _ in range(2)
    ]
    assert len(set(jobs)) == 2 and all(len(job) >= 24 and not job[4:].isdigit() for job in jobs)
    assert http(app, tokens["write"]).get(f"{API}/jobs/{jobs[0]}").json()["status"] == "done"
    foreign = http(app, tokens["other"]).get(f"{API}/jobs/{jobs[0]}")
    assert foreign.status_code == 404 and "films" not in foreign.text
    unknown = http(app, tokens["other"]).get(f"{API}/jobs/job-unknown")
    assert unknown.status_code == 404 and unknown.text.replace("job-unknown", jobs[0]) == foreign.text
    assert http(app, tokens["read"]).get(f"{API}/jobs/{jobs[0]}").status_code == 403


# -- 8. GET /model fits once per state of the campaign, on a bounded number of points ---------------------------


def test_the_model_is_fitted_once_per_campaign_state_on_bounded_points(
    setup: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, tokens = setup
    sizes: list[int] = []

    def counting(strategy: Any, domain: Any, objective: Any, history: Any, parameter: str, **options: Any) -> Profile:
        sizes.append(len(history.completed))
        best = max(history.completed, key=lambda e: e.results["y"])
        return Profile(parameter, [0.0, 1.0], [0.0, 0.0], [1.0, 1.0], dict(best.params), "stub")

    monkeypatch.setattr(model_cache, "model_profile", counting)
    app = create_app(store, limits=ServerLimits(model_points=5))
    writer = http(app, tokens["write"])
    rows = [{"x": i / 10, "y": float(i)} for i in range(8)]
    writer.post(f"{API}/campaigns/films/import", json={"rows": rows}).raise_for_status()
    first = writer.get(f"{API}/campaigns/films/model?parameter=x")
    assert first.status_code == 200 and first.json()["through"] == {"x": 0.7}
    assert writer.get(f"{API}/campaigns/films/model?parameter=x").json() == first.json()
    assert sizes == [5]  # the second call was answered from the cache, and the fit saw at most 5 points
    writer.post(f"{API}/campaigns/films/import", json={"rows": [{"x": 0.95, "y": 0.5}]}).raise_for_status()
    writer.get(f"{API}/campaigns/films/model?parameter=x").raise_for_status()
    assert sizes == [5, 5]  # a new result: a new fit


# -- 9. a bounded ask queue; finished jobs are dropped -------------------------------------------------------


def test_a_full_ask_queue_is_a_429_with_retry_after(
    setup: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, tokens = setup
    release = threading.Event()
    ask = Campaign.ask

    def held(self: Campaign, n: int = 1) -> Any:
        release.wait(60)
        return ask(self, n)

    monkeypatch.setattr(Campaign, "ask", held)
    app = create_app(store, ask_wait=0.0, limits=ServerLimits(open_asks=2, retry_after=7))
    writer = http(app, tokens["write"])
    try:
        queued = [writer.post(f"{API}/campaigns/films/ask", json={"n": 1}) for _ in range(2)]
        assert [a.status_code for a in queued] == [202, 202]
        full = writer.post(f"{API}/campaigns/films/ask", json={"n": 1})
        assert full.status_code == 429 and full.headers["Retry-After"] == "7", full.text
        assert "at most 2" in full.json()["detail"]["message"]
    finally:
        release.set()
    for answer in queued:
        body = answer.json()
        deadline = time.monotonic() + 60
        while body["status"] == "running" and time.monotonic() < deadline:
            time.sleep(0.02)
            body = writer.get(f"{API}/jobs/{body['job']}").json()
        assert body["status"] == "done"
    assert writer.post(f"{API}/campaigns/films/ask", json={"n": 1}).status_code in (200, 202)


def test_finished_jobs_are_dropped_after_a_while_and_beyond_a_count(setup: tuple[Any, dict[str, str]]) -> None:
    store, _ = setup
    now = [0.0]
    jobs = Jobs(ServerLimits(jobs_kept=2, job_seconds=100.0), clock=lambda: now[0])
    campaign = Campaign.open("films", store=store)
    made = []
    for _ in range(3):
        job, future = jobs.ask(campaign, 1)
        future.result(timeout=60)
        made.append(job)
        now[0] += 1.0
    assert jobs.get(made[0]) is None and jobs.get(made[1]) is not None and jobs.get(made[2]) is not None
    now[0] += 101.0
    assert jobs.get(made[1]) is None and jobs.get(made[2]) is None


# -- 4. bounded JSON: a deep value is a 422 and every later read works ----------------------------------------


def test_deeply_nested_outputs_are_a_422_and_later_reads_work(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    writer = http(create_app(store), tokens["write"])
    (made,) = writer.post(f"{API}/campaigns/films/ask", json={"n": 1}).json()["experiments"]
    deep = '{"a": ' * 260 + "1" + "}" * 260
    for levels_body in (deep, "[" * 100_000 + "]" * 100_000):
        body = '{"value": 1.0, "outputs": {"x": ' + levels_body + "}}"
        answer = writer.post(
            f"{API}/campaigns/films/experiments/{made['id']}/tell",
            content=body.encode(),
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 422, answer.text[:300]
        assert answer.json()["detail"]["field"].startswith(("outputs", "body"))
    for path in ("", "/experiments", "/pending", "/export", "/export?format=json"):
        assert writer.get(f"{API}/campaigns/films{path}").status_code == 200, path
    assert writer.get(f"{API}/campaigns/films/pending").json()[0]["id"] == made["id"]


# -- 7. CSV imports are bounded like JSON imports; other writers wait for them, they do not fail ---------------


def test_a_csv_import_over_the_row_limit_is_a_422(setup: tuple[Any, dict[str, str]]) -> None:
    from kiln.server.limits import IMPORT_ROWS

    store, tokens = setup
    writer = http(create_app(store), tokens["write"])
    table = "x,y\n" + "0.5,1.0\n" * (IMPORT_ROWS + 1)
    refused = writer.post(f"{API}/campaigns/films/import/csv", content=table, headers={"content-type": "text/csv"})
    assert refused.status_code == 422 and refused.json()["detail"]["field"] == "csv"
    assert str(IMPORT_ROWS) in refused.json()["detail"]["message"]
    assert sum(writer.get(f"{API}/campaigns/films").json()["counts"].values()) == 0


def test_other_writers_do_not_fail_while_a_maximal_import_runs(
    setup: tuple[Any, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that begins while a maximal import holds the write lock waits for it and succeeds.

    The overlap is forced: the import (in the server's store) is held at its commit, the write lock taken and
    its rows written, until this thread, writing through a store of its own, is about to take the lock; the
    write then starts while the import still holds it."""
    from kiln.server.limits import IMPORT_ROWS

    store, tokens = setup
    writer = http(create_app(store), tokens["write"])
    other = open_store(store.url)  # connections of its own, as another process has
    campaign = Campaign.open("films", store=other)
    importing = threading.local()
    held, writing = threading.Event(), threading.Event()
    steps: list[str] = []
    me = threading.get_ident()
    record_results = store.record_results

    def marked(*args: Any, **kwargs: Any) -> Any:  # the import's write, marked for hold_the_commit
        importing.on = True
        try:
            return record_results(*args, **kwargs)
        finally:
            importing.on = False

    def hold_the_commit(conn: Any) -> None:
        if getattr(importing, "on", False):
            steps.append("import holds the lock")
            held.set()
            assert writing.wait(60), "the other writer did not start"
            steps.append("import commits")

    def note_the_write(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if threading.get_ident() == me and ("BEGIN IMMEDIATE" in statement or "pg_advisory_xact_lock" in statement):
            if not writing.is_set():
                steps.append("write begins")
            writing.set()

    monkeypatch.setattr(store, "record_results", marked)
    event.listen(Engine, "commit", hold_the_commit)
    event.listen(Engine, "before_cursor_execute", note_the_write)
    table = "x,y\n" + "".join(f"{(i % 997) / 997},{i}\n" for i in range(IMPORT_ROWS))
    answers: list[Any] = []

    def run_import() -> None:
        answers.append(
            writer.post(f"{API}/campaigns/films/import/csv", content=table, headers={"content-type": "text/csv"})
        )

    importer = threading.Thread(target=run_import)
    try:
        importer.start()
        assert held.wait(120), "the import did not reach its commit"
        (pending,) = campaign.ask(1)  # takes the write lock while the import holds it: waits, does not fail
        steps.append("write stored")
        campaign.tell(pending.id, 0.5)
    finally:
        writing.set()  # the import goes on whatever happened here
        importer.join(120)
        event.remove(Engine, "before_cursor_execute", note_the_write)
        event.remove(Engine, "commit", hold_the_commit)
        other.close()
    assert not importer.is_alive(), "the import did not finish"
    assert steps == ["import holds the lock", "write begins", "import commits", "write stored"], steps
    assert answers[0].status_code == 200, answers[0].text[:300]
    assert len(answers[0].json()) == IMPORT_ROWS
    assert pending.seq == IMPORT_ROWS + 1  # stored after the import's rows, from the history with them
    assert store.get_experiment("films", pending.id).results == {"y": 0.5}


# -- 10. text, numbers and settings that cannot be stored or run are refused; exports run no formulas ---------


def test_nul_characters_anywhere_are_a_422(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    app = create_app(store)
    writer, admin = http(app, tokens["write"]), http(app, tokens["admin"])
    (made,) = writer.post(f"{API}/campaigns/films/ask", json={"n": 1}).json()["experiments"]
    experiment = f"{API}/campaigns/films/experiments/{made['id']}"
    answers = [
        writer.post(f"{experiment}/fail", json={"reason": "crack\u0000ed"}),
        writer.post(f"{experiment}/tell", json={"value": 1.0, "outputs": {"a": "b\u0000"}}),
        writer.post(f"{API}/campaigns/films/experiments/exp%00x/fail", json={"reason": "x"}),
        writer.get(f"{API}/campaigns/fi%00lms/experiments"),
        writer.post(f"{API}/campaigns/films/import", json={"rows": [{"x": 0.5, "y": 1.0, "note": "n\u0000"}]}),
        admin.post(f"{API}/campaigns", json={**SPEC, "name": "c\u0000"}),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"]["field"]
    assert [e["status"] for e in writer.get(f"{API}/campaigns/films/experiments").json()] == ["pending"]


def test_true_is_not_a_result(setup: tuple[Any, dict[str, str]]) -> None:
    store, tokens = setup
    writer = http(create_app(store), tokens["write"])
    (made,) = writer.post(f"{API}/campaigns/films/ask", json={"n": 1}).json()["experiments"]
    tell = f"{API}/campaigns/films/experiments/{made['id']}/tell"
    for body, field in [({"value": True}, "value"), ({"results": {"y": False}}, "results.y")]:
        refused = writer.post(tell, json=body)
        assert refused.status_code == 422 and refused.json()["detail"]["field"] == field
    imported = writer.post(f"{API}/campaigns/films/import", json={"rows": [{"x": 0.5, "y": True}]})
    assert imported.status_code == 422
    assert writer.post(tell, json={"value": 2}).json()["results"] == {"y": 2.0}  # an integer is a number


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"strategy": {"kind": "sobol", "candidates": 10**12}}, "strategy 'sobol': candidates"),
        ({"strategy": {"kind": "bayes", "raw_samples": 10**12}}, "strategy 'bayes': raw_samples"),
        (
            {"space": {"parameters": [{"name": "x", "type": "continuous", "low": -1e308, "high": 1e308}]}},
            "parameter 'x': bounds",
        ),
        (
            {"space": {"parameters": [{"name": "x", "type": "integer", "low": 0, "high": 10**17}]}},
            "parameter 'x': bounds",
        ),
    ],
)
def test_settings_that_would_fail_at_ask_are_refused_at_creation(
    setup: tuple[Any, dict[str, str]], change: dict[str, Any], field: str
) -> None:
    store, tokens = setup
    answer = http(create_app(store), tokens["admin"]).post(f"{API}/campaigns", json={**SPEC, **change, "name": "c"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"]["field"] == field and answer.json()["detail"]["fix"]
    assert [c.name for c in store.list_campaigns()] == ["films"]


def test_csv_exports_run_no_formulas_and_import_back(setup: tuple[Any, dict[str, str]]) -> None:
    import csv
    import io

    store, tokens = setup
    app = create_app(store)
    admin = http(app, tokens["admin"])
    pool = {"kind": "pool", "columns": ["x", "label"], "rows": [[1.0, "=1+1"], [2.0, "-plain"], [3.0, "@SUM(A1)"]]}
    admin.post(f"{API}/campaigns", json={**SPEC, "name": "sheet", "space": pool}).raise_for_status()
    writer = http(app, tokens["write"])
    made = writer.post(f"{API}/campaigns/sheet/ask", json={"n": 3}).json()["experiments"]
    writer.post(f"{API}/campaigns/sheet/experiments/{made[0]['id']}/fail", json={"reason": '=HYPERLINK("http://x")'})
    writer.post(f"{API}/campaigns/sheet/experiments/{made[1]['id']}/tell", json={"value": -2.5})
    exported = writer.get(f"{API}/campaigns/sheet/export").text
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells), exported
    assert '\'=HYPERLINK("http://x")' in cells and "-2.5" in cells  # text gets a quote, numbers stay numbers
    before = writer.get(f"{API}/campaigns/sheet").json()["counts"]
    back = writer.post(f"{API}/campaigns/sheet/import/csv", content=exported, headers={"content-type": "text/csv"})
    assert back.status_code == 200, back.text  # the quoted labels read back as the stored ones: rows repeat
    assert writer.get(f"{API}/campaigns/sheet").json()["counts"] == before
