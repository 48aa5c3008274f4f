"""The report of a benchmark suite (``kiln bench suite``): strategies compared, rather than one campaign's
experiments, as one self-contained HTML page (``kiln.report.html.page``).

From each dataset's results (``kiln.bench.suite_summary.dataset_results``: per strategy each run's cycles to the
dataset's main level) the report gives, per dataset and strategy, the median and quartiles of the experiments
needed, the runs done and planned, and the runs that did not get there within the budget. Such a run is
censored: it counts as worse than every run that did (as in the suite's tables), and a median or quartile that
falls on or between censored runs is given as ``>B``, never as a number.

A dataset has a clear winner when the strategy with the fewest median experiments (among those with at least
``MIN_RUNS`` runs) has its upper quartile below the lower quartile of the next one: the middle halves of their
runs do not overlap. Otherwise the ranking is within the spread and the report says there is no clear winner.
Strategies with fewer than ``MIN_RUNS`` runs are shown but not ranked.

Sections: a plain-words summary (short sentences, no jargon, no ``HYPE_WORDS``), what was compared, one table
and one figure per dataset, what was not established, and a section for an expert (the suite file, seeds,
versions behind each strategy's runs as their keys record them and those writing the page, the rules, the
commands that reproduce it).
"""

from __future__ import annotations

import html
import math
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIN_RUNS = 5
"""Fewer runs than this and a strategy is not ranked on a dataset: its quartiles say too little."""

_GOALS = {
    "cycles_to_best_1pct": ("the best 1 %", "find one of the best 1 % of the candidates"),
    "top_0.5": ("Top% 0.5", "find half of the best 5 % of the candidates"),
    "top_0.8": ("Top% 0.8", "find four in five of the best 5 % of the candidates"),
}


@dataclass(frozen=True)
class StrategyResult:
    """One strategy on one dataset: each run's experiments to the dataset's main level (None: not within the
    budget), their median and quartiles (None: ``>budget``, censored runs decide it), runs done and planned, and the
    versions the runs' keys record ("Kiln X", a peer's "optuna 5.0.0")."""

    name: str
    cycles: tuple[int | None, ...]
    planned: int
    median: float | None
    q1: float | None
    q3: float | None
    described: str
    versions: tuple[str, ...] = ()

    @property
    def runs(self) -> int:
        return len(self.cycles)

    @property
    def unfinished(self) -> int:
        """Runs that did not get there within the budget."""
        return sum(c is None for c in self.cycles)


@dataclass(frozen=True)
class DatasetComparison:
    """The strategies on one dataset, fewest median experiments first (``>budget`` last).

    Attributes:
        metric: the main level's key (``cycles_to_best_1pct``, ``top_0.5``).
        leader: the ranked strategy with the fewest median experiments (None: no ranked strategy got there).
        runner_up: the next ranked strategy, or None.
        clear: whether the leader's upper quartile is below the runner-up's lower quartile.
        few_runs: strategies with fewer than ``MIN_RUNS`` runs (shown, not ranked).
    """

    name: str
    size: int
    budget: int
    metric: str
    strategies: tuple[StrategyResult, ...]
    leader: str | None
    runner_up: str | None
    clear: bool
    few_runs: tuple[str, ...]

    @property
    def winner(self) -> str | None:
        """The leader when its lead is clear, else None."""
        return self.leader if self.clear else None

    def result(self, name: str) -> StrategyResult:
        return next(s for s in self.strategies if s.name == name)


def quantile(values: Sequence[int | None], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between order statistics, None (censored) counted as larger
    than every number; None when the result depends on a censored value. Equals ``np.median`` with None as inf."""
    ordered = sorted((math.inf if v is None else float(v)) for v in values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    fraction = position - low
    if fraction == 0:
        value = ordered[low]
    elif math.isinf(ordered[high]):
        value = math.inf
    else:
        value = ordered[low] + (ordered[high] - ordered[low]) * fraction
    return None if math.isinf(value) else value


def _key(value: float | None) -> float:
    return math.inf if value is None else value


def _described(block: Mapping[str, Any]) -> str:
    import json

    if "peer" in block:
        return f"peer library {block['peer']}"
    return json.dumps(block.get("config", {}), sort_keys=True)


def compare_dataset(name: str, results: Mapping[str, Any]) -> DatasetComparison:
    """The comparison on one dataset from its results (``datasets/NAME.json``'s content)."""
    from kiln.bench.suite_summary import judged_metrics

    size, budget = int(results["dataset"]["N"]), int(results["settings"]["budget"])
    metric = judged_metrics(size)[0]
    strategies = []
    for strategy, block in results["strategies"].items():
        cycles = tuple(None if c is None else int(c) for c in block["cycles_per_run"][metric])
        strategies.append(
            StrategyResult(
                strategy,
                cycles,
                int(block.get("runs_planned", len(cycles))),
                quantile(cycles, 0.5),
                quantile(cycles, 0.25),
                quantile(cycles, 0.75),
                _described(block),
                tuple(str(v) for v in block.get("versions", ())),
            )
        )
    strategies.sort(key=lambda s: (_key(s.median), _key(s.q3), s.name))
    ranked = [s for s in strategies if s.runs >= MIN_RUNS]
    leader = ranked[0] if ranked and ranked[0].median is not None else None
    runner_up = ranked[1] if leader is not None and len(ranked) > 1 else None
    clear = leader is not None and runner_up is not None and _key(leader.q3) < _key(runner_up.q1)
    return DatasetComparison(
        name,
        size,
        budget,
        metric,
        tuple(strategies),
        leader.name if leader else None,
        runner_up.name if runner_up else None,
        clear,
        tuple(s.name for s in strategies if s.runs < MIN_RUNS),
    )


def compare_suite(all_results: Mapping[str, Mapping[str, Any]]) -> list[DatasetComparison]:
    """Every dataset's comparison, in the suite's order."""
    return [compare_dataset(name, results) for name, results in all_results.items()]


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def cycles_text(value: float | None, budget: int) -> str:
    """``12``, ``12.5`` or ``>100`` (censored)."""
    return f">{budget}" if value is None else f"{value:g}"


def quartiles_text(s: StrategyResult, budget: int) -> str:
    """``10 to 14``, or ``— (one run)`` when a single run makes both quartiles the same number."""
    if s.runs < 2:
        return "— (one run)" if s.runs == 1 else "— (no runs)"
    return f"{cycles_text(s.q1, budget)} to {cycles_text(s.q3, budget)}"


def plain_summary(comparisons: Sequence[DatasetComparison], waiting: Sequence[str] = ()) -> str:
    """A few short sentences for a general reader: what was tried, which way needed the fewest tests on how many
    sets, where no way was clearly ahead, the sets of the suite with no runs yet (``waiting``), and what this does
    not mean."""
    names = sorted({s.name for c in comparisons for s in c.strategies})
    sets = len(comparisons)
    counts = [s.runs for c in comparisons for s in c.strategies]
    low, high = min(counts, default=0), max(counts, default=0)
    runs = _count(low, "run") if low == high else f"from {low} to {high} runs"
    sentences = [
        f"We tried {_count(len(names), 'way')} to pick the next test: {_names(names)}.",
        f"We used them on {_count(sets, 'set')} of data. Each way had {runs} on each set.",
        "For each run we counted the tests it took to find one of the top results. Fewer is better.",
    ]
    wins: dict[str, int] = {}
    leads: dict[str, int] = {}
    for c in comparisons:
        if c.winner is not None:
            wins[c.winner] = wins.get(c.winner, 0) + 1
        elif c.leader is not None and c.runner_up is not None:
            leads[c.leader] = leads.get(c.leader, 0) + 1
    for name, count in sorted(wins.items(), key=lambda item: (-item[1], item[0])):
        sentences.append(f"{name} took the fewest tests on {count} of the {sets} sets, by a clear gap.")
    for name, count in sorted(leads.items(), key=lambda item: (-item[1], item[0])):
        more = " more" if name in wins else ""
        sentences.append(f"{name} took the fewest tests on {_count(count, 'set')}{more}, but not by a clear gap.")
    unclear = [c for c in comparisons if c.winner is None]
    if unclear and len(unclear) == sets:
        sentences.append("On no set was one way clearly ahead of the rest.")
    elif unclear:
        sentences.append(
            f"On {_count(len(unclear), 'set')} no way was clearly ahead: {_names([c.name for c in unclear])}."
        )
    if any(c.few_runs for c in comparisons):
        sentences.append("Some ways have too few runs yet to rank them.")
    if any(s.unfinished for c in comparisons for s in c.strategies):
        sentences.append("A run that did not find a top result in time counts as worse than all runs that did.")
    if waiting:
        have = "set has" if len(waiting) == 1 else "sets have"
        sentences.append(f"{len(waiting)} more {have} no runs yet: {_names(list(waiting))}.")
    these = "this set" if sets == 1 else "these sets"
    sentences.append(f"This says how the ways did on {these}. It may not hold for other data.")
    return " ".join(sentences)


def _verdict(c: DatasetComparison) -> str:
    """One sentence on a dataset's ranking."""
    if c.leader is None:
        ranked = [s for s in c.strategies if s.runs >= MIN_RUNS]
        if not ranked:
            return f"No clear winner: no strategy has {MIN_RUNS} runs or more yet."
        return f"No clear winner: the median run of every strategy with {MIN_RUNS} runs or more did not get there."
    lead = c.result(c.leader)
    if c.runner_up is None:
        return (
            f"No clear winner: {c.leader} is the only strategy with {MIN_RUNS} runs or more (median "
            f"{cycles_text(lead.median, c.budget)} experiments), so there is nothing to rank it against."
        )
    second = c.result(c.runner_up)
    spans = (
        f"{c.leader}: median {cycles_text(lead.median, c.budget)}, quartiles {quartiles_text(lead, c.budget)}; "
        f"{c.runner_up}: median {cycles_text(second.median, c.budget)}, "
        f"quartiles {quartiles_text(second, c.budget)}"
    )
    if c.clear:
        return f"Clear winner: {c.leader}; its upper quartile is below the next strategy's lower quartile ({spans})."
    return f"No clear winner: the fewest median experiments are within the spread of the next strategy ({spans})."


def _table(c: DatasetComparison) -> str:
    esc = html.escape
    rows = []
    for s in c.strategies:
        mark = " (clear winner)" if s.name == c.winner else ""
        ranked = "" if s.runs >= MIN_RUNS else f" (fewer than {MIN_RUNS} runs: not ranked)"
        rows.append(
            f"<tr><td>{esc(s.name)}{esc(mark)}{esc(ranked)}</td><td>{cycles_text(s.median, c.budget)}</td>"
            f"<td>{esc(quartiles_text(s, c.budget))}</td>"
            f"<td>{s.runs} of {s.planned}</td><td>{s.unfinished}</td></tr>"
        )
    return (
        "<div class='scroll'><table><thead><tr><th>strategy</th><th>median experiments</th>"
        "<th>quartiles (middle half of runs)</th>"
        f"<th>runs done</th><th>runs that did not get there within {c.budget}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _jitter(index: int) -> float:
    """A fixed spread of a strategy's run markers around its place on the x axis (-0.25 .. 0.25; run 0 on it)."""
    return ((index * 0.6180339887 + 0.5) % 1.0 - 0.5) * 0.5


def dataset_figure(c: DatasetComparison) -> Any:
    """A plotly figure: each run's experiments per strategy, censored runs as crosses above the budget line, the
    median with the quartiles as a bar."""
    import plotly.graph_objects as go

    short = _GOALS[c.metric][0]
    above = c.budget + max(1.0, 0.05 * c.budget)
    names = [s.name for s in c.strategies]
    fig = go.Figure()
    done_x, done_y, cens_x = [], [], []
    for place, s in enumerate(c.strategies):
        for run, value in enumerate(s.cycles):
            if value is None:
                cens_x.append(place + _jitter(run))
            else:
                done_x.append(place + _jitter(run))
                done_y.append(value)
    fig.add_scatter(x=done_x, y=done_y, mode="markers", name="one run", marker={"size": 7, "opacity": 0.6})
    if cens_x:
        fig.add_scatter(
            x=cens_x,
            y=[above] * len(cens_x),
            mode="markers",
            name=f"one run that did not get there within {c.budget}",
            marker={"symbol": "x", "size": 8, "color": "crimson"},
        )
    medians = [above if s.median is None else s.median for s in c.strategies]
    lows = [above if s.q1 is None else s.q1 for s in c.strategies]
    highs = [above if s.q3 is None else s.q3 for s in c.strategies]
    fig.add_scatter(
        x=list(range(len(names))),
        y=medians,
        mode="markers",
        name="median, bar: quartiles",
        marker={"symbol": "diamond", "size": 12, "color": "black"},
        error_y={
            "type": "data",
            "symmetric": False,
            "array": [h - m for h, m in zip(highs, medians, strict=True)],
            "arrayminus": [m - low for m, low in zip(medians, lows, strict=True)],
        },
    )
    fig.add_scatter(
        x=[-0.5, len(names) - 0.5],
        y=[c.budget, c.budget],
        mode="lines",
        line={"dash": "dot", "color": "grey"},
        name=f"budget ({c.budget} experiments)",
    )
    fig.update_xaxes(title="strategy", tickmode="array", tickvals=list(range(len(names))), ticktext=names)
    fig.update_yaxes(title=f"experiments to {short} (experiments)", rangemode="tozero")
    fig.update_layout(legend={"orientation": "h", "y": -0.3})  # below the plot: a phone's width stays the plot's
    return fig


def _caption(c: DatasetComparison) -> str:
    return (
        f"Each dot is one run of {c.name}; the diamond is the median and its bar the middle half of the runs; "
        "crosses above the dotted budget line did not get there."
    )


def _versions() -> str:
    from kiln.core.version import VERSION
    from kiln.report.findings import library_versions

    parts = [f"Kiln {VERSION}", f"Python {platform.python_version()}"]
    return ", ".join(parts + [f"{name} {version}" for name, version in library_versions().items()])


def expert_section(
    comparisons: Sequence[DatasetComparison],
    all_results: Mapping[str, Mapping[str, Any]],
    *,
    suite_file: Path | None,
    out: Path | None,
) -> list[str]:
    """Paragraphs for an expert: the suite file, settings and seeds, the strategies' configs, the rules, the
    versions, the commands that reproduce the page."""
    first = next(iter(all_results.values()), None)
    lines = []
    suite = str(suite_file) if suite_file is not None else "SUITE.yaml"
    folder = str(out) if out is not None else "DIR"
    lines.append(f"Suite file: {suite}; results folder: {folder}.")
    if first is not None:
        settings = first["settings"]
        lines.append(
            f"Suite seed {settings['seed']}; {settings['initial']} random initial experiments per run, counted in "
            "the experiments. Run R of every strategy on every dataset has the seed run_seed(suite seed, R) of "
            "kiln.bench.backtest, as run R of kiln bench pool --seed has, so the strategies start from the same "
            "initial points; each run's seed is in datasets/NAME.json."
        )
    for c in comparisons:
        settings = all_results[c.name]["settings"]
        lines.append(
            f"{c.name}: N = {c.size} candidates, budget {c.budget} experiments, {settings.get('runs_planned', '?')} "
            f"runs planned, judged by experiments to {_GOALS[c.metric][0]} ({_GOALS[c.metric][1]})."
        )
    described = {s.name: s.described for c in comparisons for s in c.strategies}
    lines.extend(f"Strategy {name}: {text}." for name, text in described.items())
    lines.append(
        "Rules: quartiles and medians by linear interpolation between the runs' values; a run that did not get "
        "there within the budget is censored, counted as worse than every run that did; a median or quartile that "
        f"depends on a censored run is given as >B. A clear winner has at least {MIN_RUNS} runs and its upper "
        f"quartile below the lower quartile of the next strategy with at least {MIN_RUNS} runs."
    )
    behind: dict[str, list[str]] = {}
    for c in comparisons:
        for s in c.strategies:
            known = behind.setdefault(s.name, [])
            known.extend(v for v in s.versions if v not in known)
    for name, versions in behind.items():
        recorded = ", ".join(versions) if versions else "not recorded in its runs"
        lines.append(f"Versions behind the numbers of {name} (as its runs recorded them): {recorded}.")
    lines.append(f"Versions writing this page: {_versions()}.")
    lines.append(f"Reproduce the runs (those in the folder are kept): kiln bench suite {suite} --out {folder}")
    lines.append(
        f"Rewrite this page from the runs in the folder: kiln bench suite {suite} --out {folder} --report-only"
    )
    return lines


def not_established(comparisons: Sequence[DatasetComparison]) -> list[str]:
    """Items the suite did not establish: datasets without a clear winner, strategies with too few runs."""
    lines = []
    for c in comparisons:
        if c.winner is None:
            lines.append(f"{c.name}: {_verdict(c)}")
    for c in comparisons:
        if c.few_runs:
            few = ", ".join(f"{n} ({c.result(n).runs} of {c.result(n).planned})" for n in c.few_runs)
            lines.append(f"{c.name}: too few runs to rank {few}; at least {MIN_RUNS} runs each would help.")
    return lines


def suite_report_html(
    all_results: Mapping[str, Mapping[str, Any]],
    *,
    suite_file: Path | None = None,
    out: Path | None = None,
    waiting: Sequence[str] = (),
) -> str:
    """The whole page (module docstring) from every dataset's results; ``waiting``: the suite's datasets with no
    runs yet."""
    from kiln.report.html import figure_html, page

    esc = html.escape
    comparisons = compare_suite(all_results)
    title = f"Benchmark report: {suite_file.stem}" if suite_file is not None else "Benchmark report"

    def paragraphs(lines: Sequence[str]) -> str:
        return "".join(f"<p>{esc(line)}</p>" for line in lines)

    compared = "".join(
        f"<li>{esc(c.name)}: {c.size} candidates, budget {c.budget} experiments, judged by experiments to "
        f"{esc(_GOALS[c.metric][0])} ({esc(_GOALS[c.metric][1])})</li>"
        for c in comparisons
    )
    datasets = "".join(
        f"<h3>{esc(c.name)}</h3><p>{esc(_verdict(c))}</p>{_table(c)}{figure_html(dataset_figure(c), _caption(c))}"
        for c in comparisons
    )
    missing = not_established(comparisons) or ["Every dataset has a clear winner and every strategy enough runs."]
    return page(
        title,
        f"<h1>{esc(title)}</h1>"
        f"<h2>In plain words</h2><p class='plain'>{esc(plain_summary(comparisons, waiting))}</p>"
        f"<h2>What was compared</h2><ul>{compared}</ul>"
        "<p>Experiments count the initial ones. A run that did not get there within the budget is counted as "
        "worse than every run that did; a median or quartile that depends on such a run is shown as &gt;B.</p>"
        f"<h2>Per dataset</h2>{datasets}"
        f"<h2>What was not established</h2>{paragraphs(missing)}"
        f"<h2>For an expert</h2>"
        f"{paragraphs(expert_section(comparisons, all_results, suite_file=suite_file, out=out))}",
    )


def write_suite_report(
    folder: Path,
    all_results: Mapping[str, Mapping[str, Any]],
    *,
    suite_file: Path | None = None,
    waiting: Sequence[str] = (),
) -> Path:
    """Write ``folder/report.html`` (written whole or not at all); its path. ``waiting``: datasets without runs."""
    from kiln.bench.suite_runs import write_atomically

    path = folder / "report.html"
    write_atomically(path, suite_report_html(all_results, suite_file=suite_file, out=folder, waiting=waiting))
    return path
