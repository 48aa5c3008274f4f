"""Reports of campaigns with few or no results, a minimised target, a categorical parameter and a scalarised
objective: the report is written, and says only what the record supports."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiln import Campaign, Objective, SearchSpace
from kiln.objective.targets import Target
from kiln.report.findings import campaign_findings
from kiln.report.html import report_html
from kiln.report.words import plain_summary, scientist_section
from kiln.space.parameters import Categorical, Continuous


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace([Continuous("x", 0.0, 1.0, unit="mL"), Categorical("solvent", ("water", "ethanol", "dmso"))])


def test_no_results_and_too_few_for_a_model(space: SearchSpace, tmp_path: Path) -> None:
    campaign = Campaign.create("e", space=space, objective=Objective.minimize("y"), store=f"sqlite:///{tmp_path}/e.db")
    empty = campaign_findings(campaign)
    assert empty.best is None and empty.progress is None and empty.cross_validation == []
    assert "No test has a full result yet." in plain_summary(empty)
    assert "not the best that can exist" not in plain_summary(empty)
    report_html(empty)
    campaign.add_data([{"x": 0.1, "solvent": "water", "y": 3.0}, {"x": 0.3, "solvent": "water", "y": 2.0}])
    two = campaign_findings(campaign)
    assert two.best is not None and two.best.measured[0].value == 2.0  # minimised: the lower value
    assert two.best.measured[0].predicted is None and two.random is None and two.effects == []
    summary = plain_summary(two)
    assert "too few tests yet to tell" in summary and "did not beat it" not in summary  # nothing came after them
    assert "no model prediction (too few experiments)" in scientist_section(two)[0]
    assert "<figure>" in report_html(two)  # the best so far is drawn without a model


def test_never_sampled_regions_and_categories(space: SearchSpace, tmp_path: Path) -> None:
    campaign = Campaign.create("r", space=space, objective=Objective.minimize("y"), store=f"sqlite:///{tmp_path}/r.db")
    rows = [(0.05, "water", 3.0), (0.25, "ethanol", 2.0), (0.15, "water", 2.5), (0.35, "ethanol", 1.5)]
    campaign.add_data([{"x": x, "solvent": s, "y": y} for x, s, y in rows])
    f = campaign_findings(campaign)
    regions = {r.parameter: r for r in f.unsampled}
    assert regions["x"].ranges == [pytest.approx((0.4, 0.6)), pytest.approx((0.6, 0.8)), pytest.approx((0.8, 1.0))]
    assert regions["solvent"].categories == ["dmso"]
    gaps = {g.subject: g for g in f.gaps if g.what == "region"}
    assert gaps["x"].more_experiments == 3 and gaps["solvent"].more_experiments == 1
    assert f.progress is not None and f.progress.best == [3.0, 2.0, 2.0, 1.5]  # the lowest so far, in mL's target


def test_a_scalarised_objective_names_each_target_of_the_best(space: SearchSpace, tmp_path: Path) -> None:
    objective = Objective(targets=(Target("a", unit="V"), Target("b", "min", unit="s")), scalarisation="desirability")
    campaign = Campaign.create("s", space=space, objective=objective, store=f"sqlite:///{tmp_path}/s.db")
    campaign.add_data([{"x": v, "solvent": "water", "a": v, "b": v * v} for v in (0.1, 0.5, 0.9, 0.3)])
    f = campaign_findings(campaign)
    assert f.best is not None and [m.target for m in f.best.measured] == ["a", "b"]
    assert f.target is None and f.random is None  # random comparison: one target only, for now
    assert "has a 0.5 V (measured once) and b 0.25 s (measured once)" in plain_summary(f)
    report_html(f)


def test_a_range_target_is_reported_as_its_distance_from_the_window(space: SearchSpace, tmp_path: Path) -> None:
    objective = Objective(targets=(Target("size", "range", unit="nm", low=80.0, high=120.0),))
    campaign = Campaign.create("w", space=space, objective=objective, store=f"sqlite:///{tmp_path}/w.db")
    campaign.add_data([{"x": x, "solvent": "water", "size": 200 * x} for x in (0.1, 0.2, 0.3, 0.45, 0.9)])
    f = campaign_findings(campaign)
    assert f.best is not None and 80 <= f.best.measured[0].value <= 120  # 200 * 0.45 = 90 is inside
    assert f.progress is not None and f.progress.best[-1] == pytest.approx(0.0)  # distance 0: inside the window
    assert f.random is not None
    assert any("expected smallest distance of size from its window" in line for line in scientist_section(f))
    assert '"text":"distance of size from its window (nm)"' in report_html(f)
