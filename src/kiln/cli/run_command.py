"""``kiln run``: the closed loop of a spec with a progress bar, resumable, and a summary at the end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kiln.campaign import Campaign
from kiln.cli.render import experiment_card, fmt
from kiln.core.errors import SpecError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.loop import experiment_count, run_loop
from kiln.lab.spec import load_spec

DEFAULT_BUDGET = 40


def run_spec(path: Path, store: str, *, budget: int | None, seed: int | None, console: Console) -> int:
    """Run or resume the spec's campaign; return the exit code (0, or 130 when interrupted)."""
    spec = load_spec(path)
    config = spec.config
    if seed is not None:
        if seed < 0:
            raise SpecError("--seed", seed, "a whole number >= 0 is required", "e.g. --seed 0")
        config = type(config)(config.domain, config.objective, config.strategy, seed, config.extra)
    total_budget = budget if budget is not None else (spec.budget or DEFAULT_BUDGET)
    if total_budget < 1:
        raise SpecError("--budget", total_budget, "a whole number >= 1 is required", "e.g. --budget 40")
    instrument = spec.build_instrument(seed=config.seed)
    if isinstance(instrument, DatasetEmulator):
        instrument.check_compatible(config.domain.names, config.objective.names)
    campaign, created = Campaign.open_or_create(spec.name, config, store=store)
    done = experiment_count(campaign)
    if isinstance(instrument, DatasetEmulator) and done:  # fresh noise for a resumed run, not a replay
        instrument.reseed(int(np.random.SeedSequence([config.seed, done]).generate_state(1)[0]))
    verb = "started" if created else f"resumed ({done} experiments stored)"
    console.print(f"campaign [bold]{campaign.name}[/] {verb} in {campaign.store.url}; budget {total_budget}")
    target = campaign.objective.target
    best: dict[str, float | None] = {"value": _best_value(campaign)}
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("best {task.fields[best]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )

    finished = {"count": done - len(campaign.pending())}

    def on_result(experiment: Experiment, total: int) -> None:
        finished["count"] += 1
        if experiment.status is ExperimentStatus.COMPLETED:
            value = experiment.results[target.name]
            current = best["value"]
            if current is None or campaign.objective.utility({target.name: value}) > campaign.objective.utility(
                {target.name: current}
            ):
                best["value"] = value
        progress.update(task, completed=finished["count"], best=fmt(best["value"]))

    try:
        with progress:
            task = progress.add_task(
                "experiments", total=total_budget, completed=finished["count"], best=fmt(best["value"])
            )
            result = run_loop(campaign, instrument, budget=total_budget, batch=spec.batch, on_result=on_result)
    except KeyboardInterrupt:
        console.print(
            f"[yellow]interrupted[/]: {experiment_count(campaign)} experiments are stored in {campaign.store.url}; "
            f"run the same command again to resume"
        )
        return 130
    if result.exhausted:
        console.print("the candidate pool is used up: every candidate has been suggested")
    _summary(campaign, instrument, console)
    return 0


def _best_value(campaign: Campaign) -> float | None:
    best = campaign.best()
    return None if best is None else best.results[campaign.objective.target.name]


def _summary(campaign: Campaign, instrument: object, console: Console) -> None:
    experiments = campaign.experiments()
    completed = [e for e in experiments if e.status is ExperimentStatus.COMPLETED]
    failed = sum(1 for e in experiments if e.status is ExperimentStatus.FAILED)
    console.print(f"{len(experiments)} experiments: {len(completed)} completed, {failed} failed")
    best = campaign.best()
    if best is not None:
        console.print(experiment_card(best, campaign.domain.names, campaign.objective.names, title="best found"))
    if isinstance(instrument, DatasetEmulator) and completed:
        top = instrument.top_keys(0.05, campaign.objective.target.direction.value)
        found_at = [
            i for i, e in enumerate(experiments, start=1) if e in completed and instrument.pool.key_of(e.params) in top
        ]
        if found_at:
            console.print(
                f"top-5 % candidates of the dataset found: {len(found_at)} of {len(top)} after {len(experiments)} "
                f"experiments; the first after {found_at[0]} experiments"
            )
        else:
            console.print(
                f"top-5 % candidates of the dataset found: 0 of {len(top)} after {len(experiments)} experiments"
            )
