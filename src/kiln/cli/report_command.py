"""``kiln report NAME``: the campaign report as one self-contained HTML file (``kiln.report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kiln.cli.options import NameArgument, StoreOption


def report(
    name: NameArgument,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")] = Path("report.html"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the report's model fits and simulations.")] = 0,
    truth: Annotated[
        str | None,
        typer.Option(
            "--truth",
            metavar="DATASET",
            help="A built-in dataset holding every pool row's value (an emulator campaign): the comparison with "
            "random sampling is then exact on those values.",
        ),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Write the report of NAME: what was found, how sure the model is, and what was not established."""
    from kiln.cli.app import open_campaign, out
    from kiln.report.findings import campaign_findings
    from kiln.report.html import report_html

    campaign = open_campaign(name, store)
    values = None
    if truth is not None:
        from kiln.report.truth import pool_values_from_dataset

        values = pool_values_from_dataset(campaign.domain, campaign.objective.target.name, truth)
    findings = campaign_findings(campaign, seed=seed, pool_values=values)
    out_file.write_text(report_html(findings), encoding="utf-8")
    out.print(f"report of {name} written to {out_file}", highlight=False, markup=False)
