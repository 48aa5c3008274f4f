"""The HTML report: one self-contained file (plotly.js inlined once, no external URL), readable on a phone,
printable, with its figures, and every piece of campaign text escaped; ``kiln report`` writes it."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.offline
import pytest
from typer.testing import CliRunner

from kiln import Campaign, Objective, SearchSpace
from kiln.cli.app import app
from kiln.objective.targets import Target
from kiln.report.figures import LINE_MARKERS, report_figures
from kiln.report.findings import Findings, campaign_findings
from kiln.report.html import report_html
from kiln.report.words import HYPE_WORDS, expert_section, plain_summary, scientist_section
from kiln.space.parameters import Continuous


@pytest.fixture(scope="module")
def pages(report_findings: dict[str, Findings]) -> dict[str, str]:
    return {name: report_html(f) for name, f in report_findings.items()}


def _outside_plotly(page: str) -> str:
    bundle = plotly.offline.get_plotlyjs()
    assert page.count(bundle) == 1  # inlined once, shared by every figure
    return page.replace(bundle, "")


def test_the_page_is_self_contained(pages: dict[str, str]) -> None:
    for page in pages.values():
        rest = _outside_plotly(page)
        assert not re.search(r"https?://", rest)
        assert not re.search(r"<script[^>]+src=|<link[^>]+href=", rest)
        assert "<meta name='viewport' content='width=device-width, initial-scale=1'>" in rest
        assert "@media print" in rest and "@media (max-width:600px)" in rest


def test_the_figures_are_there_with_captions_and_axis_titles(pages: dict[str, str]) -> None:
    win, flat = pages["win"], pages["flat"]
    # best so far, two partial dependences, the failure map, leave-one-out
    assert win.count("<figure>") == 5 and win.count("<figcaption>") == 5
    assert flat.count("<figure>") == 4  # no failures: no failure map
    for text in ("random sampling, expected ± 1 std", "best found so far", "partial dependence, band ± 1 std"):
        assert text in win
    for title in ("best yield (mg)", "x (fraction)", "t (degC)", "measured yield (mg)", "experiments counted (n)"):
        assert f'"text":"{title}"' in win
    assert "Where experiments failed" in win and "Where experiments failed" not in flat
    assert win.count('"showlegend":true') >= 5  # every figure shows its legend, one-trace figures too


def test_campaign_text_is_escaped(pages: dict[str, str]) -> None:
    win = _outside_plotly(pages["win"])
    assert "film <b>cracked</b>" not in win and "synthetic <win>" not in win
    assert "film &lt;b&gt;cracked&lt;/b&gt; &amp; peeled" in win
    assert "synthetic &lt;win&gt;" in win


def test_several_targets_show_the_pareto_front(tmp_path: Path) -> None:
    space = SearchSpace([Continuous("x", 0.0, 1.0, unit="mm")])
    objective = Objective(targets=(Target("a", unit="V"), Target("b", "min", unit="s")))
    campaign = Campaign.create("mo", space=space, objective=objective, store=f"sqlite:///{tmp_path / 'mo.db'}")
    campaign.add_data([{"x": x, "a": x, "b": x * x} for x in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)])
    f = campaign_findings(campaign)
    assert f.best is None and f.target is None and len(f.front) == 6  # a rises and b rises: every point trades off
    assert all(len(point.measured) == 2 for point in f.front)
    text = "\n".join([plain_summary(f), *scientist_section(f), *expert_section(f)]).lower()
    assert not [w for w in HYPE_WORDS if re.search(rf"\b{re.escape(w)}\b", text)]
    assert "pareto front, experiment" in text
    front = next(spec for spec in report_figures(f) if spec.key == "front").series[0]
    assert front.style == LINE_MARKERS and list(front.x) == sorted(front.x) and len(front.x) == 6
    page = report_html(f)
    assert "Pareto front" in page and '"text":"a (V)"' in page and '"text":"b (s)"' in page


def test_kiln_report_writes_the_file(report_campaigns: dict[str, Campaign], tmp_path: Path) -> None:
    campaign = report_campaigns["rising"]
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", "rising", "--out", str(out), "--store", campaign.store.url])
    assert result.exit_code == 0, result.output
    assert "written to" in result.output
    page = out.read_text(encoding="utf-8")
    assert "Campaign report: rising" in page and "still getting better" in page
    missing = CliRunner().invoke(app, ["report", "nope", "--out", str(out), "--store", campaign.store.url])
    assert missing.exit_code == 1 and "nope" in missing.output
