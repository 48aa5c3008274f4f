"""The ``kiln`` command. Thin: parses arguments, calls the campaign and lab layers, prints with rich.

Heavy libraries (torch, botorch, SQLAlchemy) load inside the commands, so ``kiln --help`` stays fast.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from kiln.cli.bench_command import bench_app
from kiln.cli.corrections_command import COMMANDS as CORRECTIONS
from kiln.cli.help import KilnGroup
from kiln.cli.options import ExperimentIdArgument, JsonOption, NameArgument, StoreOption
from kiln.cli.pareto_command import pareto
from kiln.cli.report_command import report
from kiln.cli.serve_command import serve, token_app
from kiln.core.errors import KilnError, StateError, ValidationError
from kiln.core.records import ExperimentStatus

APP_SETTINGS: dict[str, Any] = {
    "name": "kiln",
    "help": "Kiln: closed-loop experiments with Bayesian optimisation, stored safely.",
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "cls": KilnGroup,
}
app = typer.Typer(**APP_SETTINGS)
out = Console()
err = Console(stderr=True)
out.soft_wrap = not out.is_terminal  # a log or a pipe gets whole lines, never a sentence broken at column 80


def print_json(document: Any) -> None:
    """``--json`` output: one JSON document on stdout, nothing else (no colours, no wrapping)."""
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    sys.stdout.flush()


def _version(value: bool) -> None:
    if value:
        from kiln.core.version import VERSION

        out.print(f"kiln {VERSION}", highlight=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print Kiln's version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Kiln: closed-loop experiments with Bayesian optimisation, stored safely."""


F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a KilnError as one clear line on stderr and exit 1, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except KilnError as error:
            err.print("[bold red]error:[/]", escape(str(error)), highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except Exception as error:
            if not _is_database_error(error):
                raise
            first_line = str(getattr(error, "orig", None) or error).splitlines()[0]
            message = f"store: the database could not be used ({type(error).__name__}: {first_line})"
            err.print("[bold red]error:[/]", escape(message), highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _is_database_error(error: Exception) -> bool:
    """True for SQLAlchemy's errors (a file that is not a database, a server that does not answer, ...)."""
    return any(cls.__module__.startswith("sqlalchemy") for cls in type(error).__mro__)


def store_url(option: str | None) -> str:
    """The store URL from --store / KILN_STORE, a bare file path meaning a SQLite file."""
    from kiln.store import DEFAULT_STORE_URL
    from kiln.store import store_url as url_of

    return url_of(option) if option else DEFAULT_STORE_URL


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite store file that does not exist, or None (it exists, or the store is not a file)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # malformed URLs are reported by the store itself
        return None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" and not Path(database).exists():
        return database
    return None


def existing_store_url(option: str | None, campaign: str | None = None) -> str:
    """Like ``store_url``, but a SQLite file must exist already: reading never creates an empty store."""
    from kiln.core.errors import NotFoundError
    from kiln.store import display_url

    url = store_url(option)
    database = missing_sqlite_file(url)
    if database is not None:
        subject = f"campaign {campaign!r} not found: " if campaign else ""
        raise NotFoundError(
            f"{subject}no SQLite store file at {database!r} ({display_url(url)}); check --store or KILN_STORE, "
            "or create a campaign first with kiln create or kiln run"
        )
    return url


def open_campaign(name: str, store: str | None) -> Any:
    from kiln.campaign import Campaign

    return Campaign.open(name, store=existing_store_url(store, name))


@app.command()
@reports_errors
def run(
    spec: Annotated[Path, typer.Argument(help="YAML spec naming the campaign, its space, objective and instrument.")],
    store: StoreOption = None,
    budget: Annotated[
        int | None, typer.Option(help="Total experiments (earlier runs count). Default: the spec's.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of a new campaign (overrides the spec's).")] = None,
) -> None:
    """Run the closed loop of SPEC against its instrument; resume the campaign if it exists already."""
    from kiln.cli.run_command import run_spec

    code = run_spec(spec, store_url(store), budget=budget, seed=seed, console=out)
    raise typer.Exit(code)


@app.command()
@reports_errors
def create(
    spec: Annotated[Path, typer.Argument(help="YAML spec naming the campaign, its space, objective and strategy.")],
    store: StoreOption = None,
) -> None:
    """Create the campaign of SPEC without running it (for ask/tell by hand)."""
    from kiln.campaign import Campaign
    from kiln.lab.spec import load_spec

    parsed = load_spec(spec)
    campaign = Campaign.create(
        parsed.name,
        space=parsed.config.domain,
        objective=parsed.config.objective,
        strategy=parsed.config.strategy,
        store=store_url(store),
        seed=parsed.config.seed,
        extra=parsed.config.extra,
    )
    out.print(f"created campaign [bold]{campaign.name}[/] in {campaign.store.url}")


@app.command()
@reports_errors
def ask(
    name: NameArgument,
    n: Annotated[int, typer.Option("-n", "--n", help="How many experiments to suggest.")] = 1,
    json_output: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """Suggest the next N experiments of campaign NAME (stored as pending)."""
    from kiln.cli.render import experiments_json, experiments_table, tell_usage

    campaign = open_campaign(name, store)
    still_open = len(campaign.pending())
    suggestions = campaign.ask(n)
    if still_open:
        err.print(
            f"{still_open} earlier suggestion{'s are' if still_open > 1 else ' is'} still open: kiln pending {name}",
            highlight=False,
        )
    if json_output:
        print_json(experiments_json(suggestions, campaign.objective))
        return
    if not suggestions:
        out.print("no candidates left in the pool")
        return
    title = f"{len(suggestions)} suggested"
    units = campaign.domain.units
    out.print(experiments_table(suggestions, campaign.domain.names, [], title=title, units=units, width=out.width))
    out.print(f"run them, then: {tell_usage(campaign.objective, name)}   (or kiln fail {name} ID REASON)", markup=False)


@app.command(context_settings={"ignore_unknown_options": True})
@reports_errors
def tell(
    name: NameArgument,
    experiment_id: ExperimentIdArgument,
    values: Annotated[
        list[str],
        typer.Argument(
            metavar="VALUE...",
            help="The measured value of the single target (e.g. 12.5), or NAME=VALUE for each quantity measured "
            "(e.g. yield=82 cost=3.1); quantities still missing can be told later.",
            show_default=False,
        ),
    ],
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            help="Other data kept with the result, as NAME=VALUE (repeat for several); VALUE is read as JSON "
            "when it is a number, true/false, a list or an object, else as text.",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Free text kept with the result.", show_default=False)] = "",
    json_output: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """Record the results of pending experiment ID: VALUE for a single target, or NAME=VALUE for each quantity."""
    from kiln.cli.render import experiment_record, told_text
    from kiln.cli.result_args import parse_result_args

    value = parse_result_args(values)
    outputs = parse_outputs(output or [])
    campaign = open_campaign(name, store)
    try:
        experiment = campaign.tell(experiment_id, value, outputs=outputs or None, note=note)
    except StateError as error:
        again = _told_again(campaign, experiment_id, value)
        if not again:
            raise
        raise StateError(f"{error}, e.g. kiln amend {name} {experiment_id} {again} --reason TEXT") from None
    if json_output:
        print_json(experiment_record(experiment, campaign.objective))
        return
    out.print(told_text(experiment, campaign.objective, campaign=name), highlight=False, markup=False)


def _told_again(campaign: Any, experiment_id: str, value: Any) -> str:
    """The NAME=VALUE arguments of ``value`` whose quantity a pending experiment has a value for already (what
    ``kiln amend`` would change), or "" when there are none."""
    experiment = campaign.experiment(experiment_id)
    if experiment.status is not ExperimentStatus.PENDING:
        return ""
    given = value if isinstance(value, dict) else {q: value for q in campaign.objective.quantities[:1]}
    return " ".join(f"{k}={v}" for k, v in given.items() if k in experiment.results)


def parse_outputs(items: list[str]) -> dict[str, Any]:
    """``--output NAME=VALUE`` options as a map; ValidationError for an item without a name or given twice."""
    from kiln.core.json_values import value_from_text

    outputs: dict[str, Any] = {}
    for item in items:
        key, equals, text = item.partition("=")
        key = key.strip()
        if not equals or not key:
            raise ValidationError("--output", item, "NAME=VALUE is required", "e.g. --output purity=0.93")
        if key in outputs:
            raise ValidationError("--output", item, f"each name once ({key!r} is given twice)", "remove one")
        outputs[key] = value_from_text(text)
    return outputs


@app.command()
@reports_errors
def fail(
    name: NameArgument,
    experiment_id: ExperimentIdArgument,
    reason: Annotated[str, typer.Argument(metavar="REASON", help="Why it failed, in words, e.g. 'film cracked'.")],
    json_output: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """Record that pending experiment ID failed, and why."""
    from kiln.cli.render import experiment_record

    experiment = open_campaign(name, store).fail(experiment_id, reason)
    if json_output:
        print_json(experiment_record(experiment))
        return
    out.print(f"{experiment.id}: failed ({escape(experiment.reason)})", highlight=False)


@app.command("import")
@reports_errors
def import_(
    name: NameArgument,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV file, e.g. one written by kiln export.")],
    store: StoreOption = None,
) -> None:
    """Add measurements from a CSV file (parameter and target columns, optional id of a pending suggestion)."""
    added = open_campaign(name, store).add_data(str(file))
    skipped = f"; {added.skipped} row(s) skipped (stored already, or no result)" if added.skipped else ""
    out.print(f"imported {len(added)} measurement(s) into {name}{skipped}", highlight=False, markup=False)


@app.command("list")
@reports_errors
def list_(json_output: JsonOption = False, store: StoreOption = None) -> None:
    """List the campaigns of the store."""
    from kiln.cli.render import campaign_rows, campaigns_table
    from kiln.store import display_url, open_store

    url = store_url(store)
    if missing_sqlite_file(url) is not None:
        if json_output:
            print_json([])
            return
        out.print(f"no campaigns: there is no store at {display_url(url)} yet")
        return
    backend = open_store(url)
    records = backend.list_campaigns()
    if json_output:
        print_json(campaign_rows(backend, records))
        return
    if not records:
        out.print(f"no campaigns in {backend.url}")
        return
    out.print(f"campaigns in {backend.url}", highlight=False)
    out.print(campaigns_table(backend, records, width=out.width))


@app.command()
@reports_errors
def show(name: NameArgument, json_output: JsonOption = False, store: StoreOption = None) -> None:
    """Show a campaign: its set-up, progress, best result and latest experiments."""
    from kiln.cli.render import campaign_summary, show_campaign

    campaign = open_campaign(name, store)
    if json_output:
        print_json(campaign_summary(campaign))
        return
    show_campaign(campaign, out)


class ExportFormat(StrEnum):
    csv = "csv"
    json = "json"


@app.command()
@reports_errors
def export(
    name: NameArgument,
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = ExportFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write. Default: stdout.")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Add a row for every earlier value of each corrected experiment.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Write every experiment of NAME as CSV or JSON (to stdout unless --output is given)."""
    from kiln.campaign.export_text import table_to_csv, table_to_records

    campaign = open_campaign(name, store)
    table = campaign.to_table(history=history)
    if campaign.objective.is_map:  # how good the map is, beside the table (which stays re-importable)
        from kiln.campaign.map_error import map_error, map_error_lines

        error = map_error(campaign.domain, campaign.objective, campaign.experiments(), seed=campaign.config.seed)
        for line in map_error_lines(error, campaign.objective.units):
            err.print(f"map: {line}", highlight=False, soft_wrap=True)
    if format is ExportFormat.csv:
        text = table_to_csv(table)
    else:
        text = json.dumps(table_to_records(table), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            raise ValidationError(
                "--output", str(output), f"the file cannot be written ({error.strerror})", "check the folder exists"
            ) from None
        err.print(f"wrote {len(table.records)} experiment(s) to {output}")


@app.command()
def datasets() -> None:
    """List the built-in datasets (each has an emulator)."""
    from kiln.lab.datasets import DATASETS

    for info in DATASETS.values():
        measured = ", ".join(f"'{column}' ({direction})" for column, direction in info.measured)
        out.print(f"[bold]{info.name}[/]: {info.description}; measured {measured}", highlight=False)


for correction in CORRECTIONS:
    settings = {"ignore_unknown_options": True} if correction.__name__ == "amend" else None  # VALUE may be -3
    app.command(correction.__name__, context_settings=settings)(reports_errors(correction))
app.command("pareto")(reports_errors(pareto))
app.command("report")(reports_errors(report))
app.add_typer(bench_app, name="bench")
app.command("serve")(reports_errors(serve))
for command in token_app.registered_commands:
    command.callback = reports_errors(command.callback)  # type: ignore[arg-type,type-var]
app.add_typer(token_app, name="token")


def command_app(args: list[str]) -> typer.Typer:
    """The app that runs ``kiln ARGS``: when the first argument names a command (or a group such as ``bench``),
    an app with ``app``'s settings and callback holding that command alone, so that typer reads the parameters
    of one command rather than of all of them (about 50 ms of start-up); otherwise (no arguments, ``--help``,
    ``--version``, an unknown name) ``app`` itself. A command runs, and its help and errors read, the same."""
    if not args:
        return app
    commands = [c for c in app.registered_commands if _command_name(c) == args[0]]
    groups = [g for g in app.registered_groups if g.name == args[0]]
    if len(commands) + len(groups) != 1:
        return app
    single = typer.Typer(**APP_SETTINGS)
    single.registered_callback = app.registered_callback
    single.registered_commands = commands
    single.registered_groups = groups
    return single


def _command_name(command: Any) -> str | None:
    """The name a registered command is called by (typer's rule: the function's name, ``_`` as ``-``)."""
    if command.name:
        return str(command.name)
    callback = command.callback
    return None if callback is None else str(callback.__name__).lower().replace("_", "-")


def main() -> None:
    """Entry point of the ``kiln`` console script."""
    command_app(sys.argv[1:])()


if __name__ == "__main__":
    main()
