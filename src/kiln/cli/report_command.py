"""``kiln report NAME``: the campaign report as one self-contained HTML file (``kiln.report``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kiln.cli.options import NameArgument, StoreOption

if TYPE_CHECKING:
    from kiln.campaign import Campaign


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

    campaign = open_campaign(name, store)
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
    for path in write_campaign_report(campaign, html_file=out_file, pdf_file=pdf_file, seed=seed, truth=truth):
        kind = " (PDF)" if path == pdf_file else ""
        out.print(f"report of {name} written to {path}{kind}", highlight=False, markup=False)


def write_campaign_report(
    campaign: Campaign,
    *,
    html_file: Path | None,
    pdf_file: Path | None = None,
    seed: int = 0,
    truth: str | None = None,
    pool_values: list[float] | None = None,
) -> list[Path]:
    """Write the report of ``campaign`` as HTML to ``html_file`` and as PDF to ``pdf_file`` (either may be None;
    ``truth``: a built-in dataset holding every pool row's value; or those values themselves, ``pool_values``);
    the paths written, HTML first."""
    from kiln.report.findings import campaign_findings
    from kiln.report.html import report_html

    values = pool_values
    if truth is not None:
        from kiln.report.truth import pool_values_from_dataset

        values = pool_values_from_dataset(campaign.domain, campaign.objective.target.name, truth)
    findings = campaign_findings(campaign, seed=seed, pool_values=values, truth=truth)
    written: list[Path] = []
    if html_file is not None:
        html_file.write_text(report_html(findings), encoding="utf-8")
        written.append(html_file)
    if pdf_file is not None:
        from kiln.report.pdf import report_pdf

        pdf_file.write_bytes(report_pdf(findings))
        written.append(pdf_file)
    return written
