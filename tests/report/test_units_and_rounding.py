"""Units a report shows when the spec gives none (the unit in the column's name), numbers rounded to their
uncertainty, never-sampled regions named, items not established grouped by what they are about, and the
command that rewrites the report."""

from __future__ import annotations

import math
import re

import pytest
from test_words import NUMBER, QUALIFIED

from kiln import Campaign, CandidatePool, Objective
from kiln.objective.targets import Target
from kiln.report.findings import campaign_findings
from kiln.report.question import plus_minus, unit_of
from kiln.report.words import plain_summary, scientist_section


@pytest.mark.parametrize(
    ("name", "unit", "shown"),
    [
        ("Conductivity (measured) (S/cm)", "", "S/cm"),
        ("P3HT content (%)", "", "%"),
        ("yield", "mg", "mg"),
        ("yield", "", ""),
        ("rate (1/s)", "Hz", "Hz"),
    ],
)
def test_the_unit_is_the_declared_one_or_the_names_last_parentheses(name: str, unit: str, shown: str) -> None:
    assert unit_of(name, unit) == shown


@pytest.mark.parametrize(
    ("value", "spread", "text"),
    [
        (700.4, 38.02, "700 ± 38"),
        (754.0, 57.52, "754 ± 58"),
        (0.1234, 0.0045, "0.1234 ± 0.0045"),
        (9.984, 0.07467, "9.984 ± 0.075"),
        (12345.0, 1234.0, "12300 ± 1200"),
        (10.0, 0.0, "10 ± 0"),
    ],
)
def test_a_value_is_rounded_to_two_figures_of_its_uncertainty(value: float, spread: float, text: str) -> None:
    assert plus_minus(value, spread) == text


@pytest.fixture(scope="module")
def unitless(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    """A pool campaign whose units are only in its column names, one region of ``part (%)`` never sampled."""
    tmp = tmp_path_factory.mktemp("units")
    parts = [float(v) for v in range(0, 101, 4)]
    pool = CandidatePool(["part (%)"], [[p] for p in parts])
    campaign = Campaign.create(
        "films",
        space=pool,
        objective=Objective((Target("Conductivity (S/cm)"),)),
        strategy="random",
        store=f"sqlite:///{tmp / 'u.db'}",
    )
    measured = [p for p in parts if p < 60]  # nothing at 60 % and above
    campaign.add_data([{"part (%)": p, "Conductivity (S/cm)": 5 + 3 * math.sin(p / 9)} for p in measured])
    return campaign


def test_a_name_s_unit_is_shown_and_every_plain_number_is_qualified(unitless: Campaign) -> None:
    f = campaign_findings(unitless, pool_values=[5 + 3 * math.sin(p / 9) for p in range(0, 101, 4)], truth="x")
    summary = plain_summary(f)
    assert re.search(r"best result found so far is [\d.]+ S/cm \(measured once\)", summary), summary
    assert re.search(r"(None of the 26 choices in the set would|Of all 26 choices in the set, \d+ w)", summary)
    for match in NUMBER.finditer(summary):
        before, after = summary[: match.start()].rstrip(), summary[match.end() :]
        assert before.endswith("±") or QUALIFIED.match(after), (match.group(), summary)
    science = scientist_section(f)
    best = next(line for line in science if line.startswith("Best found"))
    assert re.search(r"the model predicts [\d.]+ ± [\d.]+ S/cm there", best), best
    assert any(re.search(r"expected best [\d.]+ ± [\d.]+ S/cm \(exact", line) for line in science)
    part = [line for line in science if line.startswith("Not established: part (%):")]
    assert len(part) == 1, science  # the effect and the region of one parameter: one item
    assert "never sampled from 60 to 80 % and from 80 to 100 %" in part[0], part[0]
    assert "2 more experiments would help" in part[0]
    assert f.settings.commands[-1].endswith("--seed 0 --truth x")


def test_the_share_of_better_candidates_says_when_it_is_the_model_s_estimate(unitless: Campaign) -> None:
    science = " ".join(scientist_section(campaign_findings(unitless)))
    assert "with a better value (by the model's mean for the unmeasured candidates):" in science
    assert "--truth" not in campaign_findings(unitless).settings.commands[-1]
