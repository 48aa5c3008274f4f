"""What a benchmark suite writes from its finished runs: per dataset the results file of ``kiln bench pool``
(``datasets/NAME.json``), ``summary.json`` (dataset -> strategy -> metrics), ``summary.md`` (the tables) and
``index.html`` (every dataset's Top% plot, one offline page).

A dataset's pool is judged by two metrics (docs/bench.md): pools of more than 300 candidates by cycles to the best
1 % and to Top% 0.5, smaller ones by cycles to Top% 0.5 and 0.8. Unfinished strategies are reported with the runs
they have; medians count a run that never reached a level as worse than any that did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.bench.metrics import METRIC_LABELS, format_interval, paired
from kiln.bench.metrics import format_cycles as _cycles
from kiln.bench.registry import resolve_strategy

if TYPE_CHECKING:
    from kiln.bench.backtest import PoolProblem, Trajectory
    from kiln.bench.runner import DatasetMeta
    from kiln.bench.suite_spec import SuiteDataset

LARGE_POOL = 300
DEFAULT_STRATEGY = "kiln"


def judged_metrics(size: int) -> tuple[str, str]:
    """The two metrics a pool of ``size`` candidates is judged by, the first being the main one."""
    return ("cycles_to_best_1pct", "top_0.5") if size > LARGE_POOL else ("top_0.5", "top_0.8")


def metric_value(block: Mapping[str, Any], metric: str) -> float | None:
    """A strategy's median cycles for ``metric`` from its results block; None when the median run never got there."""
    if metric == "cycles_to_best_1pct":
        value = block["cycles_to_best_1pct"]
    else:
        value = block["cycles_to_top"][metric.removeprefix("top_")]
    return None if value is None else float(value)


def metric_interval(block: Mapping[str, Any], metric: str) -> list[float | None]:
    """The 90 % bootstrap interval [low, high] of ``metric_value`` (None bounds: beyond the budget)."""
    if metric == "cycles_to_best_1pct":
        return list(block["cycles_to_best_1pct_interval"])
    return list(block["cycles_to_top_interval"][metric.removeprefix("top_")])


def per_seed(block: Mapping[str, Any], metric: str) -> dict[int, float | None]:
    """A strategy's cycles for ``metric`` per run seed (None: the run never got there), from its results block."""
    seeds = [run["seed"] for run in block["runs"]]
    return dict(zip(seeds, block["cycles_per_run"][metric], strict=True))


def dataset_results(
    problem: PoolProblem,
    meta: DatasetMeta,
    dataset: SuiteDataset,
    seed: int,
    initial: int,
    budget: int,
    trajectories: Mapping[str, Sequence[Trajectory]],
) -> dict[str, Any]:
    """The dataset's results in ``kiln bench pool``'s format, over the runs done of each strategy."""
    from kiln.bench.runner import BenchSettings, results_json

    done = {name: runs for name, runs in trajectories.items() if runs}
    entries = [resolve_strategy(name) for name in done]
    runs = max((len(r) for r in done.values()), default=0)
    settings = BenchSettings(runs=runs, initial=initial, budget=budget, seed=seed, jobs=1)
    results = results_json(problem, meta, settings, entries, {n: list(r) for n, r in done.items()})
    results["settings"]["runs_planned"] = dataset.runs
    for name, block in results["strategies"].items():
        block["runs_done"] = len(done[name])
        block["runs_planned"] = dataset.runs_of(name)
        block["cycles_per_run"] = cycles_per_run(problem, done[name])
    return results


def cycles_per_run(problem: PoolProblem, runs: Sequence[Trajectory]) -> dict[str, list[int | None]]:
    """Each run's cycles (experiments, initial ones included) to each judged level: ``cycles_to_best_1pct``,
    ``top_0.5``, ``top_0.8`` -> R values, None for a run that did not get there within its budget. Their medians
    (None counted as worse than any number) are the block's ``cycles_to_best_1pct`` and ``cycles_to_top``."""
    from kiln.bench.backtest import cycles_to_fraction, first_hit

    best_1pct = problem.best(0.01)
    top_size = len(problem.top)
    return {
        "cycles_to_best_1pct": [first_hit([*t.initial, *t.chosen], best_1pct) for t in runs],
        "top_0.5": [cycles_to_fraction(t.found, top_size, 0.5) for t in runs],
        "top_0.8": [cycles_to_fraction(t.found, top_size, 0.8) for t in runs],
    }


def summary_entry(results: Mapping[str, Any]) -> dict[str, Any]:
    """dataset-level summary: strategy -> its metrics (the same names as ``kiln bench pool``'s results file)."""
    keep = (
        "runs_done",
        "runs_planned",
        "cycles_to_top",
        "reached",
        "cycles_to_top_interval",
        "cycles_to_best_1pct",
        "cycles_to_best_1pct_interval",
        "reached_best_1pct",
        "ef_max",
        "af_at_0.8",
        "runs_timed",
        "seconds_per_run",
    )
    return {name: {k: block[k] for k in keep} for name, block in results["strategies"].items()}


def _ratio(value: float | None, best: float | None, budget: int) -> str:
    if best is None:
        return "-"
    mine = budget + 1 if value is None else value  # a strategy that never got there: at least budget + 1
    return f"{mine / best:.2f}" + ("+" if value is None else "")


def is_peer(name: str) -> bool:
    """Whether a strategy is a peer library or a baseline (random, Sobol), not one of Kiln's model configurations."""
    return name in ("random", "sobol") or resolve_strategy(name).peer


def eligible(blocks: Mapping[str, Any], names: Sequence[str]) -> list[str]:
    """The strategies among ``names`` with enough runs done to be named the best: all their planned runs, or at
    least half as many as the default (half the most of any strategy without it). A peer with one run of ten
    planned is in its dataset's table but cannot be the best on a lucky seed."""
    default = blocks.get(DEFAULT_STRATEGY)
    reference = default["runs_done"] if default else max((b["runs_done"] for b in blocks.values()), default=0)
    return [n for n in names if blocks[n]["runs_done"] >= min(blocks[n]["runs_planned"], math.ceil(reference / 2))]


def _best(blocks: Mapping[str, Any], names: Sequence[str], metric: str) -> tuple[str, float | None] | None:
    """The strategy among ``names`` with the fewest median cycles, or None when ``names`` is empty."""
    ranked = sorted(
        ((n, metric_value(blocks[n], metric)) for n in names), key=lambda p: math.inf if p[1] is None else p[1]
    )
    return ranked[0] if ranked else None


def summary_markdown(all_results: Mapping[str, Mapping[str, Any]]) -> str:
    """summary.md: the summary table (the default against the best peer and the best other Kiln configuration,
    chosen in hindsight), then one table per dataset."""
    lines = [
        "# Benchmark suite",
        "",
        "Median cycles over the runs done (`>B`: the median run did not get there); in the dataset tables, in",
        "brackets, the 90 % bootstrap interval of each median (how far it could move with other seeds). Seed by",
        "seed: the runs (same seeds, same initial candidates) where the default needed fewer / more / as many cycles",
        "as the best peer, and the two-sided sign test's p over the untied ones. Only a strategy with all its",
        "planned runs done, or at least half as many as the default, can be the best. s / run: the median",
        "wall-clock seconds of a run (one thread), over the runs that were timed.",
        "",
    ]
    lines += [
        "| dataset | N | metric | runs | default (kiln) | best peer | default / best peer "
        "| best Kiln configuration (of k) | default / it | default against the best peer, seed by seed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios: dict[str, list[float]] = {"peer": [], "kiln": []}
    bounds: dict[str, int] = {"peer": 0, "kiln": 0}  # ratios where the default never got there: lower bounds
    for name, results in all_results.items():
        budget, size = results["settings"]["budget"], results["dataset"]["N"]
        main = judged_metrics(size)[0]
        blocks = results["strategies"]
        others = [s for s in blocks if s != DEFAULT_STRATEGY]
        peers = eligible(blocks, [s for s in others if is_peer(s)])
        configs = eligible(blocks, [s for s in others if not is_peer(s)])
        mine = metric_value(blocks[DEFAULT_STRATEGY], main) if DEFAULT_STRATEGY in blocks else None
        runs = min(b["runs_done"] for b in blocks.values())
        cells = []
        versus = "-"
        for group, members in (("peer", peers), ("kiln", configs)):
            best = _best(blocks, members, main)
            if best is None:
                cells += ["-", "-"]
                continue
            label = f"{best[0]}: {_cycles(best[1], budget)}" + (f" (of {len(members)})" if group == "kiln" else "")
            if DEFAULT_STRATEGY in blocks and best[1] is not None:
                ratios[group].append((budget + 1 if mine is None else mine) / best[1])
                bounds[group] += mine is None
            cells += [label, _ratio(mine, best[1], budget) if DEFAULT_STRATEGY in blocks else "-"]
            if group == "peer" and DEFAULT_STRATEGY in blocks:
                versus = paired(per_seed(blocks[DEFAULT_STRATEGY], main), per_seed(blocks[best[0]], main)).describe()
        default_text = _cycles(mine, budget) if DEFAULT_STRATEGY in blocks else "-"
        lines.append(
            f"| {name} | {size} | {METRIC_LABELS[main]} | {runs} | {default_text} | "
            + " | ".join(cells)
            + f" | {versus} |"
        )
    for group, label in (("peer", "best peer"), ("kiln", "best Kiln configuration")):
        if ratios[group]:
            geometric = math.exp(sum(math.log(r) for r in ratios[group]) / len(ratios[group]))
            bound = (
                f" (at least: on {bounds[group]} the default's median run did not get there)" if bounds[group] else ""
            )
            lines += [
                "",
                f"Geometric mean of default / {label} over the {len(ratios[group])} datasets where the {label} got "
                f"there: {geometric:.2f}{bound}.",
            ]
    for name, results in all_results.items():
        budget, size = results["settings"]["budget"], results["dataset"]["N"]
        metrics = judged_metrics(size)
        lines += ["", f"## {name} (N = {size}, budget {budget})", ""]
        lines += [
            "| strategy | runs | "
            + " | ".join(METRIC_LABELS[m] for m in metrics)
            + " | reached best 1 % | EF max | s / run |",
            "|---|---|" + "---|" * len(metrics) + "---|---|---|",
        ]
        for strategy, block in results["strategies"].items():
            values = " | ".join(
                f"{_cycles(metric_value(block, m), budget)} {format_interval(metric_interval(block, m), budget)}"
                for m in metrics
            )
            seconds = block.get("seconds_per_run")
            lines.append(
                f"| {strategy} | {block['runs_done']} | {values} | "
                f"{block['reached_best_1pct']}/{block['runs_done']} | {block['ef_max']:.2f} | "
                + ("-" if seconds is None else f"{seconds:.1f}")
                + " |"
            )
    return "\n".join(lines) + "\n"


def index_html(all_results: Mapping[str, Mapping[str, Any]]) -> str:
    """One offline HTML page with every dataset's Top% plot (plotly's JavaScript included once)."""
    from kiln.bench.plot import figure

    parts = []
    for index, (name, results) in enumerate(all_results.items()):
        html = figure(dict(results)).to_html(full_html=False, include_plotlyjs=index == 0)
        parts.append(f'<section id="{name}"><h2>{name}</h2>{html}</section>')
    links = " · ".join(f'<a href="#{name}">{name}</a>' for name in all_results)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Kiln benchmark suite</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:70rem;padding:0 1rem}</style>"
        f"</head><body><h1>Kiln benchmark suite</h1><p>{links}</p>{''.join(parts)}</body></html>\n"
    )


def write_summary(folder: Path, all_results: Mapping[str, Mapping[str, Any]]) -> None:
    """Write ``datasets/NAME.json``, ``summary.json``, ``summary.md`` and ``index.html`` under ``folder``."""
    from kiln.bench.suite_runs import write_atomically

    (folder / "datasets").mkdir(parents=True, exist_ok=True)
    for name, results in all_results.items():
        write_atomically(folder / "datasets" / f"{name}.json", json.dumps(results, indent=1) + "\n")
    summary = {name: summary_entry(results) for name, results in all_results.items()}
    write_atomically(folder / "summary.json", json.dumps(summary, indent=1) + "\n")
    write_atomically(folder / "summary.md", summary_markdown(all_results))
    write_atomically(folder / "index.html", index_html(all_results))
