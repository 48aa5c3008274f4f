"""``kiln bench latency``: seconds per recommendation of Kiln, plain BoTorch and the installed peers.

Registered on the ``bench`` sub-app by ``kiln.cli.bench_command``. Only typer and rich load with this module;
torch and the peer libraries load when the command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from kiln.bench.latency import Case, LatencyResult


def latency(
    json_path: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the results as JSON to this file (as kiln bench pool --out)."),
    ] = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            "-s",
            help="Strategy to time (repeatable): kiln, botorch-defaults, skopt-gp, optuna-tpe, optuna-gp, baybe, "
            "ax. Default: kiln, botorch-defaults and every installed peer.",
            show_default=False,
        ),
    ] = None,
    n: Annotated[
        list[int] | None,
        typer.Option(
            "--n", help="Observations in the 6-d space (repeatable). Default: 20, 100, 500, 2000.", show_default=False
        ),
    ] = None,
    pool: Annotated[
        list[int] | None,
        typer.Option(
            "--pool", help="Pool rows (repeatable; 0: no pool cases). Default: 10000, 100000.", show_default=False
        ),
    ] = None,
    pool_n: Annotated[int, typer.Option("--pool-n", help="Observations in the pool cases.")] = 500,
    targets: Annotated[
        list[int] | None,
        typer.Option(
            "--targets",
            help="Targets of the multi-target cases in the 6-d space (repeatable; 0: none). Default: 2, 3.",
            show_default=False,
        ),
    ] = None,
    targets_n: Annotated[int, typer.Option("--targets-n", help="Observations in the multi-target cases.")] = 100,
    reaction_n: Annotated[
        int,
        typer.Option(
            "--reaction-n",
            help="Observations in the reaction case: the Suzuki pool (3,696 rows, 5 SMILES columns as RDKit "
            "descriptors); 0: none.",
        ),
    ] = 100,
    repeats: Annotated[int, typer.Option(help="Recommendations timed per case; the median is reported.")] = 3,
    max_seconds: Annotated[
        float, typer.Option(help="Time limit per case: a case estimated to take longer is skipped.")
    ] = 300.0,
    threads: Annotated[
        int, typer.Option(help="Torch and BLAS threads for every strategy (0: the libraries' defaults).")
    ] = 1,
) -> None:
    """Time one recommendation of Kiln's default strategy, plain BoTorch and each installed peer."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from kiln.bench.latency import KILN, default_cases, run_latency
    from kiln.bench.peers import available_peers

    console = Console()
    names = list(dict.fromkeys(strategy or [KILN, *available_peers()]))
    cases = default_cases(n, pool, pool_n, targets, targets_n, reaction_n)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("starting", total=len(names) * len(cases))

        def report(message: str, done: bool) -> None:
            bar.update(task, description=message, advance=1 if done else 0)
            if done and not console.is_terminal:  # a log file gets one line per finished case instead
                console.print(message, highlight=False)

        results = run_latency(
            names, cases, repeats=repeats, max_seconds=max_seconds, threads=threads or None, progress=report
        )
    setting = environment(threads or None)
    console.print(latency_table(results, names, cases, repeats, setting))
    for result in results:
        if result.status == "error":
            console.print(f"[red]{result.strategy}[/] on {result.case.label}, n={result.case.n}: {result.message}")
    if json_path is not None:
        report_json = {
            "repeats": repeats,
            "max_seconds": max_seconds,
            **setting,
            "results": [r.to_json() for r in results],
        }
        json_path.write_text(json.dumps(report_json, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_path}")


def latency_table(
    results: list[LatencyResult], names: list[str], cases: list[Case], repeats: int, setting: dict[str, Any]
) -> Table:
    """Strategies as rows, cases as columns, median seconds per recommendation in the cells."""
    cell = {(r.strategy, r.case): r.cell for r in results}
    table = Table(
        title=f"Seconds per recommendation (median of up to {repeats})",
        caption=f"{setting['cpus']} CPUs, {setting['torch_threads']} torch and BLAS thread(s)",
    )
    table.add_column("strategy", no_wrap=True)
    for case in cases:
        where = case.label.replace(", ", "\n")
        if not case.dataset:
            where = f"{case.rows:,} rows" if case.is_pool else case.label.replace("continuous", "space")
        where = where.replace(", ", "\n") if case.targets > 1 else where
        table.add_column(f"{where}\nn={case.n}", justify="right")
    for name in names:
        table.add_row(name, *(cell.get((name, case), "") for case in cases))
    return table


def environment(threads: int | None = None) -> dict[str, Any]:
    """The machine and library versions of a run (for the JSON report)."""
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import torch

    versions: dict[str, str | None] = {}
    for package in ("kiln", "torch", "botorch", "scikit-optimize", "optuna", "baybe", "ax-platform"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "torch_threads": threads if threads is not None else torch.get_num_threads(),
        "versions": versions,
    }
