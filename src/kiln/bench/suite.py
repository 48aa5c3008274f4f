"""``kiln bench suite``: every strategy of a suite file on every dataset, each run saved as it finishes, then the
summary (``kiln.bench.suite_summary``) and the report (``kiln.report.suite``). Units run in local processes or
as Ray tasks (``kiln.bench.suite_runs``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiln.bench.registry import resolve_strategy
from kiln.bench.runner import BenchRunError, check_settings
from kiln.bench.suite_runs import (
    SuiteUnit,
    dataset_problem,
    other_records,
    read_record,
    run_local,
    run_ray,
    write_record,
)
from kiln.bench.suite_spec import Suite, strategy_names
from kiln.bench.suite_summary import dataset_results, write_summary
from kiln.core.errors import ValidationError
from kiln.report.suite import write_suite_report


@dataclass
class SuiteProgress:
    """Counts of a suite run: units in the suite, already done before this run, finished now, failed now."""

    total: int
    skipped: int
    finished: int = 0
    failures: list[str] = field(default_factory=list)


def plan_units(suite: Suite) -> tuple[list[SuiteUnit], dict[str, Any]]:
    """Every unit of the suite, run by run (so an interrupted suite has early runs of everything), and the
    problems by dataset name (each loaded once here: bad data fails before anything runs)."""
    problems: dict[str, Any] = {}
    budgets: dict[str, int] = {}
    for dataset in suite.datasets:
        problem, meta = dataset_problem(dataset)
        try:
            settings = check_settings(
                problem.size, runs=dataset.runs, initial=suite.initial, budget=dataset.budget, seed=suite.seed, jobs=1
            )
        except ValidationError as error:
            raise ValidationError(f"datasets[{dataset.name}]", error.value, str(error), None) from None
        problems[dataset.name] = (problem, meta)
        budgets[dataset.name] = settings.budget
    units = [
        SuiteUnit(dataset, strategy, run, suite.seed, suite.initial, budgets[dataset.name])
        for run in range(max(d.runs_of(s) for d in suite.datasets for s in d.strategies))
        for dataset in suite.datasets
        for strategy in dataset.strategies
        if run < dataset.runs_of(strategy)
    ]
    return units, problems


def check_buildable(suite: Suite) -> None:
    """Build each strategy once, so a missing library or a bad config fails before the first run."""
    for name in strategy_names(suite.datasets):
        resolve_strategy(name).build()


def run_suite(
    suite: Suite,
    out: Path,
    *,
    jobs: int = 1,
    ray_address: str | None = None,
    on_start: Callable[[SuiteProgress], None] | None = None,
    on_progress: Callable[[SuiteProgress], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the units of ``suite`` that ``out`` does not hold yet, then write the summary; dataset -> results.

    Each unit's result is saved the moment it finishes. A failed unit does not stop the others: the suite
    finishes, writes the summary of what ran, then raises BenchRunError naming every failure.
    """
    units, problems = plan_units(suite)
    check_buildable(suite)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValidationError(
            "--out", str(out), f"the folder cannot be made ({error.strerror})", "pick another"
        ) from None
    records = {unit: read_record(unit, out) for unit in units}
    todo = [unit for unit, record in records.items() if record is None]
    progress = SuiteProgress(total=len(units), skipped=len(units) - len(todo))
    if on_start is not None:
        on_start(progress)

    def done(unit: SuiteUnit, record: dict[str, Any]) -> None:
        if "error" in record:
            progress.failures.append(str(record["error"]))
        else:
            write_record(unit, out, record)
            records[unit] = record
            progress.finished += 1
        if on_progress is not None:
            on_progress(progress)

    try:
        if ray_address is not None:
            run_ray(todo, ray_address, done)
        else:
            run_local(todo, jobs, done)
    except BaseException:  # interrupted: the summary of what ran, without hiding why it stopped
        with contextlib.suppress(Exception):
            partial = summarize_suite(suite, problems, records, out)
            if partial:
                write_summary(out, partial)
                write_suite_report(out, partial, suite_file=suite.file, waiting=_waiting(suite, partial))
        raise
    results = summarize_suite(suite, problems, records, out)
    if results:
        write_summary(out, results)
        write_suite_report(out, results, suite_file=suite.file, waiting=_waiting(suite, results))
    if progress.failures:
        raise BenchRunError(f"{len(progress.failures)} run(s) failed:\n" + "\n".join(progress.failures))
    return results


def report_suite(suite: Suite, out: Path) -> dict[str, dict[str, Any]]:
    """Rewrite the summary files and ``report.html`` of ``out`` from the runs there, running nothing; dataset ->
    results. ValidationError when the folder holds no run of the suite."""
    units, problems = plan_units(suite)
    records = {unit: read_record(unit, out) for unit in units} if out.is_dir() else {}
    results = summarize_suite(suite, problems, records, out) if any(records.values()) else {}
    if not results:
        raise ValidationError(
            "--out", str(out), "a folder holding finished runs of this suite is required", "run kiln bench suite first"
        )
    write_summary(out, results)
    write_suite_report(out, results, suite_file=suite.file, waiting=_waiting(suite, results))
    return results


def _waiting(suite: Suite, results: dict[str, dict[str, Any]]) -> list[str]:
    """The suite's datasets with no finished run yet (left out of ``results``)."""
    return [d.name for d in suite.datasets if d.name not in results]


def _trajectory(record: dict[str, Any]) -> Any:
    from kiln.bench.backtest import Trajectory

    return Trajectory(int(record["seed"]), tuple(record["initial"]), tuple(record["chosen"]), tuple(record["found"]))


def summarize_suite(
    suite: Suite, problems: dict[str, Any], records: dict[SuiteUnit, dict[str, Any] | None], out: Path
) -> dict[str, dict[str, Any]]:
    """Each dataset's results over the runs that have a record (datasets with none are left out), the suite's
    strategies first, then those of other suites found in ``out`` with the same data and settings."""
    from kiln.bench.backtest import Trajectory

    results: dict[str, dict[str, Any]] = {}
    for dataset in suite.datasets:
        kept: dict[str, list[dict[str, Any]]] = {}  # strategy -> its records, in run order
        for strategy in dataset.strategies:
            mine = sorted(
                (u.run, r)
                for u, r in records.items()
                if r is not None and u.dataset.name == dataset.name and u.strategy == strategy
            )
            kept[strategy] = [r for _, r in mine]
        if not any(kept.values()):
            continue
        template = next(u for u in records if u.dataset.name == dataset.name)
        kept.update(other_records(template, out, dataset.strategies))
        trajectories: dict[str, list[Trajectory]] = {
            name: [_trajectory(r) for r in found] for name, found in kept.items()
        }
        problem, meta = problems[dataset.name]
        budget = next(u.budget for u in records if u.dataset.name == dataset.name)
        results[dataset.name] = dataset_results(problem, meta, dataset, suite.seed, suite.initial, budget, trajectories)
        for name, block in results[dataset.name]["strategies"].items():
            block["versions"] = run_versions([r["key"] for r in kept[name]])
            block.update(run_seconds(kept[name]))
    return results


def run_seconds(records: list[dict[str, Any]]) -> dict[str, Any]:
    """``runs_timed`` (the records that hold their wall-clock ``seconds``; older ones do not) and
    ``seconds_per_run``, the median over those (None when none is timed)."""
    import statistics

    seconds = [float(r["seconds"]) for r in records if "seconds" in r]
    return {"runs_timed": len(seconds), "seconds_per_run": statistics.median(seconds) if seconds else None}


def run_versions(keys: list[dict[str, Any]]) -> list[str]:
    """The versions the runs' numbers came from, as their keys record them: "Kiln X" and a peer's library
    ("optuna 5.0.0"), each once, in order of first appearance."""
    found: dict[str, None] = {}
    for key in keys:
        if "kiln" in key:
            found[f"Kiln {key['kiln']}"] = None
        if key.get("library"):
            found[str(key["library"])] = None
    return list(found)
