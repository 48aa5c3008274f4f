"""The report in words: what each fixture campaign's text says, no hype, numbers with their uncertainty or
count, and a plain summary that reads as plain English."""

from __future__ import annotations

import re

import pytest
from readability import flesch_reading_ease

from kiln.report.findings import Findings
from kiln.report.words import HYPE_WORDS, expert_section, plain_summary, scientist_section

NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]\d+)?")
# what may follow a number in the plain summary: its uncertainty, or what it counts
QUALIFIED = re.compile(
    r"^(\s*±|\s+(later )?(tests?|experiments?|measurements?|of them|choices)\b|\s+(were|was) better\b"
    r"|\s+\S+\s+\((measured once|mean ± spread))"
)


def _all_text(f: Findings) -> str:
    """Every generated word of a report: the three sections and the figures' captions, labels and legends."""
    from kiln.report.figures import report_figures

    figures = [" ".join([g.caption, g.xlabel, g.ylabel, *(s.name for s in g.series)]) for g in report_figures(f)]
    return "\n".join([plain_summary(f), *scientist_section(f), *expert_section(f), *figures])


def test_no_hype_word_in_any_generated_text(report_findings: dict[str, Findings]) -> None:
    for name, f in report_findings.items():
        text = _all_text(f).lower()
        found = [w for w in HYPE_WORDS if re.search(rf"\b{re.escape(w)}\b", text)]
        assert not found, (name, found)
        assert "best found" in text


def test_plain_summaries_say_what_each_campaign_shows(report_findings: dict[str, Findings]) -> None:
    win, flat, rising = (plain_summary(report_findings[k]) for k in ("win", "flat", "rising"))
    assert "random would most likely have done worse" in win
    assert "first 5 tests. The 9 later tests did not beat it." in flat
    assert "still getting better" in rising
    assert "did not beat it" not in win and "still getting better" not in win
    assert "still getting better" not in flat and "did not beat it" not in rising
    assert "1 of them failed" in win


def test_plain_summaries_read_as_plain_english(report_findings: dict[str, Findings]) -> None:
    for name, f in report_findings.items():
        summary = plain_summary(f)
        assert flesch_reading_ease(summary) >= 50, (name, flesch_reading_ease(summary), summary)
        assert not re.search(r"\b(GP|Gaussian|posterior|R\^2|std|Pareto|surrogate)\b", summary), summary


def test_every_number_of_the_plain_summary_has_its_uncertainty_or_count(report_findings: dict[str, Findings]) -> None:
    for f in report_findings.values():
        summary = plain_summary(f)
        for match in NUMBER.finditer(summary):
            before = summary[: match.start()].rstrip()
            after = summary[match.end() :]
            assert before.endswith("±") or QUALIFIED.match(after), (match.group(), summary)


def test_the_best_value_comes_with_its_spread_or_measured_once(report_findings: dict[str, Findings]) -> None:
    win = next(line for line in scientist_section(report_findings["win"]) if line.startswith("Best found"))
    assert re.search(r"Best found yield: [\d.]+ ± [\d.]+ mg \(mean ± spread of 2 measurements\)", win)
    assert re.search(r"the model predicts [\d.e+-]+ ± [\d.e+-]+ mg there, from 14 counted experiments", win)
    flat = next(line for line in scientist_section(report_findings["flat"]) if line.startswith("Best found"))
    assert re.search(r"Best found yield: [\d.]+ mg \(measured once\)", flat)


def test_scientist_and_expert_sections_state_random_diagnostics_and_reproduction(
    report_findings: dict[str, Findings],
) -> None:
    f = report_findings["win"]
    science = "\n".join(scientist_section(f))
    assert re.search(r"expected best [\d.]+ ± [\d.]+ mg \(simulated: 200 random campaigns", science)
    assert "Failures: 1 of 15 experiments failed" in science and "film <b>cracked</b>" in science
    assert "Not established: t:" in science and "experiments in all would help (rule:" in science
    expert = "\n".join(expert_section(f))
    assert re.search(r"Leave-one-out \(yield, 14 experiments\): R\^2 -?[\d.]+", expert)
    assert "Kiln 0.1.0" in expert and "campaign seed 1" in expert
    import torch

    assert f"torch {torch.__version__}" in expert and re.search(r"botorch \d+\.\d+", expert)
    assert "kiln report win --store" in expert


@pytest.mark.parametrize("url", ["postgresql+psycopg://kiln:s3cret@db/kiln", "sqlite:///x.db?password=s3cret"])
def test_the_store_url_is_shown_without_its_password(report_campaigns: dict, url: str) -> None:
    from kiln.report.findings import campaign_findings

    f = campaign_findings(report_campaigns["flat"], store_url=url)
    text = _all_text(f)
    assert "s3cret" not in text and "***" in text


def test_the_reading_ease_formula_tells_plain_from_dense_text() -> None:
    assert flesch_reading_ease("The cat sat on the mat. It was a warm day.") > 90
    dense = (
        "Heteroscedastic multivariate posterior approximations necessitate computationally intensive "
        "hyperparameter marginalisation procedures."
    )
    assert flesch_reading_ease(dense) < 10


def test_parameters_not_yet_told_are_listed_in_plain_words(report_findings: dict[str, Findings]) -> None:
    rising = report_findings["rising"]
    unclear = [g.subject for g in rising.gaps if g.what == "effect"]
    summary = plain_summary(rising)
    if len(unclear) == 1:
        assert f"how {unclear[0]} changes the result" in summary
    elif unclear:
        assert f"how {', '.join(unclear[:-1])} and {unclear[-1]} change the result" in summary
