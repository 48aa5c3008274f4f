"""The report as one self-contained HTML file: opens offline (plotly.js inlined once), reads on a phone
(viewport meta, fluid layout), prints (print CSS). Every piece of campaign text is HTML-escaped.

Figures: ``kiln.report.figures``'s descriptions drawn by plotly (interactive). Each has axis labels with units, a
legend and a one-line caption.
"""

from __future__ import annotations

import html
from typing import Any

from kiln.report.figures import CROSSES, DASHED, DOTTED, LINE, LINE_MARKERS, MARKERS, Figure, report_figures
from kiln.report.findings import Findings
from kiln.report.words import expert_section, plain_summary, question_section, scientist_section

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.5;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc}
figure{margin:1rem 0;max-width:100%}figcaption{font-size:.9rem;color:#444}
.plain{font-size:1.1rem;background:#f4f6f8;padding:.8rem;border-radius:.4rem}
code{word-break:break-all}p,li{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}table{border-collapse:collapse}th,td{padding:.2rem .4rem;text-align:left}
@media (max-width:600px){body{padding:.5rem}h1{font-size:1.3rem}}
@media print{body{max-width:none}figure{break-inside:avoid}.plain{background:none}}
"""


def figure_html(fig: Any, caption: str) -> str:
    """One plotly figure with its caption as an HTML fragment (plotly.js not included: ``page`` inlines it)."""
    fig.update_layout(autosize=True, margin={"l": 60, "r": 20, "t": 30, "b": 50}, height=380)
    body = fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True, "displaylogo": False})
    return f"<figure>{body}<figcaption>{html.escape(caption)}</figcaption></figure>"


_DASH = {DASHED: "dash", DOTTED: "dot"}
_MODE = {LINE: "lines", DASHED: "lines", DOTTED: "lines", MARKERS: "markers", LINE_MARKERS: "lines+markers"}


def plotly_figure(spec: Figure) -> Any:
    """``spec`` as a plotly figure (``kiln.report.figures``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if spec.heat is not None:
        h = spec.heat
        fig.add_scatter(
            x=list(h.x),
            y=list(h.y),
            mode="markers",
            name=h.title,
            marker={"color": list(h.value), "colorscale": "Viridis", "size": 7, "colorbar": {"title": h.title}},
        )
    for s in spec.series:
        if s.lower is not None and s.upper is not None:
            fig.add_scatter(
                x=list(s.x), y=list(s.upper), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
            )
            fig.add_scatter(
                x=list(s.x),
                y=list(s.lower),
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=s.colour,
                opacity=0.25,
                showlegend=False,
                hoverinfo="skip",
            )
        line: dict[str, Any] = {"dash": _DASH[s.style]} if s.style in _DASH else {}
        marker: dict[str, Any] = {"symbol": "x", "size": 11} if s.style == CROSSES else {}
        if s.colour is not None:
            line["color"] = s.colour
            marker["color"] = s.colour
        fig.add_scatter(
            x=list(s.x),
            y=list(s.y),
            mode=_MODE.get(s.style, "markers"),
            name=s.name,
            line=line or None,
            marker=marker or None,
            error_y={"type": "data", "array": list(s.error)} if s.error is not None else None,
            text=[html.escape(t) for t in s.text] if s.text is not None else None,
        )
    fig.update_xaxes(title=spec.xlabel)
    fig.update_yaxes(title=spec.ylabel)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.25})  # one trace too: every figure has one
    return fig


def figures(findings: Findings) -> list[str]:
    """The report's figures as HTML fragments (no plotly.js: ``report_html`` inlines it once)."""
    return [figure_html(plotly_figure(spec), spec.caption) for spec in report_figures(findings)]


def page(title: str, body: str) -> str:
    """A whole self-contained HTML page around ``body`` (escaped by the caller): CSS and plotly.js inlined."""
    import plotly.offline

    script = f"<script>{plotly.offline.get_plotlyjs()}</script>"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>{script}</head><body>{body}</body></html>"
    )


def report_html(findings: Findings) -> str:
    """The whole report (module docstring)."""
    q = findings.question
    esc = html.escape

    def paragraphs(lines: list[str]) -> str:
        return "".join(f"<p>{esc(line)}</p>" for line in lines)

    searched, params, targets, constraints = question_section(findings)

    def items(lines: list[str]) -> str:
        return "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>"

    return page(
        f"Report: {q.name}",
        f"<h1>Campaign report: {esc(q.name)}</h1>"
        + (f"<p>{esc(q.description)}</p>" if q.description else "")
        + f"<h2>In plain words</h2><p class='plain'>{esc(plain_summary(findings))}</p>"
        f"<h2>The question</h2><p>{esc(searched)}</p><p>Parameters:</p>{items(params)}<p>Targets:</p>{items(targets)}"
        f"<p>Constraints:</p>{items(constraints)}"
        f"<h2>For a scientist in the field</h2>{paragraphs(scientist_section(findings))}"
        f"<h2>Figures</h2>{''.join(figures(findings))}"
        f"<h2>For an expert</h2>{paragraphs(expert_section(findings))}",
    )
