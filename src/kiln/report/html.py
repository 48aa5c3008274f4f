"""The report as one self-contained HTML file: opens offline (plotly.js inlined once), reads on a phone
(viewport meta, fluid layout), prints (print CSS). Every piece of campaign text is HTML-escaped.

Figures (plotly): the best so far against experiments beside random's expectation; each parameter's partial
dependence with its band; the failure map where experiments failed; the Pareto front with several targets; the
leave-one-out predictions against measurements. Each has axis labels with units, a legend and a one-line caption.
"""

from __future__ import annotations

import html
from typing import Any

from kiln.report.findings import Findings, shown_label
from kiln.report.words import expert_section, plain_summary, scientist_section

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.5;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc}
figure{margin:1rem 0;max-width:100%}figcaption{font-size:.9rem;color:#444}
.plain{font-size:1.1rem;background:#f4f6f8;padding:.8rem;border-radius:.4rem}
code{word-break:break-all}
@media (max-width:600px){body{padding:.5rem}h1{font-size:1.3rem}}
@media print{body{max-width:none}figure{break-inside:avoid}.plain{background:none}}
"""


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def figure_html(fig: Any, caption: str) -> str:
    """One plotly figure with its caption as an HTML fragment (plotly.js not included: ``page`` inlines it)."""
    fig.update_layout(autosize=True, margin={"l": 60, "r": 20, "t": 30, "b": 50}, height=380)
    body = fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True, "displaylogo": False})
    return f"<figure>{body}<figcaption>{html.escape(caption)}</figcaption></figure>"


def figures(findings: Findings) -> list[str]:
    """The report's figures as HTML fragments (no plotly.js: ``report_html`` inlines it once)."""
    import plotly.graph_objects as go

    out: list[str] = []
    target = findings.target
    units = {p.name: p.unit for p in findings.question.parameters}
    if findings.progress is not None and target is not None:
        p = findings.progress
        fig = go.Figure()
        fig.add_scatter(x=list(range(1, len(p.best) + 1)), y=p.best, mode="lines+markers", name="best found so far")
        r = findings.random
        if r is not None:
            xs = list(range(1, len(r.curve) + 1))
            upper = [m + s for m, s in zip(r.curve, r.curve_std, strict=True)]
            lower = [m - s for m, s in zip(r.curve, r.curve_std, strict=True)]
            fig.add_scatter(x=xs, y=upper, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
            fig.add_scatter(
                x=xs, y=lower, mode="lines", line={"width": 0}, fill="tonexty", name="random ± 1 std", opacity=0.3
            )
            fig.add_scatter(x=xs, y=r.curve, mode="lines", line={"dash": "dash"}, name="random sampling, expected")
        fig.update_xaxes(title="experiments counted (n)")
        fig.update_yaxes(title=_label(shown_label(target), target.unit))
        out.append(figure_html(fig, "See how fast the best found rose compared with what random sampling would expect."))
    for effect in findings.effects:
        fig = go.Figure()
        xs = effect.values
        upper = [m + b for m, b in zip(effect.mean, effect.band, strict=True)]
        lower = [m - b for m, b in zip(effect.mean, effect.band, strict=True)]
        fig.add_scatter(x=xs, y=upper, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
        fig.add_scatter(x=xs, y=lower, mode="lines", line={"width": 0}, fill="tonexty", name="band (± 1 std)")
        fig.add_scatter(x=xs, y=effect.mean, mode="lines+markers", name="partial dependence")
        fig.update_xaxes(title=_label(effect.parameter, effect.unit))
        tunit = target.unit if target is not None else ""
        fig.update_yaxes(title=_label(str(findings.effects_target), tunit))
        verdict = "a clear effect" if effect.established else "an effect the model cannot tell yet"
        out.append(figure_html(fig, f"How {effect.parameter} moves the prediction on average: {verdict}."))
    if findings.failures.count:
        numeric = [n for n in units if all(isinstance(w[1].get(n), int | float) for w in findings.failures.where)]
        if numeric:
            xname = numeric[0]
            yname = numeric[1] if len(numeric) > 1 else None
            fig = go.Figure()
            fails = findings.failures.where
            fig.add_scatter(
                x=[w[1][xname] for w in fails],
                y=[w[1][yname] if yname else 0 for w in fails],
                mode="markers",
                marker={"symbol": "x", "size": 11, "color": "crimson"},
                name="failed",
                text=[html.escape(w[2]) for w in fails],
            )
            fig.update_xaxes(title=_label(xname, units.get(xname, "")))
            fig.update_yaxes(title=_label(yname, units.get(yname, "")) if yname else "(one parameter)")
            out.append(figure_html(fig, "Where experiments failed: look for clusters to avoid."))
    if len(findings.front) > 0 and len(findings.question.targets) >= 2:
        a, b = findings.question.targets[0], findings.question.targets[1]
        fig = go.Figure()
        pts = [(f.measured[0].value, f.measured[1].value) for f in findings.front if len(f.measured) >= 2]
        fig.add_scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", name="Pareto front")
        fig.update_xaxes(title=_label(a.name, a.unit))
        fig.update_yaxes(title=_label(b.name, b.unit))
        out.append(figure_html(fig, "The trade-off: no experiment on the front beats another in both targets."))
    for cv in findings.cross_validation:
        fig = go.Figure()
        fig.add_scatter(
            x=cv.measured,
            y=cv.predicted,
            error_y={"type": "data", "array": cv.std},
            mode="markers",
            name="left-out prediction ± 1 std",
        )
        lo, hi = min(cv.measured), max(cv.measured)
        fig.add_scatter(x=[lo, hi], y=[lo, hi], mode="lines", line={"dash": "dot"}, name="prediction = measurement")
        fig.update_xaxes(title=_label(f"measured {cv.target}", cv.unit))
        fig.update_yaxes(title=_label(f"predicted {cv.target}", cv.unit))
        out.append(figure_html(fig, "Points near the dotted line mean the model predicts left-out experiments well."))
    return out


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

    params = "".join(
        f"<li>{esc(p.name)}: {esc(p.allowed)}{esc(' ' + p.unit) if p.unit else ''} ({esc(p.kind)})</li>"
        for p in q.parameters
    )
    targets = "".join(
        f"<li>{esc(t.name)}{esc(' (' + t.unit + ')') if t.unit else ''}: {esc(t.wanted)}</li>" for t in q.targets
    )
    constraints = "".join(f"<li>{esc(c)}</li>" for c in q.constraints) or "<li>none</li>"
    b = q.budget
    planned = f" of a budget of {b.planned}" if b.planned is not None else ""
    where = f"a pool of {q.pool_size} candidates" if q.pool_size is not None else "a search space"
    return page(
        f"Report: {q.name}",
        f"<h1>Campaign report: {esc(q.name)}</h1>"
        + (f"<p>{esc(q.description)}</p>" if q.description else "")
        + f"<h2>In plain words</h2><p class='plain'>{esc(plain_summary(findings))}</p>"
        f"<h2>The question</h2><p>Searched {esc(where)}. {b.completed} completed, {b.failed} failed, {b.pending} "
        f"pending, {b.discarded} discarded, {b.retracted} retracted: {b.total} experiments{esc(planned)}.</p>"
        f"<p>Parameters:</p><ul>{params}</ul><p>Targets:</p><ul>{targets}</ul><p>Constraints:</p><ul>{constraints}</ul>"
        f"<h2>For a scientist in the field</h2>{paragraphs(scientist_section(findings))}"
        f"<h2>Figures</h2>{''.join(figures(findings))}"
        f"<h2>For an expert</h2>{paragraphs(expert_section(findings))}",
    )
