"""``kiln bench``: backtests of strategies on measured data (the pool-based procedure of Liang et al. 2021).

Heavy libraries (pandas, torch, plotly) load inside the commands, so ``kiln --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from kiln.cli.help import KilnGroup
from kiln.cli.run_progress import run_progress

if TYPE_CHECKING:
    from rich.table import Table

bench_app = typer.Typer(
    name="bench",
    help="Benchmark strategies on measured data (pool-based backtests).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=KilnGroup,
)

F = TypeVar("F", bound=Callable[..., Any])


def _reports_errors(command: F) -> F:
    """kiln.cli.app.reports_errors, looked up when the command runs (app imports this module)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from kiln.cli.app import reports_errors

        return reports_errors(command)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class DirectionChoice(StrEnum):
    max = "max"
    min = "min"


class GoalChoice(StrEnum):
    optimise = "optimise"
    map = "map"


class EncodingChoice(StrEnum):
    auto = "auto"
    onehot = "onehot"
    descriptors = "descriptors"
    fingerprints = "fingerprints"
    elements = "elements"


def _writable(option: str, path: Path | None) -> None:
    from kiln.core.errors import ValidationError

    if path is not None and not path.parent.resolve().is_dir():
        raise ValidationError(option, str(path), "its folder does not exist", "create the folder first")


@bench_app.command()
@_reports_errors
def pool(
    data: Annotated[Path | None, typer.Option("--data", help="CSV file: one row per measurement.")] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset", help="Built-in dataset instead of --data: p3ht, crossed-barrel, suzuki, suzuki-ii, suzuki-b1."
        ),
    ] = None,
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="Objective column (required with --data); repeat it for several targets."),
    ] = None,
    direction: Annotated[
        list[DirectionChoice] | None,
        typer.Option("--direction", help="max or min, one per --target in order (required with --data)."),
    ] = None,
    constraint: Annotated[
        list[str] | None,
        typer.Option("--constraint", help='Outcome constraint "COLUMN>=X" or "COLUMN<=X"; repeat it.'),
    ] = None,
    inputs: Annotated[
        list[str] | None, typer.Option("--inputs", help="Input column; repeat it. Default: every other column.")
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option("--strategy", "-s", help="Strategy name or JSON config; repeat it. Default: kiln and random."),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", help="Runs per strategy.")] = 50,
    initial: Annotated[int, typer.Option("--initial", help="Random initial candidates per run.")] = 2,
    budget: Annotated[
        int | None,
        typer.Option(
            "--budget", help="Experiments per run, initial ones included. Default: min(N, 150).", show_default=False
        ),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="Parallel processes. Default: the number of CPUs.", show_default=False)
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the whole benchmark.")] = 0,
    in_flight: Annotated[
        int, typer.Option("--in-flight", help="Experiments running at once (results arrive oldest first).")
    ] = 1,
    encoding: Annotated[
        EncodingChoice,
        typer.Option(
            "--encoding",
            help="How Kiln's models see the text columns: auto (molecules -> descriptors, formulas -> elemental "
            "properties, else one-hot), onehot, descriptors, fingerprints, elements (also numeric columns named "
            "after elements).",
        ),
    ] = EncodingChoice.auto,
    out: Annotated[Path | None, typer.Option("--out", help="Write the results as JSON to this file.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the Top% plot as HTML to this file.")] = None,
    goal: Annotated[
        GoalChoice,
        typer.Option(
            "--goal",
            help="optimise: find the best candidates; map: learn a model of the whole pool (R^2 and RMSE over it; "
            "default strategies kiln, random and sobol).",
        ),
    ] = GoalChoice.optimise,
    every: Annotated[
        int, typer.Option("--every", help="--goal map: evaluate the model after every N-th experiment.")
    ] = 1,
) -> None:
    """Backtest strategies on a pool of measured candidates: how fast each finds the best 5 % (one target), or
    the pool's Pareto front (HV%: several targets or an outcome constraint), or with --goal map how fast each
    learns a model of the whole pool."""
    from kiln.bench.backtest import PoolProblem
    from kiln.bench.hv_backtest import HVProblem
    from kiln.bench.registry import resolve_strategies
    from kiln.bench.runner import (
        check_settings,
        check_strategies,
        hv_results_json,
        is_multi_target,
        load_hv_problem,
        load_problem,
        results_json,
        run_bench,
    )
    from kiln.cli.app import err
    from kiln.cli.app import out as console
    from kiln.core.errors import ValidationError

    _writable("--out", out)
    _writable("--plot", plot)
    targets, directions = list(target or []), [d.value for d in direction or []]
    if goal is GoalChoice.map:
        _map_pool(
            data=data,
            dataset=dataset,
            targets=targets,
            directions=directions,
            constraints=constraint or [],
            inputs=inputs,
            strategy=strategy,
            encoding=encoding.value,
            every=every,
            out=out,
            plot=plot,
            settings_args={
                "runs": runs,
                "initial": initial,
                "budget": budget,
                "seed": seed,
                "jobs": jobs,
                "in_flight": in_flight,
            },
        )
        return
    problem: HVProblem | PoolProblem
    if is_multi_target(dataset, targets, constraint):
        hv_problem, meta = load_hv_problem(
            data=data,
            dataset=dataset,
            targets=targets,
            directions=directions,
            constraints=constraint or [],
            inputs=inputs,
            encoding=encoding.value,
        )
        problem, bounds = hv_problem, [str(c) for c in hv_problem.constraints]
        described = (
            f"{meta.name}: N = {hv_problem.size} candidates ({meta.rows} rows), targets "
            + ", ".join(f"{d} {t}" for t, d in zip(hv_problem.targets, hv_problem.directions, strict=True))
            + (f", constraints {', '.join(bounds)}" if bounds else "")
            + f"; {int(hv_problem.feasible.sum())} feasible, {len(hv_problem.pareto())} on the front"
        )
    else:
        if len(directions) > 1:
            raise ValidationError("--direction", directions, "one direction per --target is required", None)
        pool_problem, meta = load_problem(
            data=data,
            dataset=dataset,
            target=targets[0] if targets else None,
            direction=directions[0] if directions else None,
            inputs=inputs,
            encoding=encoding.value,
        )
        problem = pool_problem
        described = (
            f"{meta.name}: N = {pool_problem.size} candidates ({meta.rows} rows), top set = {len(pool_problem.top)} "
            f"({meta.direction} {meta.target}, threshold {pool_problem.threshold:g})"
        )
    settings = check_settings(
        problem.size, runs=runs, initial=initial, budget=budget, seed=seed, jobs=jobs, in_flight=in_flight
    )
    entries = resolve_strategies(strategy)
    check_strategies(entries)
    err.print(
        f"{described}; {settings.runs} runs x {len(entries)} strategies, {settings.budget} experiments each, "
        f"{settings.jobs} processes",
        highlight=False,
        soft_wrap=True,
    )
    for column, line in problem.pool.describe_encodings().items():  # how Kiln's models see each text column
        err.print(f"  {column}: {line}", highlight=False, soft_wrap=True)
    with run_progress(err, settings.runs * len(entries)) as update:
        trajectories = run_bench(problem, entries, settings, on_progress=update)
    if isinstance(problem, HVProblem):
        results = hv_results_json(problem, meta, settings, entries, trajectories)
        console.print(_hv_table(results, meta.name, settings.runs, settings.budget))
        levels: list[tuple[str, str, str | None]] = [(f"HV% {a}", "cycles_to_hv", a) for a in ("0.9", "0.95", "0.99")]
    else:
        results = results_json(problem, meta, settings, entries, trajectories)
        console.print(_top_table(results, meta.name, settings.runs, settings.budget))
        levels = [(f"Top% {a}", "cycles_to_top", a) for a in ("0.5", "0.8")]
        levels.append(("best 1 %", "cycles_to_best_1pct", None))
    console.print(_interval_table(results, levels, settings.budget))
    if len(entries) > 1:
        console.print(_seed_by_seed_table(results))
    if out is not None:
        _write_json(out, results)
        err.print(f"wrote results to {out}")
    if plot is not None:
        from kiln.bench.plot import write_plot

        write_plot(results, plot)
        err.print(f"wrote plot to {plot}")


def _map_pool(
    *,
    data: Path | None,
    dataset: str | None,
    targets: list[str],
    directions: list[str],
    constraints: list[str],
    inputs: list[str] | None,
    strategy: list[str] | None,
    encoding: str,
    every: int,
    out: Path | None,
    plot: Path | None,
    settings_args: dict[str, Any],
) -> None:
    """``kiln bench pool --goal map``: map backtests (``kiln.bench.mapping``) with a progress bar, a table of
    R^2 and the experiments to R^2 0.8 / 0.9, and the optional JSON results and plot."""
    from kiln.bench.mapping import MapProblem, map_results_json
    from kiln.bench.registry import MAP_STRATEGIES, resolve_strategies
    from kiln.bench.runner import check_settings, check_strategies, load_problem, run_bench
    from kiln.cli.app import err
    from kiln.cli.app import out as console
    from kiln.core.errors import ValidationError

    if len(targets) > 1 or constraints:
        raise ValidationError(
            "--goal map", targets + constraints, "a map backtest judges the model of one target", "give one --target"
        )
    pool_problem, meta = load_problem(
        data=data,
        dataset=dataset,
        target=targets[0] if targets else None,
        direction=directions[0] if directions else "max",
        inputs=inputs,
        encoding=encoding,
    )
    problem = MapProblem(pool_problem, every=every)
    settings = check_settings(problem.size, **settings_args)
    entries = resolve_strategies(strategy or list(MAP_STRATEGIES))
    check_strategies(entries)
    err.print(
        f"{meta.name}: N = {problem.size} candidates ({meta.rows} rows), map of {meta.target}; {settings.runs} runs "
        f"x {len(entries)} strategies, {settings.budget} experiments each, {settings.jobs} processes",
        highlight=False,
        soft_wrap=True,
    )
    with run_progress(err, settings.runs * len(entries)) as update:
        trajectories = run_bench(problem, entries, settings, on_progress=update)
    results = map_results_json(problem, meta, settings, entries, trajectories)
    console.print(_map_table(results, meta.name, settings.runs, settings.budget))
    if out is not None:
        _write_json(out, results)
        err.print(f"wrote results to {out}")
    if plot is not None:
        from kiln.bench.plot import write_plot

        write_plot(results, plot)
        err.print(f"wrote plot to {plot}")


def _map_table(results: dict[str, Any], name: str, runs: int, budget: int) -> Table:
    """Per strategy: median experiments to R^2 0.8 / 0.9, the median R^2 and RMSE at the budget."""
    from rich.table import Table

    from kiln.bench.metrics import format_cycles as _cycles

    table = Table(title=f"{name}: map of the pool (median of {runs} runs)")
    for header in ("strategy", "to R^2 0.8", "to R^2 0.9", "R^2 at budget", "RMSE at budget"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for strategy, block in results["strategies"].items():
        cycles = block["cycles_to_r2"]
        table.add_row(
            strategy,
            _cycles(cycles["0.8"], budget),
            _cycles(cycles["0.9"], budget),
            f"{block['r2']['median'][-1]:.3f}",
            f"{block['rmse']['median'][-1]:.4g}",
        )
    return table


def _top_table(results: dict[str, Any], name: str, runs: int, budget: int) -> Table:
    """Per strategy: median cycles to Top% 0.5 / 0.8 / 1.0, EF max, AF(0.8), median Top% at the budget."""
    from rich.table import Table

    from kiln.bench.metrics import format_cycles as _cycles

    table = Table(title=f"{name}: cycles to Top% a (median of {runs} runs)")
    for header in ("strategy", "Top% 0.5", "Top% 0.8", "Top% 1.0", "EF max", "AF(0.8)", "Top% at budget"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for strategy, block in results["strategies"].items():
        cycles = block["cycles_to_top"]
        af = block["af_at_0.8"]
        table.add_row(
            strategy,
            *(_cycles(cycles[a], budget) for a in ("0.5", "0.8", "1.0")),
            f"{block['ef_max']:.2f}",
            "-" if af is None else f"{af:.2f}",
            f"{block['top_percent']['median'][-1]:.2f}",
        )
    return table


def _hv_table(results: dict[str, Any], name: str, runs: int, budget: int) -> Table:
    """Per strategy: median cycles to HV% 0.9 / 0.95 / 0.99 and the median HV% at the budget."""
    from rich.table import Table

    from kiln.bench.metrics import format_cycles as _cycles

    table = Table(title=f"{name}: cycles to HV% a (median of {runs} runs)")
    for header in ("strategy", "HV% 0.9", "HV% 0.95", "HV% 0.99", "HV% at budget"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for strategy, block in results["strategies"].items():
        cycles = block["cycles_to_hv"]
        table.add_row(
            strategy,
            *(_cycles(cycles[a], budget) for a in ("0.9", "0.95", "0.99")),
            f"{block['hv_percent']['median'][-1]:.3f}",
        )
    return table


def _interval_table(results: dict[str, Any], levels: list[tuple[str, str, str | None]], budget: int) -> Table:
    """Per strategy and level (header, results key, level or None): the median cycles and the 90 % bootstrap
    interval of that median (``kiln.bench.metrics.median_interval``): how far it could move with other seeds."""
    from rich.table import Table

    from kiln.bench.metrics import format_cycles, format_interval

    table = Table(title="median cycles [90 % bootstrap interval of the median]")
    table.add_column("strategy")
    for header, _, _ in levels:
        table.add_column(header, justify="right")
    for strategy, block in results["strategies"].items():
        cells = []
        for _, key, level in levels:
            median = block[key] if level is None else block[key][level]
            bounds = block[f"{key}_interval"] if level is None else block[f"{key}_interval"][level]
            cells.append(f"{format_cycles(median, budget)} {format_interval(bounds, budget)}")
        table.add_row(strategy, *cells)
    return table


def _seed_by_seed_table(results: dict[str, Any]) -> Table:
    """Per strategy after the first: the runs (same seeds, same initial candidates) where it needed fewer / more /
    as many cycles as the first strategy, and the two-sided sign test's p over the untied ones."""
    from rich.table import Table

    from kiln.bench.metrics import METRIC_LABELS

    blocks = {name: block["seed_by_seed"] for name, block in results["strategies"].items() if "seed_by_seed" in block}
    first = next(iter(blocks.values()))
    metric = METRIC_LABELS.get(first["metric"], first["metric"])
    table = Table(title=f"seed by seed against {first['against']}: cycles to {metric}")
    for header in ("strategy", "fewer", "more", "same", "sign test p"):
        table.add_column(header, justify="left" if header == "strategy" else "right")
    for name, block in blocks.items():
        table.add_row(name, str(block["fewer"]), str(block["more"]), str(block["same"]), f"{block['p_value']:.2g}")
    return table


def _write_json(path: Path, results: dict[str, Any]) -> None:
    from kiln.core.errors import ValidationError

    try:
        path.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    except OSError as error:
        raise ValidationError("--out", str(path), f"the file cannot be written ({error.strerror})", None) from None


@bench_app.command("suite")
@_reports_errors
def suite(
    path: Annotated[Path, typer.Argument(help="Suite file (YAML): defaults and datasets; see docs/bench.md.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Results folder (runs, summary.json, summary.md, index.html, report.html). Default: SUITE-results.",
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", help="Parallel processes (or Ray CPUs with --ray auto). Default: the CPUs.", show_default=False
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="auto: start a local Ray on 127.0.0.1; or a cluster's ADDRESS (host:port) to join."),
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option(
            "--report-only", help="Run nothing: rewrite the summary files and report.html from the runs in --out."
        ),
    ] = False,
) -> None:
    """Run every strategy on every dataset of a suite; each run is saved as it finishes, and running the same
    command again skips what is done. At the end the summary files and report.html (strategies compared) are
    written."""
    import os

    from kiln.bench.suite import SuiteProgress, run_suite
    from kiln.bench.suite_spec import load_suite
    from kiln.cli.app import err
    from kiln.core.errors import ValidationError

    spec = load_suite(path)
    folder = out if out is not None else path.with_name(f"{path.stem}-results")
    if jobs is not None and jobs < 1:
        raise ValidationError("--jobs", jobs, "at least 1 process is required", "e.g. --jobs 4")
    if ray is not None and not ray.strip():
        raise ValidationError("--ray", ray, "auto or a cluster address host:port is required", "e.g. --ray auto")
    workers = jobs or os.cpu_count() or 1
    if report_only:
        from kiln.bench.suite import report_suite

        report_suite(spec, folder)
        err.print(
            f"wrote {folder / 'report.html'} and the summary files from the runs in {folder}",
            highlight=False,
            soft_wrap=True,
        )
        return
    with run_progress(err, None, remaining=True) as update:

        def started(state: SuiteProgress) -> None:
            err.print(
                f"{path.name}: {len(spec.datasets)} datasets, {state.total} runs, {state.skipped} already in {folder}",
                highlight=False,
                soft_wrap=True,
            )
            update(state.skipped, state.total)

        def advanced(state: SuiteProgress) -> None:
            update(state.skipped + state.finished + len(state.failures), None)

        def execute(address: str | None) -> None:
            run_suite(spec, folder, jobs=workers, ray_address=address, on_start=started, on_progress=advanced)

        if ray is not None and ray.strip() == "auto":
            from kiln.bench.suite_ray import LocalRayCluster

            with LocalRayCluster(head_cpus=workers) as cluster:
                execute(cluster.address)
        else:
            execute(None if ray is None else ray.strip())
    err.print(
        f"wrote {folder / 'summary.md'}, {folder / 'summary.json'}, {folder / 'index.html'} and "
        f"{folder / 'report.html'}",
        highlight=False,
        soft_wrap=True,
    )


@bench_app.command("strategies")
def strategies() -> None:
    """List the strategy names that --strategy accepts (peer libraries come with the kiln "peers" extra)."""
    from kiln.bench.registry import STRATEGIES, available_peers, peer_factories
    from kiln.cli.app import out as console

    for name, config in STRATEGIES.items():
        console.print(f"[bold]{name}[/]: {json.dumps(config)}", highlight=False, soft_wrap=True)
    installed = set(available_peers())
    for name in sorted(set(peer_factories()) - set(STRATEGIES)):
        state = "installed" if name in installed else "not installed"
        console.print(f"[bold]{name}[/]: peer library ({state})", highlight=False)


def _register_latency() -> None:
    """``kiln bench latency``: defined in latency_command (heavy imports happen inside it when it runs)."""
    from kiln.cli.latency_command import latency

    bench_app.command("latency")(_reports_errors(latency))


_register_latency()
