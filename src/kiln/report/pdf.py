"""The report as a PDF: the same sections and figures as the HTML page, static, on A4 pages.

Figures are drawn by matplotlib from the same descriptions as the HTML's (``kiln.report.figures``), as PNG at
``DPI``; the pages are laid out by reportlab (paragraphs, lists, figures kept whole with their captions). The text
font is DejaVu Sans, which matplotlib ships, so every character of the report (±, ², names in any script) prints.
Nothing is fetched: the PDF opens offline and prints as it is.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from kiln.report.figures import CROSSES, DASHED, DOTTED, LINE, LINE_MARKERS, MARKERS, Figure, report_figures
from kiln.report.findings import Findings
from kiln.report.words import expert_section, plain_summary, question_section, scientist_section

DPI = 150
"""Resolution of the figures in the PDF (dots per inch)."""

SIZE = (6.4, 3.6)
"""A figure's size, inches (width, height)."""

FONT = "KilnSans"

_LINESTYLE = {LINE: "-", DASHED: "--", DOTTED: ":", LINE_MARKERS: "-"}
_MARKER = {MARKERS: "o", LINE_MARKERS: "o", CROSSES: "x"}


def matplotlib_figure(spec: Figure) -> Any:
    """``spec`` drawn by matplotlib (a ``matplotlib.figure.Figure``, no pyplot state)."""
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=SIZE, layout="constrained")
    ax = fig.add_subplot()
    if spec.heat is not None:
        h = spec.heat
        drawn = ax.scatter(h.x, h.y, c=h.value, s=9, cmap="viridis", label=h.title)
        fig.colorbar(drawn, ax=ax, label=h.title)
    categorical = any(isinstance(v, str) for s in spec.series for v in s.x)
    for s in spec.series:
        xs = [str(v) for v in s.x] if categorical else list(s.x)
        if s.error is not None:
            drawn_colour = (
                ax.errorbar(
                    xs,
                    s.y,
                    yerr=s.error,
                    fmt=_MARKER.get(s.style, "o"),
                    markersize=4,
                    capsize=2,
                    label=s.name,
                    color=s.colour,
                )
                .lines[0]
                .get_color()
            )
        else:
            (line,) = ax.plot(
                xs,
                s.y,
                linestyle=_LINESTYLE.get(s.style, "none"),
                marker=_MARKER.get(s.style, ""),
                markersize=6 if s.style == CROSSES else 4,
                color=s.colour,
                label=s.name,
            )
            drawn_colour = line.get_color()
        if s.lower is not None and s.upper is not None:
            ax.fill_between(xs, s.lower, s.upper, alpha=0.25, color=drawn_colour, linewidth=0)
    ax.set_xlabel(spec.xlabel)
    ax.set_ylabel(spec.ylabel)
    ax.legend(fontsize="small")
    if categorical:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def figure_png(spec: Figure, *, dpi: int = DPI) -> bytes:
    """``spec`` as PNG bytes (matplotlib's Agg renderer)."""
    buffer = io.BytesIO()
    matplotlib_figure(spec).savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _font() -> str:
    """Register DejaVu Sans (shipped with matplotlib) with reportlab once; its name."""
    from matplotlib import get_data_path
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        folder = Path(get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont(FONT + "-Bold", str(folder / "DejaVuSans-Bold.ttf")))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT + "-Bold")
    return FONT


def report_pdf(findings: Findings) -> bytes:
    """The whole report (module docstring) as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm, inch
    from reportlab.platypus import Image, KeepTogether, ListFlowable, Paragraph, SimpleDocTemplate, Spacer

    font = _font()
    base = getSampleStyleSheet()
    body = ParagraphStyle("kiln-body", parent=base["BodyText"], fontName=font, fontSize=10, leading=14)
    plain = ParagraphStyle(
        "kiln-plain", parent=body, fontSize=11.5, leading=16, backColor="#f4f6f8", borderPadding=6, spaceAfter=8
    )
    caption = ParagraphStyle("kiln-caption", parent=body, fontSize=9, textColor="#444444")
    h1 = ParagraphStyle("kiln-h1", parent=base["Heading1"], fontName=font + "-Bold")
    h2 = ParagraphStyle("kiln-h2", parent=base["Heading2"], fontName=font + "-Bold")

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(escape(text), style)

    def bullets(items: list[str]) -> ListFlowable:
        return ListFlowable([para(i) for i in items], bulletType="bullet", bulletFontName=font, leftIndent=12)

    q = findings.question
    searched, params, targets, constraints = question_section(findings)
    story: list[Any] = [para(f"Campaign report: {q.name}", h1)]
    if q.description:
        story.append(para(q.description))
    story += [para("In plain words", h2), Spacer(1, 4), para(plain_summary(findings), plain)]
    story += [para("The question", h2), para(searched)]
    for title, items in (("Parameters:", params), ("Targets:", targets), ("Constraints:", constraints)):
        story += [para(title), bullets(items)]
    story.append(para("For a scientist in the field", h2))
    story += [para(line) for line in scientist_section(findings)]
    story.append(para("Figures", h2))
    width = A4[0] - 4 * cm
    for spec in report_figures(findings):
        png = figure_png(spec)
        height = width * SIZE[1] / SIZE[0]
        image = Image(io.BytesIO(png), width=width, height=height)
        story.append(KeepTogether([image, para(spec.caption, caption), Spacer(1, 0.15 * inch)]))
    story.append(para("For an expert", h2))
    story += [para(line) for line in expert_section(findings)]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=f"Report: {q.name}",
        author="Kiln",
    )
    doc.build(story)
    return out.getvalue()
