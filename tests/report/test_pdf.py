"""The PDF report: the same sections and figures as the HTML page, checked as a reader would see it.

poppler's tools read the file back: ``pdftotext`` for the words, ``pdfimages -list`` for one image per figure,
``pdftoppm`` for the pages as pictures, whose coloured pixels (the figures' traces; the text is black and grey)
show that the figures are drawn. Skipped without poppler-utils, unless ``KILN_REQUIRE_PDFTOPPM`` is set
(``.ci/run`` sets it and installs poppler-utils when missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kiln.report.figures import report_figures
from kiln.report.findings import Findings
from kiln.report.pdf import figure_png, report_pdf
from kiln.report.words import plain_summary

TOOLS = ("pdftoppm", "pdfimages", "pdftotext")
if not all(shutil.which(tool) for tool in TOOLS):
    if os.environ.get("KILN_REQUIRE_PDFTOPPM"):
        raise RuntimeError("KILN_REQUIRE_PDFTOPPM is set but poppler's tools are missing; install poppler-utils")
    pytest.skip("poppler-utils not installed (apt-get install poppler-utils)", allow_module_level=True)

from PIL import Image  # noqa: E402


def _coloured(png: Path) -> int:
    """Pixels whose channels differ by more than 25: a figure's trace or band, not black or grey text."""
    pixels = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int((pixels.max(axis=-1) - pixels.min(axis=-1) > 25).sum())


@pytest.fixture(scope="module")
def pdf_file(report_findings: dict[str, Findings], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "win.pdf"
    path.write_bytes(report_pdf(report_findings["win"]))
    return path


def test_the_pdf_holds_every_section_and_the_plain_words(pdf_file: Path, report_findings: dict) -> None:
    assert pdf_file.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-layout", str(pdf_file), "-"], capture_output=True, text=True, check=True)
    words = " ".join(text.stdout.split())
    for heading in (
        "Campaign report: win",
        "In plain words",
        "The question",
        "For a scientist in the field",
        "Figures",
        "For an expert",
    ):
        assert heading in words
    assert "synthetic <win>" in words and "film <b>cracked</b> & peeled" in words  # text, not markup
    first = plain_summary(report_findings["win"]).split(". ")[0]
    assert first in words
    for caption in (f.caption for f in report_figures(report_findings["win"])):
        assert caption in words


def test_one_image_per_figure(pdf_file: Path, report_findings: dict) -> None:
    listing = subprocess.run(["pdfimages", "-list", str(pdf_file)], capture_output=True, text=True, check=True)
    images = [line.split() for line in listing.stdout.splitlines()[2:] if line.split()[2] == "image"]
    assert len(images) == len(report_figures(report_findings["win"])) == 5


def test_the_pages_show_drawn_figures(pdf_file: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf_file), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    coloured = [_coloured(page) for page in pages]
    assert coloured[0] < 200  # the first page is text (and the grey box of the plain words)
    assert sum(1 for c in coloured if c > 10_000) >= 2  # two figures a page: lines, markers and bands


def test_a_figure_png_is_drawn_with_its_traces(report_findings: dict, tmp_path: Path) -> None:
    spec = report_figures(report_findings["win"])[0]
    path = tmp_path / "progress.png"
    path.write_bytes(figure_png(spec, dpi=60))
    image = Image.open(path)
    assert image.size == (384, 216)
    assert _coloured(path) > 500


def test_kiln_report_pdf_writes_the_pdf_alone_or_beside_the_html(report_campaigns: dict, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kiln.cli.app import app

    url = report_campaigns["flat"].store.url
    pdf = tmp_path / "flat.pdf"
    result = CliRunner().invoke(app, ["report", "flat", "--pdf", str(pdf), "--store", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-") and not (Path.cwd() / "report.html").exists()
    both = CliRunner().invoke(
        app, ["report", "flat", "--out", str(tmp_path / "flat.html"), "--pdf", str(tmp_path / "b.pdf"), "--store", url]
    )
    assert both.exit_code == 0 and (tmp_path / "flat.html").exists() and (tmp_path / "b.pdf").exists()
    bad = CliRunner().invoke(app, ["report", "flat", "--pdf", str(tmp_path / "no" / "x.pdf"), "--store", url])
    assert bad.exit_code != 0 and "--pdf" in bad.output and "existing folder" in bad.output
    assert not (tmp_path / "no").exists()
