"""``kiln amend / retract / discard / delete / pending``: correct a campaign's record without losing its history."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from kiln.cli.options import JsonOption, StoreOption
from kiln.core.errors import StateError
from kiln.core.records import ExperimentStatus

out = Console()
err = Console(stderr=True)

NameArgument = Annotated[str, typer.Argument(help="The campaign's name (kiln list shows them).", show_default=False)]
IdArgument = Annotated[str, typer.Argument(help="The experiment's id, e.g. exp-3f9c2a71d0.", show_default=False)]


def _open(name: str, store: str | None) -> Any:
    from kiln.cli.app import open_campaign

    return open_campaign(name, store)


def amend(
    name: NameArgument,
    experiment_id: IdArgument,
    values: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[VALUE...]",
            help="The corrected value of the single target, or NAME=VALUE for each quantity corrected (leave out "
            "with --fail).",
            show_default=False,
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why the result is corrected (kept in its history).")] = "",
    fail: Annotated[
        str | None, typer.Option("--fail", help="Turn it into a failure with this reason instead of a new value.")
    ] = None,
    store: StoreOption = None,
) -> None:
    """Correct the result of finished experiment ID: a new VALUE (or NAME=VALUE for each quantity corrected), or
    --fail REASON; the earlier value is kept."""
    from kiln.cli.result_args import parse_result_args

    campaign = _open(name, store)
    if values and fail is not None:
        from kiln.core.errors import ValidationError

        raise ValidationError("VALUE/--fail", values, "a new value or --fail REASON, not both", "give one of them")
    value = parse_result_args(values) if values else None
    experiment = campaign.amend(experiment_id, value, reason=reason, failure=fail)
    if fail is not None:
        now = f"failed ({experiment.reason})"
    elif experiment.status is ExperimentStatus.PENDING:  # a partly measured one stays pending
        from kiln.cli.render import missing_quantities

        missing = missing_quantities(experiment, campaign.objective.quantities)
        later = " ".join(f"{quantity}=VALUE" for quantity in missing)
        now = (
            f"pending with {dict(experiment.results)}, waiting for {', '.join(missing)} "
            f"(kiln tell {name} {experiment.id} {later})"
        )
    else:
        now = f"completed with {dict(experiment.results)}"
    out.print(f"{experiment.id}: amended, now {now}; kiln history {name} {experiment.id} shows every value")


def retract(
    name: NameArgument,
    experiment_id: IdArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why it is retracted (kept in its history).")] = "",
    undo: Annotated[bool, typer.Option("--undo", help="Take an earlier retraction back.")] = False,
    store: StoreOption = None,
) -> None:
    """Retract finished experiment ID: it stays in the record, but no model or best result uses it."""
    campaign = _open(name, store)
    if undo:
        experiment = campaign.unretract(experiment_id, reason=reason)
        out.print(f"{experiment.id}: no longer retracted; models learn from it again")
    else:
        experiment = campaign.retract(experiment_id, reason=reason)
        out.print(f"{experiment.id}: retracted; it stays in the record, and nothing learns from it")


def discard(
    name: NameArgument,
    experiment_id: IdArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why it will not be run (optional).")] = "",
    store: StoreOption = None,
) -> None:
    """Discard pending suggestion ID: it will not be run; not a failure, and nothing learns from it."""
    experiment = _open(name, store).discard(experiment_id, reason=reason)
    out.print(f"{experiment.id}: discarded" + (f" ({experiment.reason})" if experiment.reason else ""))


def history(
    name: NameArgument,
    experiment_id: IdArgument,
    json_output: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """Show every value experiment ID has had, oldest first, with when, why and by whom it changed."""
    from kiln.cli.app import print_json
    from kiln.cli.render import history_table
    from kiln.core.revision_json import revision_json

    campaign = _open(name, store)
    versions = campaign.history(experiment_id)
    if json_output:
        print_json([revision_json(r) for r in versions])
        return
    out.print(history_table(versions, campaign.objective.quantities, title=f"history of {experiment_id}"))


def pending(
    name: NameArgument,
    json_output: JsonOption = False,
    store: StoreOption = None,
) -> None:
    """List the open suggestions of NAME (pending: not yet told, failed or discarded)."""
    from kiln.cli.app import print_json
    from kiln.cli.render import experiments_json, experiments_table, partly_measured, tell_usage

    campaign = _open(name, store)
    objective = campaign.objective
    open_ones = campaign.pending()
    if json_output:
        print_json(experiments_json(open_ones, objective))
        return
    if not open_ones:
        out.print(f"no open suggestions in {name}")
        return
    partly = partly_measured(open_ones, objective.quantities)
    title = f"{len(open_ones)} open" + (f", {len(partly)} of them partly measured" if partly else "")
    units = {**campaign.domain.units, **objective.units}
    shown = objective.quantities if partly else []  # the values told so far, and what each still waits for
    table = experiments_table(
        open_ones,
        campaign.domain.names,
        shown,
        title=title,
        units=units,
        width=out.width,
        missing=objective.quantities if partly else None,
    )
    out.print(table)
    out.print(
        f"finish each: {tell_usage(objective, name)}, kiln fail {name} ID REASON, or kiln discard {name} ID",
        highlight=False,
        markup=False,
    )


def delete(
    name: NameArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: delete the campaign and everything in it.")] = False,
    store: StoreOption = None,
) -> None:
    """Delete campaign NAME with every experiment, event and history, for good (needs --yes)."""
    from kiln.cli.app import existing_store_url
    from kiln.store import open_store

    backend = open_store(existing_store_url(store, name))
    backend.get_campaign(name)  # NotFoundError naming the known campaigns
    count = len(backend.experiments(name))
    if not yes:
        raise StateError(
            f"kiln delete removes campaign {name!r} with its {count} experiment(s) and their history from "
            f"{backend.url}, and it cannot be undone; add --yes to confirm (kiln export {name} keeps a copy)"
        )
    backend.delete_campaign(name)
    out.print(f"deleted campaign {name} ({count} experiment(s)) from {backend.url}")


COMMANDS = (amend, retract, discard, history, pending, delete)
"""The commands of this module, registered on the ``kiln`` app in this order."""
