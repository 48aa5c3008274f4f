"""``kiln report NAME``: the campaign report as one self-contained HTML file (``kiln.report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kiln.cli.options import NameArgument, StoreOption


def report(
    name: NameArgument,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the HTML report (default report.html, unless only --pdf is given)."),
    ] = None,
    pdf_file: Annotated[
        Path | None, typer.Option("--pdf", help="Also (or only) write the report as a PDF, with static figures.")
    ] = None,
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
    from kiln.core.errors import ValidationError
    from kiln.report.findings import campaign_findings
    from kiln.report.html import report_html

    campaign = open_campaign(name, store)
    values = None
    if truth is not None:
        from kiln.report.truth import pool_values_from_dataset

        values = pool_values_from_dataset(campaign.domain, campaign.objective.target.name, truth)
    if out_file is None and pdf_file is None:
        out_file = Path("report.html")
    for path in (out_file, pdf_file):
        if path is not None and not path.parent.is_dir():
            raise ValidationError(
                "--pdf" if path is pdf_file else "--out",
                str(path),
                "a file in an existing folder",
                f"create {path.parent} first, or give another path",
            )
    findings = campaign_findings(campaign, seed=seed, pool_values=values)
    if out_file is not None:
        out_file.write_text(report_html(findings), encoding="utf-8")
        out.print(f"report of {name} written to {out_file}", highlight=False, markup=False)
    if pdf_file is not None:
        from kiln.report.pdf import report_pdf

        pdf_file.write_bytes(report_pdf(findings))
        out.print(f"report of {name} written to {pdf_file} (PDF)", highlight=False, markup=False)
