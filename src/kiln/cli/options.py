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
