"""Rich tables and summaries for the command line."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kiln.core.records import CampaignRecord, Experiment, ExperimentStatus, Revision


def fmt(value: Any) -> str:
    """A parameter or result value, short: floats with 6 significant digits."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def labelled(name: str, units: Mapping[str, str] | None) -> str:
    """A column header or row label: the name with its unit, e.g. 'temperature [°C]', escaped for rich."""
    unit = (units or {}).get(name, "")
    return escape(f"{name} [{unit}]" if unit else name)


def experiments_table(
    experiments: Sequence[Experiment],
    params: Sequence[str],
    targets: Sequence[str],
    *,
    title: str = "",
    units: Mapping[str, str] | None = None,
) -> Table:
    """Experiments as rows: id, #, status, parameters (headers with their units), targets."""
    table = Table(title=title or None, show_lines=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("#", justify="right")
    table.add_column("status")
    for name in params:
        table.add_column(labelled(name, units), overflow="fold")
    for name in targets:
        table.add_column(labelled(name, units), style="bold")
    for e in experiments:
        results = [fmt(e.results[t]) if t in e.results else (e.reason if e.reason else "") for t in targets]
        table.add_row(e.id, str(e.seq), status_text(e), *(fmt(e.params.get(p)) for p in params), *results)
    return table


def status_text(e: Experiment) -> str:
    """The status with its corrections: e.g. 'completed (amended)', 'failed (retracted)'."""
    marks = [m for m, on in (("amended", e.amended > 0), ("retracted", e.retracted)) if on]
    return e.status.value + (f" ({', '.join(marks)})" if marks else "")


def experiments_json(experiments: Sequence[Experiment]) -> str:
    return json.dumps(
        [{"id": e.id, "seq": e.seq, "status": e.status.value, "params": dict(e.params)} for e in experiments]
    )


def campaigns_table(store: Any, records: Sequence[CampaignRecord]) -> Table:
    table = Table(title=f"campaigns in {store.url}")
    for column in ("name", "created", "experiments", "completed", "pending", "failed"):
        table.add_column(column, justify="right" if column not in ("name", "created") else "left")
    for record in records:
        counts = Counter(e.status for e in store.experiments(record.name))
        table.add_row(
            record.name,
            record.created_at.strftime("%Y-%m-%d %H:%M"),
            str(sum(counts.values())),
            str(counts[ExperimentStatus.COMPLETED]),
            str(counts[ExperimentStatus.PENDING]),
            str(counts[ExperimentStatus.FAILED]),
        )
    return table


def show_campaign(campaign: Any, console: Console) -> None:
    experiments = campaign.experiments()
    counts = Counter(e.status for e in experiments)
    target = campaign.objective.target
    console.print(f"[bold]{campaign.name}[/] in {campaign.store.url}")
    console.print(f"  space: {campaign.domain!r}")
    console.print(f"  objective: {target.direction.value}imise '{target.name}'")
    console.print(f"  strategy: {campaign.strategy.to_config()}")
    corrected = [
        f"{count} {word}"
        for word, count in (
            ("discarded", counts[ExperimentStatus.DISCARDED]),
            ("retracted", sum(1 for e in experiments if e.retracted)),
            ("amended", sum(1 for e in experiments if e.amended)),
        )
        if count
    ]
    console.print(
        f"  experiments: {len(experiments)} ({counts[ExperimentStatus.COMPLETED]} completed, "
        f"{counts[ExperimentStatus.PENDING]} pending, {counts[ExperimentStatus.FAILED]} failed"
        + "".join(f", {c}" for c in corrected)
        + ")"
    )
    flagged = [e for e in experiments if e.status is ExperimentStatus.PENDING and e.attention]
    running = [e for e in experiments if e.status is ExperimentStatus.PENDING and e.instrument and not e.attention]
    if running:
        console.print(f"  in flight: {len(running)} ({', '.join(sorted({e.instrument for e in running}))})")
    if flagged:
        console.print(f"  [yellow]need an operator: {len(flagged)}[/] (finish each with kiln tell or kiln fail)")
        for experiment in flagged:
            console.print(f"    {experiment.id} (#{experiment.seq}, {experiment.instrument}): {experiment.attention}")
    best = campaign.best()
    units = {**campaign.domain.units, **campaign.objective.units}
    if best is not None:
        console.print(
            experiment_card(best, campaign.domain.names, campaign.objective.names, title="best so far", units=units)
        )
    if experiments:
        console.print(
            experiments_table(
                experiments[-10:], campaign.domain.names, campaign.objective.names, title="latest", units=units
            )
        )


def experiment_card(
    experiment: Experiment,
    params: Sequence[str],
    targets: Sequence[str],
    *,
    title: str,
    units: Mapping[str, str] | None = None,
) -> Table:
    """One experiment as a two-column table (name with its unit, value): readable however many parameters."""
    table = Table(title=title, show_header=False)
    table.add_column("name", style="cyan")
    table.add_column("value")
    table.add_row("id", f"{experiment.id} (#{experiment.seq}, {experiment.status.value})")
    for name in params:
        table.add_row(labelled(name, units), fmt(experiment.params.get(name)))
    for name in targets:
        table.add_row(f"[bold]{labelled(name, units)}[/]", f"[bold]{fmt(experiment.results.get(name))}[/]")
    return table


def history_table(versions: Sequence[Revision], targets: Sequence[str], *, title: str) -> Table:
    """Every version of an experiment's outcome, oldest first: what it was, and when, why and by whom it changed."""
    table = Table(title=title)
    for column in ("#", "change", "status", *targets, "reason / note", "by", "at"):
        table.add_column(column, justify="right" if column == "#" else "left")
    for r in versions:
        status = r.status.value + (" (retracted)" if r.retracted else "")
        values = [fmt(r.results[t]) if t in r.results else "" for t in targets]
        words = "; ".join(w for w in (r.reason, r.note) if w)
        table.add_row(
            str(r.number), r.change.value, status, *values, words, r.actor, r.at.isoformat(timespec="seconds")
        )
    return table
