"""The live display of ``kiln run``: a progress bar with the best result (with several targets: the size of the
Pareto front), and the experiments in flight; for a campaign on an overview image (a microscope), the overview
with the measured pixels and the model's predicted map and its uncertainty (``kiln.cli.live_map``).

When the output is not a terminal (a log file, nohup, a pipe) there is no live display: each event is one whole
line, so logs never hold redrawn bars run together.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kiln.campaign import Campaign
from kiln.cli.live_map import LiveMap, has_overview
from kiln.cli.render import fmt
from kiln.core.records import Experiment, ExperimentStatus
from kiln.lab.orchestrator import LoopEvent
from kiln.lab.stopping import uses_budget

MAX_ROWS = 8
"""Experiments in flight listed at most (the count is always shown)."""


class LiveDisplay:
    """Updated with every LoopEvent; use as a context manager around the run."""

    def __init__(self, campaign: Campaign, budget: int, console: Console) -> None:
        self.campaign = campaign
        self.objective = campaign.objective
        self.target = self.objective.targets[0].name
        experiments = campaign.experiments()
        self.finished = sum(
            1 for e in experiments if uses_budget(e) and (e.status is not ExperimentStatus.PENDING or e.results)
        )
        """Experiments ended or measured in part (those use the budget and leave their instrument)."""
        self.failed = sum(1 for e in experiments if e.status is ExperimentStatus.FAILED)
        self.awaiting = sum(1 for e in experiments if e.status is ExperimentStatus.PENDING and e.results)
        """Experiments measured in part, awaiting the rest of their quantities."""
        self.results = [dict(e.results) for e in experiments if e.counts_as_result]
        self.flying: dict[str, tuple[Experiment, str, float]] = {}
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[standing]}  failed {task.fields[failed]}{task.fields[awaiting]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task = self.progress.add_task(
            "experiments",
            total=budget,
            completed=self.finished,
            standing=self.standing(),
            failed=self.failed,
            awaiting=self._awaiting_text(),
        )
        self.console = console
        self.plain = not console.is_terminal
        self.budget = budget
        self.map = LiveMap(campaign) if has_overview(campaign) and not self.plain else None
        if self.map is not None and self.results:
            self.map.refit(experiments)
        self.live = Live(console=console, refresh_per_second=4, transient=False, get_renderable=self._render)

    def __enter__(self) -> LiveDisplay:
        if not self.plain:
            self.live.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.plain:
            return
        if self.map is not None:
            self.map.wait()  # the final display shows the map of every result
            self.map.close()
        self.live.refresh()
        self.live.__exit__(*exc_info)
        if not self.live.console.is_terminal:  # rich ends the line only on a terminal: what follows gets its own
            self.live.console.line()

    def update(self, event: LoopEvent) -> None:
        """Take in what the loop just did and redraw."""
        experiment = event.experiment
        if event.kind in ("dispatched", "reattached"):
            self.flying[experiment.id] = (experiment, event.instrument, time.monotonic())
        elif event.kind in ("finished", "failed", "flagged", "partial"):
            self.flying.pop(experiment.id, None)
        if event.kind in ("finished", "failed", "partial"):
            self.finished += 1
        if event.kind == "partial":
            self.awaiting += 1
        if event.kind == "failed":
            self.failed += 1
        if event.kind == "finished" and experiment.status is ExperimentStatus.COMPLETED:
            self.results.append(dict(experiment.results))
            if self.map is not None:
                self.map.refit(self.campaign.experiments())
        if self.plain:
            self._line(event)
            return
        self.progress.update(
            self.task,
            completed=self.finished,
            standing=self.standing(),
            failed=self.failed,
            awaiting=self._awaiting_text(),
        )
        self.live.refresh()

    def _awaiting_text(self) -> str:
        return f"  awaiting {self.awaiting}" if self.awaiting else ""

    def standing(self) -> str:
        """How the campaign stands: ``best 3.2`` (the target's value in the best feasible result; ``best none
        yet``), with a scalarisation ``best yield=82 cost=3.1``, or with several targets ``front 4`` (experiments on
        the Pareto front)."""
        if self.objective.is_multi:
            return f"front {len(self.objective.pareto_indices(self.results))}"
        index = self.objective.best_index(self.results)
        if index is None:
            return "best none yet"
        if len(self.objective.targets) > 1:  # scalarised: the best by the combination, each target's value
            best = self.results[index]
            return "best " + " ".join(f"{t.name}={fmt(best.get(t.name))}" for t in self.objective.targets)
        return "best " + fmt(self.results[index].get(self.target))

    def _line(self, event: LoopEvent) -> None:
        """One whole line for a log: what happened to which experiment, and the progress so far."""
        experiment = event.experiment
        where = f" on {event.instrument}" if event.instrument else ""
        if event.kind == "finished" and experiment.status is ExperimentStatus.COMPLETED:
            values = ", ".join(f"{name} = {fmt(value)}" for name, value in experiment.results.items())
            what = f"finished{where}: {values}"
        elif event.kind == "partial":
            values = ", ".join(f"{name} = {fmt(value)}" for name, value in experiment.results.items())
            what = f"measured in part{where}: {values}; awaiting {', '.join(event.missing)}"
        elif event.kind in ("failed", "finished"):
            what = f"failed{where}: {experiment.reason}"
        elif event.kind == "flagged":
            what = f"needs an operator{where}: {experiment.attention}"
        else:
            params = ", ".join(f"{k}={fmt(v)}" for k, v in experiment.params.items())
            what = f"{event.kind}{where}: {params}"
        awaiting = f", {self.awaiting} awaiting" if self.awaiting else ""
        progress = f"[{self.finished}/{self.budget} done, {self.standing()}, {self.failed} failed{awaiting}]"
        self.console.out(f"#{experiment.seq} {experiment.id} {what} {progress}", highlight=False)

    def _render(self) -> Group:
        shown = self.map.render() if self.map is not None else None
        if not self.flying:
            return Group(self.progress) if shown is None else Group(shown, self.progress)
        table = Table(title=f"in flight: {len(self.flying)}", title_justify="left", show_edge=False, expand=False)
        for column in ("#", "instrument", "parameters", "running"):
            table.add_column(column)
        now = time.monotonic()
        for experiment, instrument, since in list(self.flying.values())[:MAX_ROWS]:
            params = ", ".join(f"{k}={fmt(v) if isinstance(v, float) else v}" for k, v in experiment.params.items())
            table.add_row(str(experiment.seq), instrument, params[:70], f"{now - since:.1f} s")
        return Group(self.progress, table) if shown is None else Group(shown, self.progress, table)
