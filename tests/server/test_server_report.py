"""``GET /api/v1/campaigns/{name}/report``: the token before any work, the page ``kiln report`` writes, made once
per campaign state and seed, the store's password never in it, and bounded in the reports made at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import kiln.report.findings
import kiln.server.report_cache
from kiln import Campaign, Continuous, Objective, SearchSpace
from kiln.server.app import API, create_app
from kiln.server.jobs import Busy
from kiln.server.limits import ServerLimits
from kiln.store import open_store
from server_helpers import http, scoped_tokens

SECRET = "s3cret-pw"
pytestmark = pytest.mark.filterwarnings("ignore:Query string argument")  # SQLite ignores the password= parameter


class Counted:
    """``campaign_findings`` wrapped to count its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = kiln.report.findings.campaign_findings

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.real(*args, **kwargs)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Campaign, dict[str, str], Counted]]:
    """An app over a store whose URL holds a password, with ``films`` (8 results), the tokens, and the count of
    findings computed."""
    url = f"sqlite:///{tmp_path / 'lab.db'}?password={SECRET}"
    space = SearchSpace([Continuous("x", 0.0, 1.0, unit="mm")])
    campaign = Campaign.create("films", space=space, objective=Objective.maximize("y"), strategy="random", store=url)
    for experiment in campaign.ask(8):
        campaign.tell(experiment.id, 1.0 - (experiment.params["x"] - 0.4) ** 2)
    store = open_store(url)
    tokens = scoped_tokens(store)
    counted = Counted()
    monkeypatch.setattr(kiln.report.findings, "campaign_findings", counted)
    yield create_app(store, limits=ServerLimits(open_reports=1)), campaign, tokens, counted
    store.close()


def test_no_token_or_another_campaigns_token_is_refused_before_any_work(served: Any) -> None:
    app, _, tokens, counted = served
    refused = http(app).get(f"{API}/campaigns/films/report")
    assert refused.status_code == 401 and refused.json()["detail"]["field"] == "Authorization"
    other = http(app, tokens["other"]).get(f"{API}/campaigns/films/report")
    assert other.status_code == 403 and other.json()["detail"]["field"] == "Authorization"
    unknown_token = http(app, "kiln_not-a-token").get(f"{API}/campaigns/films/report")
    assert unknown_token.status_code == 401
    assert counted.calls == 0 and app.state.reports.computed == 0


def test_the_report_is_the_html_page_with_the_password_hidden(served: Any) -> None:
    app, _, tokens, counted = served
    answer = http(app, tokens["read"]).get(f"{API}/campaigns/films/report")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert "sandbox allow-scripts" in answer.headers["content-security-policy"]
    page = answer.text
    assert page.startswith("<!DOCTYPE html>") and "<h1>Campaign report: films</h1>" in page
    assert "<h2>In plain words</h2><p class='plain'>" in page and "x (mm)" in page
    assert SECRET not in page and "password=***" in page
    assert "kiln report films --store" in page and "--seed 0" in page
    assert counted.calls == 1


def test_a_second_call_is_the_same_bytes_without_recomputing_until_the_campaign_changes(served: Any) -> None:
    app, campaign, tokens, counted = served
    client = http(app, tokens["read"])
    first = client.get(f"{API}/campaigns/films/report").content
    again = client.get(f"{API}/campaigns/films/report?seed=0").content
    assert again == first and counted.calls == 1 and app.state.reports.computed == 1
    other_seed = client.get(f"{API}/campaigns/films/report?seed=7")
    assert other_seed.status_code == 200 and "--seed 7" in other_seed.text and counted.calls == 2
    (experiment,) = campaign.ask(1)
    campaign.tell(experiment.id, 0.5)
    changed = client.get(f"{API}/campaigns/films/report").content
    assert counted.calls == 3 and changed != first and "9 completed" in changed.decode()
    assert client.get(f"{API}/campaigns/films/report").content == changed and counted.calls == 3


def test_an_unknown_campaign_is_the_404_of_the_other_routes(served: Any) -> None:
    app, _, tokens, counted = served
    client = http(app, tokens["admin"])
    missing = client.get(f"{API}/campaigns/nope/report")
    assert missing.status_code == 404
    assert missing.json() == client.get(f"{API}/campaigns/nope").json()
    assert missing.json()["detail"]["field"] == "name" and "films" not in missing.text
    assert counted.calls == 0


@pytest.mark.parametrize("seed", ["-1", str(2**32), "x"])
def test_a_seed_out_of_bounds_is_a_422_about_seed(served: Any, seed: str) -> None:
    app, _, tokens, counted = served
    answer = http(app, tokens["read"]).get(f"{API}/campaigns/films/report?seed={seed}")
    assert answer.status_code == 422 and answer.json()["detail"]["field"] == "seed"
    assert counted.calls == 0


def hold_reports(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Make every report wait until the test sets ``release``; ``started`` is set when one begins."""
    release, started = threading.Event(), threading.Event()
    real = kiln.server.report_cache.report_page

    def held(campaign: Campaign, seed: int) -> bytes:
        started.set()
        assert release.wait(60), "the test did not release the report"
        return real(campaign, seed)

    monkeypatch.setattr(kiln.server.report_cache, "report_page", held)
    return release, started


def test_a_report_asked_again_unchanged_is_a_304_made_and_sent_once(served: Any) -> None:
    app, campaign, tokens, counted = served
    reader = http(app, tokens["read"])
    first = reader.get(f"{API}/campaigns/films/report")
    tag = first.headers["etag"]
    assert (
        first.status_code == 200
        and tag.startswith('W/"report-')
        and first.headers["cache-control"] == "private, no-cache"
    )
    again = reader.get(f"{API}/campaigns/films/report", headers={"If-None-Match": f'"other", {tag}'})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert reader.get(f"{API}/campaigns/films/report", headers={"If-None-Match": "*"}).status_code == 304
    assert counted.calls == 1  # no page was made for the 304s
    other_seed = reader.get(f"{API}/campaigns/films/report?seed=3", headers={"If-None-Match": tag})
    assert other_seed.status_code == 200 and other_seed.headers["etag"] != tag
    (experiment,) = campaign.ask(1)
    campaign.tell(experiment.id, 0.5)
    changed = reader.get(f"{API}/campaigns/films/report", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag and b"9 completed" in changed.content
    # the tag is no key: a client without a token gets a 401 whatever it sends
    refused = http(app).get(f"{API}/campaigns/films/report", headers={"If-None-Match": changed.headers["etag"]})
    assert refused.status_code == 401 and counted.calls == 3
    too_long = reader.get(f"{API}/campaigns/films/report", headers={"If-None-Match": "x" * 2000})
    assert too_long.status_code == 422 and too_long.json()["detail"]["field"] == "if-none-match" and counted.calls == 3


def test_reports_beyond_the_bound_are_a_429_and_the_same_report_is_made_once(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, campaign, tokens, _ = served
    release, started = hold_reports(monkeypatch)
    reports = app.state.reports
    first = reports.report(campaign, 0)
    assert started.wait(60)
    assert reports.report(campaign, 0) is first  # the same page waits for the one being made
    with pytest.raises(Busy):
        reports.report(campaign, 1)
    busy = http(app, tokens["read"]).get(f"{API}/campaigns/films/report?seed=1")
    assert busy.status_code == 429 and busy.headers["retry-after"] == "5"
    assert busy.json()["detail"]["field"] == "name"
    release.set()
    assert b"Campaign report: films" in first.result(timeout=120)
    assert reports.computed == 1
    assert http(app, tokens["read"]).get(f"{API}/campaigns/films/report").content == first.result()
    assert reports.computed == 1


def test_a_report_made_while_the_campaign_changed_is_answered_but_not_kept(
    served: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, campaign, _, counted = served
    real = kiln.server.report_cache.report_page
    release, started = hold_reports(monkeypatch)
    reports = app.state.reports
    first = reports.report(campaign, 0)
    assert started.wait(60)
    (experiment,) = campaign.ask(1)
    campaign.tell(experiment.id, 0.5)  # a write while the page is made: it may hold part of it
    release.set()
    assert b"Campaign report: films" in first.result(timeout=120)
    monkeypatch.setattr(kiln.server.report_cache, "report_page", real)
    again = reports.report(campaign, 0).result(timeout=120)
    assert counted.calls == 2 and b"9 completed" in again
    assert reports.report(campaign, 0).result(timeout=120) == again and counted.calls == 2
