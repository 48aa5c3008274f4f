"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

The plots are checked on screenshots for drawn content (the colours of the traces, counted in pixels), the tables
for their rows, and live updates by changing the campaign while the page is open. Skipped when no Chromium is
installed, unless ``KILN_REQUIRE_BROWSER`` is set (``.ci/run`` sets it, and installs Chromium when missing).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from kiln import Campaign, Categorical, Continuous, Objective, SearchSpace
from kiln.objective import OutcomeConstraint, Target
from kiln.server.app import create_app
from kiln.server.auth import create_token
from kiln.store import open_store

CHROMIUM = os.environ.get("KILN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    if os.environ.get("KILN_REQUIRE_BROWSER"):
        raise RuntimeError("KILN_REQUIRE_BROWSER is set but no Chromium was found; install Debian's chromium package")
    pytest.skip("no Chromium installed (apt-get install chromium)", allow_module_level=True)

from PIL import Image  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

BLUE = (31, 119, 180)  # prediction and best-so-far lines
BAND = (210, 227, 240)  # the ± 2 std band: rgba(31,119,180,0.2) over white
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=60)


def films(url: str) -> Campaign:
    """A campaign with 12 results, a failure, a queued suggestion and one in flight on robot-1."""
    space = SearchSpace([Continuous("x", 0.0, 1.0), Continuous("z", -1.0, 1.0), Categorical("solvent", ("a", "b"))])
    campaign = Campaign.create("films", space=space, objective=Objective.maximize("y"), strategy="random", store=url)
    for experiment in campaign.ask(12):
        params = experiment.params
        value = 1.0 - (params["x"] - 0.4) ** 2 - 0.3 * params["z"] ** 2 + (0.2 if params["solvent"] == "b" else 0.0)
        campaign.tell(experiment.id, value)
    failed, queued, running = campaign.ask(3)
    campaign.fail(failed.id, "the film cracked")
    campaign.store.dispatch("films", running.id, "robot-1", "job-17")
    assert not queued.instrument
    return campaign


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Campaign, dict[str, str]]]:
    """A served store holding ``films``, with public reading; and the tokens made on it."""
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign = films(url)
    store = open_store(url)
    tokens = {"read": create_token(store, "reader", "read")[1]}
    for base in serve(create_app(store, public_read=True)):
        yield base, campaign, tokens
    store.close()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.set_default_timeout(60_000)  # every wait of Playwright's, on a busy machine
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert errors == [], f"the page raised {errors}"


def pixels(page: Page, selector: str) -> np.ndarray:
    """A screenshot of one element as an (h, w, 3) array of RGB values."""
    shot = page.locator(selector).screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)


def share_near(image: np.ndarray, colour: tuple[int, int, int], tolerance: int = 12) -> float:
    """Share of pixels within ``tolerance`` of ``colour`` in every channel."""
    return float(np.mean(np.all(np.abs(image - np.array(colour)) <= tolerance, axis=-1)))


def wait_until(check: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the page did not get there in time")
        time.sleep(0.2)


def open_campaign(page: Page, base: str) -> None:
    page.goto(f"{base}/#/campaign/films")
    page.wait_for_selector("#plot-model .main-svg", timeout=60_000)  # the model is drawn last


def test_the_plots_are_drawn(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, _, _ = lab
    open_campaign(page, base)
    progress = pixels(page, "#plot-progress")
    assert share_near(progress, BLUE) > 0.002  # the best-so-far line
    assert share_near(progress, (214, 39, 40), 20) > 0.0003  # the failure's red cross
    model = pixels(page, "#plot-model")
    assert share_near(model, BAND, 8) > 0.02  # the uncertainty band covers a good part of the plot
    assert share_near(model, BLUE) > 0.002  # the prediction line
    parameters = pixels(page, "#plot-parameters")
    not_grey = np.ptp(parameters, axis=-1) > 40  # viridis markers: coloured, not grey or white
    assert not_grey.mean() > 0.001
    traces = "document.getElementById('plot-parameters').data"
    assert page.evaluate(f"{traces}.filter((t) => t.name !== 'failed').length") == 3  # one plot per parameter
    assert page.evaluate(f"{traces}.filter((t) => t.name === 'failed').map((t) => t.x.length)") == [1, 1, 1]
    assert page.evaluate(f"{traces}[0].marker.showscale") is True  # a colour scale says which experiment is which
    assert page.evaluate(f"{traces}[0].marker.colorbar.title.text") == "experiment #"
    assert share_near(parameters, (214, 39, 40), 20) > 0.0001  # failures drawn as red crosses
    assert "without measurement noise" in page.locator("#model-note").inner_text()
    assert (
        page.evaluate("document.getElementById('plot-model').data[1].name")
        == "± 2 std of the mean (no measurement noise)"
    )
    assert page.evaluate("document.getElementById('plot-model').layout.yaxis.hoverformat") == ".4g"
    assert page.evaluate("document.getElementById('plot-progress').data[0].x.length") == 12


def test_tables_list_the_queue_the_experiments_in_flight_and_failures(
    lab: tuple[str, Campaign, dict[str, str]], page: Page
) -> None:
    base, _, _ = lab
    open_campaign(page, base)
    assert page.locator("#queue tbody tr").count() == 1
    in_flight = page.locator("#in-flight tbody tr")
    assert in_flight.count() == 1 and "robot-1" in in_flight.inner_text()
    assert "the film cracked" in page.locator("#failures tbody").inner_text()
    assert "12 completed" in page.locator("#summary").inner_text()
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(\d+ (s|min) ago\)"
    assert re.search(when, page.locator("#in-flight tbody").inner_text()), "dates are ISO 8601, in UTC"
    assert re.search(when, page.locator("#failures tbody").inner_text())
    assert re.fullmatch(r"live · updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page.locator("#live").inner_text())


def test_the_model_follows_the_chosen_parameter(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, _, _ = lab
    open_campaign(page, base)
    title = "document.getElementById('plot-model').layout.xaxis.title.text"
    assert page.evaluate(title) == "x"
    page.select_option("#model-parameter", "solvent")
    wait_until(lambda: page.evaluate(title) == "solvent")
    assert page.evaluate("document.getElementById('plot-model').data[0].x") == ["a", "b"]


def test_the_page_updates_live_while_the_campaign_runs(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, campaign, _ = lab
    open_campaign(page, base)
    queued = next(e for e in campaign.pending() if not e.instrument)
    campaign.tell(queued.id, 5.0)
    wait_until(lambda: page.locator("#summary").get_attribute("data-completed") == "13")
    assert page.evaluate("document.getElementById('plot-progress').data[1].y.slice(-1)[0]") == 5.0
    assert page.locator("#queue tbody").inner_text().strip() == "none"
    (running,) = campaign.pending()
    campaign.fail(running.id, "robot-1 jammed")
    wait_until(lambda: "robot-1 jammed" in page.locator("#failures tbody").inner_text())


def test_the_campaign_list_links_to_each_campaign(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, _, _ = lab
    page.goto(base)
    page.wait_for_selector("#campaigns tbody tr")
    cells = page.locator("#campaigns tbody tr").inner_text().split("\t")
    assert cells[2:7] == ["12", "1", "2", "0", "0"]  # completed, failed, pending, retracted, discarded
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", cells[1]), cells[1]
    page.click("text=films")
    page.wait_for_selector("#plot-progress .main-svg")
    assert page.url.endswith("#/campaign/films")


def test_a_server_without_public_reading_asks_for_a_token(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    films(url)
    store = open_store(url)
    _, secret = create_token(store, "reader", "read")
    for base in serve(create_app(store)):
        page.goto(f"{base}/#/campaign/films")
        page.wait_for_selector("#login:not([hidden])")
        words = page.locator("#login-reason").inner_text()
        assert "access token" in words and "Whoever runs the server" in words and "API" not in words
        assert page.locator("label:has(#token)").inner_text().strip() == "Access token"
        page.fill("#token", "kiln_not-a-token")
        page.click("#login-form button")
        wait_until(lambda: "unknown or revoked" in page.locator("#login-reason").inner_text())
        page.fill("#token", secret)
        page.click("#login-form button")
        page.wait_for_selector("#plot-model .main-svg", timeout=60_000)
        assert page.locator("#login").is_hidden()
    store.close()


def test_leaving_a_campaign_while_it_loads_shows_the_next_one(tmp_path: Path, page: Page) -> None:
    """films' experiments are held on the server until beads is shown; films' answer, arriving then, is dropped."""
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    space = SearchSpace([Continuous("size", 1.0, 9.0)])
    beads = Campaign.create("beads", space=space, objective=Objective.minimize("loss"), strategy="random", store=url)
    for experiment in beads.ask(3):
        beads.tell(experiment.id, experiment.params["size"])
    films(url)  # made after beads: its event cursors are all larger than beads'
    app = create_app(open_store(url), public_read=True)
    asked, release = threading.Event(), threading.Event()
    held = "/api/v1/campaigns/films/experiments"

    @app.middleware("http")
    async def hold_films(request: Any, call_next: Any) -> Any:
        if request.url.path == held:
            asked.set()
            await anyio.to_thread.run_sync(release.wait, 60)
        return await call_next(request)

    def beads_shown() -> bool:
        return (
            page.locator("#campaign-name").inner_text() == "beads"
            and "3 completed" in page.locator("#summary").inner_text()
        )

    for base in serve(app):
        try:
            page.goto(f"{base}/#/campaign/films")
            wait_until(asked.is_set)  # films' experiments are on their way, held
            page.evaluate("location.hash = '#/campaign/beads'")
            wait_until(beads_shown)
            with page.expect_request_finished(lambda request: request.url.endswith(held)):
                release.set()  # films' answer arrives now, after beads is shown, and must be dropped
            for _ in range(2):  # the second poll to draw began after films' answer: a whole poll since
                page.evaluate("document.getElementById('live').textContent = 'films answered'")
                wait_until(lambda: page.locator("#live").inner_text() != "films answered")
        finally:
            release.set()
        assert beads_shown(), page.locator("#campaign-name").inner_text()
        assert page.evaluate("document.getElementById('plot-progress').data[0].x.length") == 3


def test_text_from_the_campaign_is_shown_as_written_not_as_markup(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    link = '<a href="https://elsewhere.example/">log in again</a>'
    space = SearchSpace([Continuous("x", 0.0, 1.0), Categorical("solvent", (link, "<b>water</b>"))])
    campaign = Campaign.create("films", space=space, objective=Objective.maximize("y"), strategy="random", store=url)
    for experiment in campaign.ask(6):
        campaign.tell(experiment.id, experiment.params["x"])
    for base in serve(create_app(open_store(url), public_read=True)):
        open_campaign(page, base)
        assert page.locator("#plot-parameters a").count() == 0  # no link made from the category's text
        ticks = page.evaluate(
            "[...document.querySelectorAll('#plot-parameters .xaxislayer-above text')].map((t) => t.textContent)"
        )
        assert link in ticks and "<b>water</b>" in ticks


def test_amended_and_retracted_experiments_are_marked(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, campaign, _ = lab
    done = [e for e in campaign.experiments() if e.status.value == "completed"]
    campaign.amend(done[0].id, 0.5, reason="typo in the lab book")
    campaign.retract(done[1].id, reason="wrong sample loaded")
    open_campaign(page, base)
    retracted_row = page.locator(f"#results tbody tr[data-id='{done[1].id}']")
    assert "retracted" in (retracted_row.get_attribute("class") or "")
    assert (
        page.evaluate(
            f"getComputedStyle(document.querySelector(\"#results tr[data-id='{done[1].id}'] td\")).textDecorationLine"
        )
        == "line-through"
    )
    amended_row = page.locator(f"#results tbody tr[data-id='{done[0].id}']")
    assert "amended 1×" in amended_row.inner_text() and "0.5" in amended_row.inner_text()
    assert "1 retracted" in page.locator("#summary").inner_text()
    progress = "document.getElementById('plot-progress').data"
    assert page.evaluate(f"{progress}[0].x.length") == 11  # the retracted result is not a result any more
    hollow = page.evaluate(f"{progress}.find((t) => t.name.startsWith('retracted'))")
    assert hollow["x"] == [done[1].seq] and hollow["marker"]["symbol"] == "circle-open"
    symbols = page.evaluate(f"{progress}[0].marker.symbol")
    assert symbols[page.evaluate(f"{progress}[0].x").index(done[0].seq)] == "diamond"


def test_corrections_from_the_page_ask_for_a_write_token(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, campaign, _ = lab
    writer = create_token(campaign.store, "ana", "write")[1]
    first = next(e for e in campaign.experiments() if e.status.value == "completed")
    open_campaign(page, base)
    page.select_option("#correct-id", first.id)
    page.select_option("#correct-action", "amend")
    page.fill("#correct-value", "7.5")
    page.fill("#correct-reason", "typo")
    page.click("#correct-form button")
    page.wait_for_selector("#write-token:visible")  # public reading, but writing needs a token
    assert "write" in page.locator("#correct-note").inner_text()
    assert campaign.experiment(first.id).results != {"y": 7.5}
    page.fill("#write-token", writer)
    page.click("#correct-form button")
    wait_until(lambda: campaign.experiment(first.id).results == {"y": 7.5})
    (version,) = [r for r in campaign.history(first.id) if r.number == 1]
    assert (version.note, version.actor) == ("typo", "ana")
    wait_until(lambda: "amended 1×" in page.locator("#results tbody").inner_text())
    page.select_option("#correct-action", "retract")
    assert page.locator("#correct-value").is_hidden()
    page.fill("#correct-reason", "bad run")
    page.click("#correct-form button")
    wait_until(lambda: campaign.experiment(first.id).retracted)
    queued = next(e for e in campaign.pending() if not e.instrument)
    page.select_option("#correct-id", queued.id)
    page.select_option("#correct-action", "discard")
    page.fill("#correct-reason", "")
    page.click("#correct-form button")
    wait_until(lambda: campaign.experiment(queued.id).status.value == "discarded")
    wait_until(lambda: page.locator("#queue tbody").inner_text().strip() == "none")


def test_axis_titles_carry_the_parameters_units(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    space = SearchSpace([Continuous("x", 0.0, 1.0, unit="mg/mL", precision=0.01), Continuous("z", 0.0, 1.0)])
    objective = Objective((Target("y", unit="S/cm"),))
    campaign = Campaign.create("films", space=space, objective=objective, strategy="random", store=url)
    for experiment in campaign.ask(6):
        campaign.tell(experiment.id, experiment.params["x"])
    model = "document.getElementById('plot-model').layout.xaxis.title.text"
    for base in serve(create_app(open_store(url), public_read=True)):
        open_campaign(page, base)
        wait_until(lambda: page.evaluate(model) == "x [mg/mL]")
        parameters = "document.getElementById('plot-parameters').layout"
        assert page.evaluate(f"{parameters}.xaxis.title.text") == "x [mg/mL]"
        assert page.evaluate(f"{parameters}.xaxis2.title.text") == "z"
        assert page.evaluate(f"{parameters}.yaxis.title.text") == "y [S/cm]"
        assert page.evaluate("document.getElementById('plot-model').layout.yaxis.title.text") == "y [S/cm]"


def test_the_counts_and_the_run_holding_the_lease_are_shown(
    lab: tuple[str, Campaign, dict[str, str]], page: Page
) -> None:
    base, campaign, _ = lab
    done = [e for e in campaign.experiments() if e.status.value == "completed"]
    campaign.amend(done[0].id, 0.5, reason="typo in the lab book")
    campaign.retract(done[1].id, reason="wrong sample loaded")
    lease = campaign.store.acquire_lease("films", "run-1", host="lab-pc", pid=4242, expiry=600)
    page.goto(base)
    page.wait_for_selector("#campaigns tbody tr")
    cells = page.locator("#campaigns tbody tr").inner_text().split("\t")
    assert cells[2:7] == ["11", "1", "2", "1", "0"]  # completed, failed, pending, retracted, discarded
    open_campaign(page, base)
    summary = page.locator("#summary").inner_text()
    assert "11 completed · 1 failed · 2 pending · 1 retracted · 1 amended" in summary, summary
    since = lease.since.isoformat()[:16].replace("T", " ")
    assert f"run by process 4242 on lab-pc since {since} UTC" in summary, summary


# ------------------------------------------------------------------------------------------------ several targets
RED = (214, 39, 40)  # constraint limits and failures


def coatings(url: str) -> tuple[Campaign, list[str]]:
    """Targets yield (max) and cost (min) with stability >= 0.9: eight results, whose front is #1, #2 and #5;
    #4 breaks the constraint; then one experiment with yield told and cost and stability missing."""
    objective = Objective(
        (Target("yield", unit="%"), Target("cost", direction="min")),
        (OutcomeConstraint("stability", ">=", 0.9),),
    )
    space = SearchSpace([Continuous("x", 0.0, 1.0), Continuous("z", -1.0, 1.0)])
    campaign = Campaign.create("coatings", space=space, objective=objective, strategy="random", store=url)
    measured = [
        (80.0, 2.0, 0.95),
        (90.0, 4.0, 0.92),
        (70.0, 3.0, 0.99),
        (99.0, 1.0, 0.5),
        (60.0, 1.0, 0.97),
        (65.0, 2.5, 0.93),
        (75.0, 3.5, 0.91),
        (50.0, 1.5, 0.96),
    ]
    for experiment, (y, cost, stability) in zip(campaign.ask(len(measured)), measured, strict=True):
        campaign.tell(experiment.id, {"yield": y, "cost": cost, "stability": stability})
    (partial,) = campaign.ask(1)
    campaign.tell(partial.id, {"yield": 85.0})
    return campaign, [e.id for e in campaign.pareto()]


@pytest.fixture
def coated(tmp_path: Path) -> Iterator[tuple[str, Campaign, list[str]]]:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign, front = coatings(url)
    store = open_store(url)
    for base in serve(create_app(store, public_read=True)):
        yield base, campaign, front
    store.close()


def test_several_targets_draw_the_front_and_fade_the_others(
    coated: tuple[str, Campaign, list[str]], page: Page
) -> None:
    base, campaign, front = coated
    page.goto(f"{base}/#/campaign/coatings")
    page.wait_for_selector("#plot-hv .main-svg", timeout=60_000)
    assert page.locator("#card-progress").is_hidden() and page.locator("#card-front").is_visible()
    traces = "document.getElementById('plot-front').data"
    drawn = page.evaluate(f"{traces}.find((t) => t.name === 'Pareto front')")
    seqs = {e.id: e.seq for e in campaign.experiments()}
    assert sorted(drawn["x"]) == sorted(campaign.experiment(i).results["yield"] for i in front)
    assert len(front) == 3 and drawn["mode"] == "lines+markers"
    faded = page.evaluate(f"{traces}.find((t) => t.name === 'beaten by the front')")
    assert len(faded["x"]) == 4 and faded["marker"]["opacity"] < 0.5  # #3, #6, #7 and #8
    broken = page.evaluate(f"{traces}.find((t) => t.name === 'breaks a constraint')")
    assert broken["x"] == [99.0] and broken["marker"]["opacity"] < 0.5
    assert page.evaluate("document.getElementById('plot-front').layout.xaxis.title.text") == "yield [%]"
    image = pixels(page, "#plot-front")
    assert share_near(image, BLUE) > 0.002  # the front's line and markers
    summary = page.locator("#summary").inner_text()
    assert "3 on the Pareto front" in summary and "subject to stability >= 0.9" in summary, summary
    assert "maximising yield, minimising cost" in summary and "1 partly measured" in summary, summary
    assert "waiting for cost, stability" in page.locator("#queue tbody").inner_text()
    header = page.locator("#results thead").inner_text().split("\t")
    assert header[:4] == ["#", "yield", "cost", "stability"], header
    rows = page.locator("#results tbody").inner_text()
    assert "on the Pareto front" in rows and "breaks stability >= 0.9" in rows
    assert seqs[front[0]] == 1


def test_an_experiment_an_instrument_measured_in_part_waits_in_the_queue_not_in_flight(
    tmp_path: Path, page: Page
) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    campaign, _ = coatings(url)
    measured, running = campaign.ask(2)
    for experiment, job in ((measured, "job-3"), (running, "job-4")):
        campaign.store.dispatch("coatings", experiment.id, "reactor", job)
    campaign.tell(measured.id, {"yield": 70.0, "cost": 2.0})  # the reactor reported these: stability is awaited
    store = open_store(url)
    for base in serve(create_app(store, public_read=True)):
        page.goto(f"{base}/#/campaign/coatings")
        page.wait_for_selector("#plot-hv .main-svg", timeout=60_000)
        in_flight = page.locator("#in-flight tbody tr")
        assert in_flight.count() == 1 and f"#{running.seq}" in in_flight.inner_text()
        queue = page.locator("#queue tbody").inner_text()
        assert f"#{measured.seq}" in queue and "yield=70, cost=2; waiting for stability" in queue, queue
    store.close()


def test_the_hypervolume_grows_with_the_experiments(coated: tuple[str, Campaign, list[str]], page: Page) -> None:
    base, campaign, _ = coated
    page.goto(f"{base}/#/campaign/coatings")
    page.wait_for_selector("#plot-hv .main-svg", timeout=60_000)
    curve = page.evaluate("document.getElementById('plot-hv').data[0]")
    assert curve["x"] == list(range(1, 9))
    assert all(b >= a for a, b in zip(curve["y"], curve["y"][1:], strict=False)) and curve["y"][-1] > curve["y"][0]
    assert share_near(pixels(page, "#plot-hv"), BLUE) > 0.002
    assert "reference point" in page.locator("#hv-note").inner_text()
    (partial,) = campaign.pending()
    campaign.tell(partial.id, {"cost": 0.5, "stability": 0.99})  # completes it: yield 85 at cost 0.5 beats #1
    wait_until(lambda: len(page.evaluate("document.getElementById('plot-hv').data[0].x")) == 9)
    assert page.evaluate("document.getElementById('plot-hv').data[0].y.slice(-1)[0]") > curve["y"][-1]


def test_constraint_limits_are_drawn_on_the_plots(coated: tuple[str, Campaign, list[str]], page: Page) -> None:
    base, _, _ = coated
    page.goto(f"{base}/#/campaign/coatings")
    page.wait_for_selector("#plot-parameters .main-svg", timeout=60_000)
    page.select_option("#parameters-quantity", "stability")
    layout = "document.getElementById('plot-parameters').layout"
    wait_until(lambda: page.evaluate(f"{layout}.yaxis.title.text") == "stability")
    shapes = page.evaluate(f"{layout}.shapes")
    assert [(s["yref"], s["y0"], s["line"]["dash"]) for s in shapes] == [("y", 0.9, "dash"), ("y2", 0.9, "dash")]
    assert share_near(pixels(page, "#plot-parameters"), RED, 20) > 0.0005  # the dashed limit lines
    model = "document.getElementById('plot-model').layout"
    page.wait_for_selector("#plot-model .main-svg", timeout=60_000)  # several targets: a model per quantity
    assert page.evaluate(f"{model}.yaxis.title.text") == "yield [%]"
    page.select_option("#model-quantity", "stability")
    wait_until(lambda: page.evaluate(f"{model}.yaxis.title.text") == "stability", 60)
    assert [s["y0"] for s in page.evaluate(f"{model}.shapes")] == [0.9]
    assert "Pareto front" in page.locator("#model-note").inner_text()
    page.select_option("#front-y", "stability")
    wait_until(lambda: page.evaluate("document.getElementById('plot-front').layout.yaxis.title.text") == "stability")
    assert [s["y0"] for s in page.evaluate("document.getElementById('plot-front').layout.shapes")] == [0.9]
    page.goto(base)
    page.wait_for_selector("#campaigns tbody tr")
    assert "3 on the Pareto front" in page.locator("#campaigns tbody tr").inner_text()


def test_a_window_target_draws_its_window(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    objective = Objective((Target("size", direction="range", low=80.0, high=120.0, unit="nm"),))
    space = SearchSpace([Continuous("x", 0.0, 1.0)])
    campaign = Campaign.create("beads", space=space, objective=objective, strategy="random", store=url)
    for experiment, size in zip(campaign.ask(6), [60.0, 130.0, 100.0, 85.0, 150.0, 70.0], strict=True):
        campaign.tell(experiment.id, size)
    for base in serve(create_app(open_store(url), public_read=True)):
        page.goto(f"{base}/#/campaign/beads")
        page.wait_for_selector("#plot-progress .main-svg", timeout=60_000)
        shapes = page.evaluate("document.getElementById('plot-progress').layout.shapes")
        assert sorted(s["y0"] for s in shapes) == [80.0, 120.0]
        assert "size in 80 to 120" in page.locator("#summary").inner_text()
        bests = page.evaluate("document.getElementById('plot-progress').data[1].y")
        assert bests == [60.0, 130.0, 100.0, 100.0, 100.0, 100.0]  # by the distance to the window
        assert share_near(pixels(page, "#plot-progress"), RED, 20) > 0.0005


def test_a_correction_of_several_quantities_is_written_as_names_and_values(
    coated: tuple[str, Campaign, list[str]], page: Page
) -> None:
    base, campaign, front = coated
    writer = create_token(campaign.store, "ana", "write")[1]
    page.goto(f"{base}/#/campaign/coatings")
    page.wait_for_selector("#plot-hv .main-svg", timeout=60_000)
    page.select_option("#correct-id", front[0])
    page.select_option("#correct-action", "amend")
    assert page.get_attribute("#correct-value", "placeholder") == "e.g. yield=1.5"
    page.fill("#correct-value", "cost=1.75")
    page.fill("#correct-reason", "typo")
    page.click("#correct-form button")
    page.wait_for_selector("#write-token:visible")  # public reading: the page asks for a token that may write
    page.fill("#write-token", writer)
    page.click("#correct-form button")
    wait_until(lambda: campaign.experiment(front[0]).results["cost"] == 1.75)
    assert campaign.experiment(front[0]).results["yield"] == 80.0  # the other quantities keep their values
    page.fill("#correct-value", "cost")
    page.click("#correct-form button")
    wait_until(lambda: "name=value" in page.locator("#correct-note").inner_text())


def test_the_encoding_of_each_text_input_is_shown(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    solvent = Categorical("solvent", ("CC#N", "C1CCOC1", "Cc1ccccc1"))
    space = SearchSpace([Continuous("x", 0.0, 1.0), solvent, Categorical("lot", ("a", "b"))])
    campaign = Campaign.create("films", space=space, objective=Objective.maximize("y"), strategy="random", store=url)
    for experiment in campaign.ask(3):
        campaign.tell(experiment.id, experiment.params["x"])
    for base in serve(create_app(open_store(url), public_read=True)):
        open_campaign(page, base)
        wait_until(lambda: page.locator("#encodings").is_visible())
        text = page.locator("#encodings").inner_text()
        assert f"solvent: {solvent.describe_encoding()}" in text and "descriptors, chosen by auto" in text
        assert "lot: one-hot: 2 columns" in text


def test_a_microscope_campaign_draws_the_overview_and_the_predicted_map(tmp_path: Path, page: Page) -> None:
    from kiln.space.pool_image import pixel_pool

    url = f"sqlite:///{tmp_path / 'lab.db'}"
    y, x = np.mgrid[0:20, 0:20]
    image = np.exp(-((x - 5) ** 2 + (y - 13) ** 2) / 12.0)
    campaign = Campaign.create(
        "films",
        space=pixel_pool(image, patch=5),
        objective=Objective.maximize("loop_area"),
        strategy="random",
        store=url,
    )
    for experiment in campaign.ask(10):
        p = experiment.params
        campaign.tell(experiment.id, {"loop_area": 1.0 + float(image[int(p["y"]), int(p["x"])])})
    campaign.ask(1)
    for base in serve(create_app(open_store(url), public_read=True)):
        open_campaign(page, base)
        page.wait_for_selector("#plot-map-std .main-svg", timeout=60_000)
        assert page.locator("#card-image-map").is_visible()
        for plot in ("#plot-map-mean", "#plot-map-std"):
            drawn = pixels(page, plot)
            assert (np.ptp(drawn, axis=-1) > 60).mean() > 0.1  # a coloured heat map fills much of the plot
        overview = pixels(page, "#plot-overview")
        greys = np.ptp(overview, axis=-1) < 8
        assert greys.mean() > 0.3 and (overview.mean(axis=-1) < 200).mean() > 0.05  # the grey image, not blank
        measured = page.evaluate("document.getElementById('plot-overview').data[1].x.length")
        assert measured == 10
        assert page.evaluate("document.getElementById('plot-overview').data[2].x.length") == 1  # running
        note = page.locator("#image-map-note").inner_text()
        assert "fitted on 10 measured pixels" in note and "least sure at" in note


def test_campaigns_without_an_image_hide_the_map(lab: tuple[str, Campaign, dict[str, str]], page: Page) -> None:
    base, _, _ = lab
    open_campaign(page, base)
    assert not page.locator("#card-image-map").is_visible()
