"""The campaign report in a real browser (Debian's Chromium, headless, driven by Playwright): the page ``kiln
report`` writes draws every figure, and the dashboard's Report button saves the server's report; a ``goal: map``
campaign's report and a benchmark suite's report draw every figure too, and neither scrolls sideways on a 390 px
wide phone.

A figure counts as drawn when plotly made its plot with traces in it and its screenshot holds coloured pixels
(the traces: plotly's colours, not the greys of axes, grid lines and text). Skipped when no Chromium is installed,
unless ``KILN_REQUIRE_BROWSER`` is set, as in test_dashboard_browser.py.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("KILN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    if os.environ.get("KILN_REQUIRE_BROWSER"):
        raise RuntimeError("KILN_REQUIRE_BROWSER is set but no Chromium was found; install Debian's chromium package")
    pytest.skip("no Chromium installed (apt-get install chromium)", allow_module_level=True)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from kiln import Campaign, Objective, SearchSpace  # noqa: E402
from kiln.cli.app import app as cli  # noqa: E402
from kiln.objective.targets import Target  # noqa: E402
from kiln.report.findings import campaign_findings  # noqa: E402
from kiln.report.html import report_html  # noqa: E402
from kiln.report.suite import suite_report_html  # noqa: E402
from kiln.server.app import create_app  # noqa: E402
from kiln.server.auth import create_token  # noqa: E402
from kiln.space.parameters import Continuous  # noqa: E402
from kiln.store import open_store  # noqa: E402
from test_dashboard_browser import BROWSER_ARGS, films, serve  # noqa: E402

FIGURES = 6
"""Figures of the ``films`` report: best so far, the partial dependence of x, z and solvent, the failure map and
the leave-one-out predictions."""
COLOURED = 20
"""Least pixels of a figure in colour (channels apart by more than 60) for its traces to count as drawn: a single
marker, the one failure of the failure map, is about 40."""
INKED = 0.01
"""Least share of a figure's pixels that are not white."""
PHONE = 390
"""A phone's viewport width (px); the page may be at most 2 px wider (rounding) or it scrolls sideways."""


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)  # every wait of Playwright's, on a busy machine
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page
        browser.close()
        assert errors == [], f"the page raised {errors}"


def wait_drawn(page: Page, figures: int) -> list[np.ndarray]:
    """Wait until plotly drew ``figures`` figures on the page, each with its traces (a trace's path with points);
    their screenshots as (h, w, 3) RGB arrays."""
    page.wait_for_function(
        """(n) => {
            const plots = [...document.querySelectorAll('.js-plotly-plot')];
            const drawn = (p) => [...p.querySelectorAll('svg .scatterlayer .trace path')]
                .some((path) => (path.getAttribute('d') || '').length > 2);
            return plots.length === n && plots.every(drawn);
        }""",
        arg=figures,
        timeout=60_000,
    )
    shots = []
    for index in range(figures):
        figure = page.locator(".js-plotly-plot").nth(index)
        figure.scroll_into_view_if_needed()
        shot = figure.screenshot()
        shots.append(np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int))
    return shots


def figures_drawn(page: Page, report: Path) -> list[np.ndarray]:
    """Open the report file and wait until it drew each of its figures (``wait_drawn``)."""
    expected = report.read_text(encoding="utf-8").count('class="plotly-graph-div"')
    assert expected == FIGURES, f"the report holds {expected} figures"
    page.goto(report.as_uri())
    return wait_drawn(page, expected)


def check_figures(shots: list[np.ndarray]) -> None:
    for index, image in enumerate(shots):
        assert image.shape[0] > 200 and image.shape[1] > 300, f"figure {index} is {image.shape[:2]} pixels"
        inked = float(np.mean(np.any(image < 245, axis=-1)))
        coloured = int(np.sum(image.max(axis=-1) - image.min(axis=-1) > 60))
        assert inked > INKED, f"figure {index}: {inked:.2%} of its pixels are not white"
        assert coloured >= COLOURED, f"figure {index}: {coloured} of its pixels are in colour: no traces drawn"


def test_the_report_kiln_report_writes_draws_every_figure(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    films(url)
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "films", "--out", str(out), "--store", url])
    assert result.exit_code == 0, result.output
    check_figures(figures_drawn(page, out))
    assert page.locator("h1").inner_text() == "Campaign report: films"
    assert page.locator("h2", has_text="In plain words").count() == 1
    assert page.locator("p.plain").inner_text().strip()


def test_the_dashboards_report_button_saves_the_servers_report(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    films(url)
    store = open_store(url)
    _, secret = create_token(store, "reader", "read")
    for base in serve(create_app(store)):  # no public reading: the button must send the page's token
        page.goto(f"{base}/#/campaign/films")
        page.wait_for_selector("#login:not([hidden])")
        page.fill("#token", secret)
        page.click("#login-form button")
        button = page.locator("#report-button")
        button.wait_for(state="visible", timeout=60_000)
        assert button.inner_text() == "Report"
        with page.expect_download(timeout=120_000) as download:
            button.click()
        saved = download.value
        assert saved.suggested_filename == "films-report.html"
        page.wait_for_function(
            "() => document.getElementById('report-note').textContent.startsWith('Saved as films-report.html')"
        )
        report = tmp_path / saved.suggested_filename
        saved.save_as(report)
        text = report.read_text(encoding="utf-8")
        assert "<h1>Campaign report: films</h1>" in text and "In plain words" in text
        check_figures(figures_drawn(page, report))
    store.close()


def test_the_report_button_says_why_when_the_server_refuses(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    films(url)
    store = open_store(url)
    _, secret = create_token(store, "reader", "read")
    for base in serve(create_app(store)):
        page.goto(f"{base}/#/campaign/films")
        page.wait_for_selector("#login:not([hidden])")
        page.fill("#token", secret)
        page.click("#login-form button")
        page.locator("#report-button").wait_for(state="visible", timeout=60_000)
        store.revoke_token("reader")
        page.click("#report-button")
        page.wait_for_function(
            "() => document.getElementById('report-note').textContent.startsWith('No report:')", timeout=60_000
        )
        assert "unknown or revoked" in page.locator("#report-note").inner_text()
    store.close()


def test_the_report_opened_from_the_route_draws_in_its_sandbox(tmp_path: Path, page: Page) -> None:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    films(url)
    store = open_store(url)
    for base in serve(create_app(store, public_read=True)):
        answer = page.goto(f"{base}/api/v1/campaigns/films/report")
        assert answer is not None and answer.ok
        assert "sandbox" in answer.headers["content-security-policy"]
        assert answer.body().decode().count('class="plotly-graph-div"') == FIGURES
        assert page.evaluate("() => window.origin") == "null"  # its scripts run away from the dashboard's origin
        check_figures(wait_drawn(page, FIGURES))
    store.close()


def _suite_results() -> dict[str, Any]:
    """Two datasets' synthetic results (as tests/report/test_suite_report.py builds them), one strategy with a
    single censored run."""

    def block(cycles: list[int | None]) -> dict[str, Any]:
        return {"config": {"kind": "default"}, "runs_planned": 10, "cycles_per_run": {"top_0.5": cycles}}

    def results(strategies: dict[str, dict[str, Any]]) -> dict[str, Any]:
        settings = {"budget": 50, "seed": 7, "initial": 2, "runs_planned": 10}
        return {"dataset": {"N": 100}, "settings": settings, "strategies": strategies}

    return {
        "clear": results({"random": block([30, 34, 38, 41, 45, None]), "kiln": block([8, 10, 11, 12, 14, 15])}),
        "overlap": results(
            {"kiln": block([10, 14, 18, 22, 26]), "random": block([12, 16, 20, 24]), "ax": block([None])}
        ),
    }


def _map_report(tmp_path: Path) -> str:
    """The report of a ``goal: map`` campaign over two continuous parameters with 12 measured points: five
    figures (the two partial dependences, the map, its std, the leave-one-out predictions)."""
    space = SearchSpace([Continuous("x", 0.0, 1.0, unit="fraction"), Continuous("t", 0.0, 100.0, unit="degC")])
    campaign = Campaign.create(
        "mapped",
        space=space,
        objective=Objective(targets=(Target("hardness", unit="GPa"),), goal="map"),
        store=f"sqlite:///{tmp_path / 'map.db'}",
        seed=3,
    )
    points = [(i / 11, 100.0 * ((5 * i) % 12) / 11) for i in range(12)]
    campaign.add_data([{"x": x, "t": t, "hardness": round(2.0 + math.sin(6.0 * x) + 0.02 * t, 4)} for x, t in points])
    return report_html(campaign_findings(campaign))


def _phone_width(page: Page) -> int:
    """Narrow the viewport to ``PHONE`` px, wait (up to 60 s) until the page, its plots resized by plotly, fits it;
    the page's width then (px)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.set_viewport_size({"width": PHONE, "height": 800})
    with contextlib.suppress(PlaywrightTimeout):  # the assertion below says how wide it stayed
        page.wait_for_function(f"() => document.documentElement.scrollWidth <= {PHONE + 2}", timeout=60_000)
    return int(page.evaluate("() => document.documentElement.scrollWidth"))


@pytest.mark.parametrize("which", ["suite", "map"])
def test_the_suite_and_map_reports_draw_every_figure_and_fit_a_phone(tmp_path: Path, page: Page, which: str) -> None:
    text = suite_report_html(_suite_results()) if which == "suite" else _map_report(tmp_path)
    report = tmp_path / f"{which}.html"
    report.write_text(text, encoding="utf-8")
    expected = text.count('class="plotly-graph-div"')
    assert expected == (2 if which == "suite" else 5), f"the {which} report holds {expected} figures"
    page.goto(report.as_uri())
    check_figures(wait_drawn(page, expected))
    width = _phone_width(page)
    assert width <= PHONE + 2, f"the {which} report is {width} px wide on a {PHONE} px phone: it scrolls sideways"
    check_figures(wait_drawn(page, expected))  # redrawn at the phone's width, still with their traces
