"""The report of a benchmark suite (kiln.report.suite) on synthetic results: the winner named where the middle
halves of the runs do not overlap, no clear winner where they do, censored runs counted as worse (never as a
number), strategies with too few runs not ranked, plain words without hype and easy to read."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from readability import flesch_reading_ease

from kiln.report.suite import (
    MIN_RUNS,
    compare_suite,
    plain_summary,
    quantile,
    suite_report_html,
    write_suite_report,
)
from kiln.report.words import HYPE_WORDS


def block(cycles: list[int | None], planned: int = 10, metric: str = "top_0.5") -> dict[str, Any]:
    return {"config": {"kind": "default"}, "runs_planned": planned, "cycles_per_run": {metric: cycles}}


def results(size: int, budget: int, strategies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "dataset": {"N": size},
        "settings": {"budget": budget, "seed": 7, "initial": 2, "runs_planned": 10},
        "strategies": strategies,
    }


SUITE = {
    # kiln's runs all need fewer experiments than random's: a clear winner
    "clear": results(100, 50, {"random": block([30, 34, 38, 41, 45, None]), "kiln": block([8, 10, 11, 12, 14, 15])}),
    # the medians differ, but the middle halves overlap: no clear winner
    "overlap": results(
        100,
        50,
        {"kiln": block([10, 14, 18, 22, 26, 30]), "random": block([12, 16, 20, 24, 28, 32]), "ax": block([9, 11])},
    ),
    # a large pool is judged by the first of the best 1 %
    "large": results(
        1000,
        20,
        {
            "kiln": block([5, 6, 7, 8, 9], metric="cycles_to_best_1pct"),
            "random": block([None] * 5, metric="cycles_to_best_1pct"),
        },
    ),
}


def visible_text(page: str) -> str:
    body = re.sub(r"<script.*?</script>", " ", page[page.index("<body>") :], flags=re.S)
    body = re.sub(r"<div(?! class='scroll').*?</div>", " ", body, flags=re.S)  # the figures' plotly payloads
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_censored_runs_are_worse_than_every_number_and_never_a_number() -> None:
    assert quantile([10, 20, None], 0.5) == 20
    assert quantile([10, None, None], 0.5) is None
    assert quantile([10, 20, None, None], 0.5) is None  # the mean of 20 and a censored run is not a number
    assert quantile([10, 20, 30, None], 0.25) == pytest.approx(17.5)
    for values in ([3, 1, 2, 8], [5, None, 4, 1, 9], [None, 2]):
        expected = float(np.median([np.inf if v is None else v for v in values]))
        got = quantile(values, 0.5)
        assert (got is None and np.isinf(expected)) or got == expected


def test_the_winner_is_named_and_an_overlap_is_no_clear_winner() -> None:
    clear, overlap, large = compare_suite(SUITE)
    assert (clear.leader, clear.runner_up, clear.clear, clear.winner) == ("kiln", "random", True, "kiln")
    assert clear.result("random").unfinished == 1 and clear.result("random").median == 39.5
    assert overlap.leader == "kiln" and overlap.winner is None and not overlap.clear
    assert overlap.few_runs == ("ax",)  # two runs: shown, not ranked, even with the lowest median
    assert overlap.strategies[0].name == "ax" and MIN_RUNS > 2
    assert large.metric == "cycles_to_best_1pct" and large.winner == "kiln"
    assert large.result("random").median is None and large.result("random").q1 is None


def test_plain_words_name_the_winner_and_the_unclear_set() -> None:
    words = plain_summary(compare_suite(SUITE))
    assert "kiln took the fewest tests on 2 of the 3 sets, by a clear gap." in words
    assert "kiln took the fewest tests on 1 set more, but not by a clear gap." in words
    assert "On 1 set no way was clearly ahead: overlap." in words
    assert "too few runs" in words and "counts as worse than all runs that did" in words
    assert flesch_reading_ease(words) >= 50, words


def test_the_page_holds_tables_figures_and_what_was_not_established(tmp_path: Path) -> None:
    path = write_suite_report(tmp_path, SUITE, suite_file=Path("benchmarks/suites/mine.yaml"))
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "report.html" and page.startswith("<!DOCTYPE html>")
    text = " ".join(visible_text(page).split())
    assert "Benchmark report: mine" in text
    assert (
        "Clear winner: kiln" in text and "No clear winner: the fewest median experiments are within the spread" in text
    )
    assert "overlap: too few runs to rank ax (2 of 10)" in text
    assert "kiln (clear winner) 11.5 10.25 to 13.5 6 of 10 0" in text  # median, quartiles, runs, unfinished
    assert "random >20 >20 to >20 5 of 10 5" in text  # censored: never a number
    assert page.count("<figure>") == 3 and page.count("<table>") == 3
    assert "experiments to Top% 0.5 (experiments)" in page and "experiments to the best 1 % (experiments)" in page
    assert "kiln bench suite benchmarks/suites/mine.yaml --out" in text and "--report-only" in text
    assert "Suite seed 7" in text and "Kiln " in text
    lower = text.lower()
    assert not [w for w in HYPE_WORDS if re.search(rf"\b{re.escape(w)}\b", lower)]
    assert "http" not in re.sub(r"<script.*?</script>", "", page, flags=re.S).lower().replace("http-equiv", "")


def test_a_suite_without_a_clear_winner_says_so() -> None:
    none = {"overlap": SUITE["overlap"]}
    words = plain_summary(compare_suite(none))
    assert "On no set was one way clearly ahead of the rest." in words and ", by a clear gap." not in words
    assert flesch_reading_ease(words) >= 50, words
    page = " ".join(visible_text(suite_report_html(none)).split())
    assert "What was not established overlap: No clear winner" in page


def test_the_figure_draws_every_run_and_puts_censored_ones_above_the_budget() -> None:
    from kiln.report.suite import dataset_figure

    clear = compare_suite(SUITE)[0]
    fig = dataset_figure(clear)
    runs, censored, medians, budget = fig.data
    assert len(runs.x) == 11 and len(censored.x) == 1 and min(censored.y) > clear.budget
    assert list(medians.y) == [11.5, 39.5] and list(budget.y) == [50, 50]
    assert abs(runs.x[0]) < 1e-9  # a strategy's first run sits on its place
    assert fig.layout.yaxis.title.text.endswith("(experiments)") and list(fig.layout.xaxis.ticktext) == [
        "kiln",
        "random",
    ]


def test_one_run_has_no_quartiles_and_sets_without_runs_are_named() -> None:
    single = {"one": results(100, 50, {"kiln": block([11], planned=5)})}
    page = suite_report_html(single, waiting=["later"])
    text = visible_text(page)
    assert "11 to 11" not in text and "— (one run)" in text
    words = plain_summary(compare_suite(single), ["later"])
    assert "1 more set has no runs yet: later." in words


def test_the_versions_are_those_the_runs_recorded_per_strategy() -> None:
    suite = {
        "clear": results(
            100,
            50,
            {
                "kiln": {**block([8, 10, 11, 12, 14]), "versions": ["Kiln 0.1.0"]},
                "optuna": {**block([9, 12, 13, 15, 20]), "versions": ["Kiln 0.1.0", "optuna 5.0.0"]},
            },
        )
    }
    text = visible_text(suite_report_html(suite))
    assert "Versions behind the numbers of kiln (as its runs recorded them): Kiln 0.1.0." in text
    assert "Versions behind the numbers of optuna (as its runs recorded them): Kiln 0.1.0, optuna 5.0.0." in text
    assert "Versions writing this page: Kiln" in text


def test_tables_scroll_and_legends_sit_below_the_plot() -> None:
    from kiln.report.suite import dataset_figure

    page = suite_report_html(SUITE)
    assert page.count("<div class='scroll'><table>") == len(SUITE)
    assert dataset_figure(compare_suite(SUITE)[0]).layout.legend.orientation == "h"
