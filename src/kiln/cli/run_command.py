"""``kiln run``: the closed loop of a spec (the Orchestrator) with a live display, resumable, and a summary.

The run holds the campaign's run lease (``kiln.lab.lease``) from before it reconciles until it ends, so a second
``kiln run`` of the same campaign is refused while this one lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console

from kiln.campaign import Campaign
from kiln.cli.live import LiveDisplay
from kiln.cli.render import experiment_card, experiments_table, front_and_best, missing_quantities, partly_measured
from kiln.core.counts import COUNTS, status_counts
from kiln.core.errors import NotFoundError, SpecError
from kiln.core.records import Experiment
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.lease import RunLease
from kiln.lab.orchestrator import LoopSummary, Orchestrator
from kiln.lab.protocol import AsyncInstrument
from kiln.lab.report_step import ReportStep
from kiln.lab.spec import RunSpec, load_spec
from kiln.objective import Direction, Objective
from kiln.space.pool import CandidatePool

DEFAULT_BUDGET = 40


def run_spec(path: Path, store: str, *, budget: int | None, seed: int | None, console: Console) -> int:
    """Run or resume the spec's campaign; return the exit code (0; 130 when interrupted: a Ctrl-C at any moment,
    the summary included, ends with the message that says how to resume; 1 when the campaign was deleted or the
    run lease lost meanwhile)."""
    campaign: Campaign | None = None
    try:
        spec = load_spec(path)
        config = spec.config
        if seed is not None:
            if seed < 0:
                raise SpecError("--seed", seed, "a whole number >= 0 is required", "e.g. --seed 0")
            config = type(config)(config.domain, config.objective, config.strategy, seed, config.extra)
        total_budget = budget if budget is not None else (spec.budget or DEFAULT_BUDGET)
        if total_budget < 1:
            raise SpecError("--budget", total_budget, "a whole number >= 1 is required", "e.g. --budget 40")
        built = spec.build_instruments(seed=config.seed)
        emulators = [emulator for _, _, emulator in built if emulator is not None]
        for emulator in emulators:
            emulator.check_compatible(config.domain.names, config.objective.quantities)
        campaign, created = Campaign.open_or_create(spec.name, config, store=store)
        lease = RunLease(campaign, spec.lease)
        lease.acquire()  # refused, naming the run that holds it, while another run drives the campaign
        try:
            return _drive(spec, campaign, created, lease, built, emulators, total_budget, console)
        finally:
            with _interrupts_held() as pressed:  # the lease is given up whole, even during a Ctrl-C
                lease.release()
            if pressed:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        with _interrupts_held():  # a further Ctrl-C does not cut the message short
            _say_interrupted(campaign, console)
        return 130


@contextlib.contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """Within the block a Ctrl-C is noted (in the list yielded) instead of raising KeyboardInterrupt; in the main
    thread only (elsewhere signals are not delivered, and nothing changes)."""
    pressed: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda number, frame: pressed.append(number))
    except ValueError:  # not the main thread
        yield pressed
        return
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _drive(
    spec: RunSpec,
    campaign: Campaign,
    created: bool,
    lease: RunLease,
    built: list[tuple[AsyncInstrument, float, DatasetEmulator | None]],
    emulators: list[DatasetEmulator],
    total_budget: int,
    console: Console,
) -> int:
    """Run the campaign while this process holds its lease; the exit code."""
    config = campaign.config
    done = len(campaign.experiments())
    for index, emulator in enumerate(emulators):  # fresh noise for a resumed run, not a replay
        if done:
            emulator.reseed(int(np.random.SeedSequence([config.seed, done, index]).generate_state(1)[0]))
    verb = "started" if created else f"resumed ({done} experiments stored)"
    console.print(f"campaign [bold]{campaign.name}[/] {verb} in {campaign.store.url}; budget {total_budget}")
    if lease.took_over is not None:
        old = lease.took_over
        console.print(
            f"took over from process {old.pid} on host {old.host!r} (running since "
            f"{old.since.isoformat(timespec='seconds')}, now gone); its experiments in flight are reconciled",
            soft_wrap=True,
        )
    display = LiveDisplay(campaign, total_budget, console)
    orchestrator = Orchestrator(
        campaign,
        [instrument for instrument, _, _ in built],
        in_flight=max(spec.in_flight, spec.batch),
        stop=replace(spec.stop, budget=total_budget),
        timeout=spec.timeout,
        retries=spec.retries,
        costs={instrument.name: cost for instrument, cost, _ in built},
        on_event=display.update,
        may_send=lease.valid,
    )

    def lost() -> None:  # another run took the campaign over, or it was deleted: send nothing more
        orchestrator.request_stop()
        if lease.deleted:
            orchestrator.abandon()  # results of experiments in flight have nowhere to go
            return
        console.print(
            "[red]the run lease was lost[/]: this process stalled for longer than the lease's expiry and another "
            "run took the campaign over; this run sends nothing more",
            soft_wrap=True,
        )

    lease.on_lost = lost
    try:
        with display:
            summary = asyncio.run(_run_with_signals(orchestrator, console))
    except KeyboardInterrupt:
        if lease.deleted:
            return _say_deleted(campaign, console)
        raise  # run_spec says how to resume
    except NotFoundError:
        if lease.campaign_gone():  # the loop found out before the heartbeat did
            orchestrator.request_stop()
            return _say_deleted(campaign, console)
        raise
    if lease.deleted:
        return _say_deleted(campaign, console)
    if summary.stopped_by == "interrupted" and not lease.lost:
        _say_interrupted(campaign, console)
    elif summary.stopped_by == "exhausted":
        console.print("the candidate pool is used up: every candidate has been suggested")
    elif summary.stopped_by not in ("budget", "interrupted"):
        console.print(f"stopped by the rule [bold]{summary.stopped_by}[/]")
    if summary.flagged:
        console.print(
            f"[yellow]{summary.flagged} experiment(s) need an operator[/] (see kiln show {campaign.name}); "
            "finish them with kiln tell or kiln fail"
        )
    _summary(campaign, emulators[0] if emulators else None, console)
    if lease.lost:
        return 1
    if spec.report is not None and summary.stopped_by != "interrupted":
        return _write_report(spec.report, campaign, console, emulators[0] if len(emulators) == 1 else None)
    return 130 if summary.stopped_by == "interrupted" else 0


async def _run_with_signals(orchestrator: Orchestrator, console: Console) -> LoopSummary:
    """Run the orchestrator; the first Ctrl-C stops dispatching (experiments in flight finish and are stored),
    the second cancels those too (they stay pending and are reconciled by the next run)."""
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    presses = {"count": 0}

    def on_interrupt() -> None:
        presses["count"] += 1
        if presses["count"] == 1:
            orchestrator.request_stop()
            console.print(
                "[yellow]stopping[/]: no new experiment is sent; waiting for the experiments in flight (Ctrl-C "
                "again to abandon them)",
                soft_wrap=True,
            )
        elif main is not None:
            main.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread, or no signal support
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        return await orchestrator.run()
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


def _say_interrupted(campaign: Campaign | None, console: Console) -> None:
    """The one line a Ctrl-C ends with, whenever it came (before the campaign was opened too)."""
    if campaign is None:
        stored = "the run had not begun"
    else:
        try:
            stored = f"{len(campaign.experiments())} experiments are stored in {campaign.store.url}"
        except Exception:  # the store cannot be read now: say what can be said
            stored = f"the campaign is in {campaign.store.url}"
    console.print(
        f"[yellow]interrupted[/]: {stored}; run the same command again to resume",
        soft_wrap=True,  # one line, whatever the width: logs and scripts look for it
    )


def _say_deleted(campaign: Campaign, console: Console) -> int:
    """The one line a run ends with when its campaign was deleted under it; the exit code (1)."""
    console.print(
        f"[red]error:[/] campaign {campaign.name!r} was deleted from {campaign.store.url} while this run drove it; "
        "the run stopped and sends nothing more",
        soft_wrap=True,
        highlight=False,
    )
    return 1


def emulator_truth(campaign: Campaign, emulator: DatasetEmulator | None) -> list[float] | None:
    """Every pool row's value of the campaign's one target from the run's emulator, when it answers without noise
    and holds every row of the campaign's pool: the report's comparison with random sampling is then exact; else
    None (the report estimates it)."""
    from kiln.core.errors import ValidationError
    from kiln.report.truth import pool_values_from_table

    objective, domain = campaign.objective, campaign.domain
    if emulator is None or not isinstance(domain, CandidatePool) or len(objective.targets) != 1:
        return None
    target = objective.targets[0].name
    if target not in emulator.columns or any(float(v) != 0.0 for v in emulator.noise.values()):
        return None
    try:
        return pool_values_from_table(domain, target, emulator.table, emulator.name)
    except ValidationError:
        return None


def _write_report(
    step: ReportStep, campaign: Campaign, console: Console, emulator: DatasetEmulator | None = None
) -> int:
    """The spec's ``report:`` step after the loop: write the campaign report and say where; the exit code (0; 1
    when the file cannot be written, with the command that writes it later). With a noise-free emulator of the
    campaign's pool, the comparison with random sampling is exact on its values (``emulator_truth``)."""
    from kiln.cli.report_command import write_campaign_report
    from kiln.lab.datasets import DATASETS

    values = emulator_truth(campaign, emulator)
    builtin = emulator.name if values is not None and emulator is not None and emulator.name in DATASETS else None
    try:
        written = write_campaign_report(
            campaign,
            html_file=step.out,
            pdf_file=step.pdf,
            seed=step.seed,
            truth=builtin,  # the same values, named so that the report's command rewrites it exactly
            pool_values=values if builtin is None else None,
        )
    except OSError as error:
        console.print(
            f"[red]error:[/] the report could not be written to {' and '.join(map(str, step.files))} "
            f"({error.strerror or error}); the experiments are stored: write it with kiln report {campaign.name} "
            f"--out FILE.html --seed {step.seed}",
            soft_wrap=True,
            highlight=False,
        )
        return 1
    for path in written:
        console.print(f"report written to {path}", soft_wrap=True, highlight=False, markup=False)
    return 0


def _summary(campaign: Campaign, instrument: DatasetEmulator | None, console: Console) -> None:
    experiments = campaign.experiments()
    completed = [e for e in experiments if e.counts_as_result]  # current results: retracted ones left out
    counts = status_counts(experiments)
    others = "".join(f", {counts[key]} {key}" for key in COUNTS[2:] if counts[key])
    console.print(f"{len(experiments)} experiments: {counts['completed']} completed, {counts['failed']} failed{others}")
    objective = campaign.objective
    _say_awaiting(campaign, experiments, console)
    units = {**campaign.domain.units, **objective.units}
    names, quantities = campaign.domain.names, objective.quantities
    front, best = front_and_best(campaign, experiments)
    if best is not None:
        console.print(experiment_card(best, names, quantities, title="best found", units=units))
    if front is not None:
        if front:
            title = f"Pareto front: {len(front)} experiment(s) no other beats in every target"
            console.print(experiments_table(front, names, quantities, title=title, units=units, width=console.width))
        else:
            console.print("Pareto front: none yet (no experiment has every quantity measured within the constraints)")
        return  # the dataset's top 5 % is a single-target measure
    top = _top_keys(instrument, objective) if instrument is not None and completed else None
    if instrument is not None and top is not None:
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


def _say_awaiting(campaign: Campaign, experiments: list[Experiment], console: Console) -> None:
    """The experiments measured in part, by the quantities they await, with the command that records the rest:
    ``1 experiment(s) measured in part await stability: kiln tell NAME ID stability=VALUE``."""
    quantities = campaign.objective.quantities
    waiting: dict[tuple[str, ...], list[str]] = {}
    for experiment in partly_measured(experiments, quantities):
        waiting.setdefault(tuple(missing_quantities(experiment, quantities)), []).append(experiment.id)
    for missing, ids in waiting.items():
        values = " ".join(f"{name}=VALUE" for name in missing)
        which = ids[0] if len(ids) == 1 else "ID"
        listed = "" if len(ids) == 1 else f" (kiln pending {campaign.name} lists them)"
        console.print(
            f"[yellow]{len(ids)} experiment(s) measured in part await {', '.join(missing)}[/]: record "
            f"{'it' if len(missing) == 1 else 'them'} with kiln tell {campaign.name} {which} {values}{listed}",
            soft_wrap=True,
            highlight=False,
        )


def _top_keys(instrument: DatasetEmulator, objective: Objective, fraction: float = 0.05) -> set[int] | None:
    """Row keys of the dataset's best ceil(fraction * N) rows for the objective's one max or min target, among the
    rows within its outcome constraints; None when there is no such ranking (several targets, a scalarisation or a
    window target: one column's top rows say nothing of those)."""
    if len(objective.targets) != 1 or objective.scalarisation is not None:
        return None
    target = objective.targets[0]
    if target.direction is Direction.RANGE:
        return None
    measured = instrument.measured
    rows = range(len(measured[target.name]))
    allowed = [k for k in rows if objective.feasible({q: float(measured[q][k]) for q in objective.quantities})]
    if not allowed:
        return set()
    scores = np.asarray([target.score(float(measured[target.name][k])) for k in allowed])
    order = np.argsort(-scores, kind="stable")
    return {allowed[int(i)] for i in order[: math.ceil(fraction * len(allowed))]}
