"""The report of a ``goal: map`` campaign: how good the map is, where it is least sure, the map and its std."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from readability import flesch_reading_ease

from kiln import Campaign, Objective, SearchSpace
from kiln.objective.targets import Target
from kiln.report.figures import report_figures
from kiln.report.findings import Findings, campaign_findings
from kiln.report.html import report_html
from kiln.report.words import HYPE_WORDS, expert_section, plain_summary, scientist_section
from kiln.space.parameters import Continuous


def _surface(x: float, t: float) -> float:
    return 2.0 + math.sin(6.0 * x) + 0.02 * t


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> Findings:
    tmp = tmp_path_factory.mktemp("map")
    space = SearchSpace([Continuous("x", 0.0, 1.0, unit="fraction"), Continuous("t", 0.0, 100.0, unit="degC")])
    campaign = Campaign.create(
        "mapped",
        space=space,
        objective=Objective(targets=(Target("hardness", unit="GPa"),), goal="map"),
        store=f"sqlite:///{tmp / 'map.db'}",
        seed=3,
    )
    points = [(i / 19, 100.0 * ((7 * i) % 20) / 19) for i in range(20)]
    campaign.add_data([{"x": x, "t": t, "hardness": round(_surface(x, t), 4)} for x, t in points])
    return campaign_findings(campaign)


def test_a_map_report_says_how_good_the_map_is_not_what_was_best(findings: Findings) -> None:
    plain = plain_summary(findings)
    assert "to map hardness" in plain and "off by about" in plain and "over 20 tests" in plain
    assert "So the map follows the results well." in plain  # a smooth surface: leave-one-out R^2 above 0.8
    assert "best result" not in plain and findings.progress is None and findings.random is None
    assert flesch_reading_ease(plain) >= 50, plain
    text = " ".join([plain, *scientist_section(findings), *expert_section(findings)]).lower()
    assert not [w for w in HYPE_WORDS if re.search(rf"\b{re.escape(w)}\b", text)]
    science = " ".join(scientist_section(findings))
    assert "least sure at x=" in science and "leave-one-out RMSE" in science
    assert any("mapped everywhere" in t.wanted for t in findings.question.targets)


def test_the_map_and_its_uncertainty_are_drawn_over_the_space(findings: Findings) -> None:
    (view,) = findings.maps
    assert (view.xname, view.yname, view.xunit, view.yunit) == ("x", "t", "fraction", "degC")
    assert len(view.x) == len(view.mean) == len(view.std) > 100 and len(view.measured_x) == 20
    assert min(view.std) >= 0 and max(view.std) > min(view.std)
    # the model's mean follows the surface it was measured on
    errors = [abs(m - _surface(x, t)) for x, t, m in zip(view.x, view.y, view.mean, strict=True)]
    assert sorted(errors)[len(errors) // 2] < 0.2
    keys = [f.key for f in report_figures(findings)]
    assert "map-mean-hardness" in keys and "map-std-hardness" in keys and "progress" not in keys
    page = report_html(findings)
    assert "The map of hardness" in page and "How sure the map of hardness is" in page
    assert '"text":"std of hardness (GPa)"' in page and '"text":"t (degC)"' in page


def test_an_optimisation_report_draws_no_map(report_findings: dict[str, Findings], tmp_path: Path) -> None:
    assert all(f.maps == () and f.map_error is None for f in report_findings.values())
