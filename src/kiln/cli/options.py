"""Options shared by several ``kiln`` commands."""

from __future__ import annotations

from typing import Annotated

import typer

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        envvar="KILN_STORE",
        help="Store URL (sqlite:///file.db, postgresql+psycopg://...) or a SQLite file path. Default: kiln.db here.",
        show_default=False,
    ),
]
"""``--store``: where campaigns (and API tokens) are kept; also read from KILN_STORE."""

NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="Campaign name, as kiln list shows it.", show_default=False)
]
"""The campaign a command works on."""

ExperimentIdArgument = Annotated[
    str,
    typer.Argument(
        metavar="ID", help="Experiment id, e.g. exp-3f9c2a71d0 (kiln show NAME lists them).", show_default=False
    ),
]
"""One experiment of the campaign."""

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print machine-readable JSON on stdout (and nothing else there) instead of text."),
]
"""``--json``: the same meaning in every command that has it."""
