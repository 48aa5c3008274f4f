"""The report's figures as data, drawn by two renderers: plotly for the HTML page (``kiln.report.html``),
matplotlib for the PDF (``kiln.report.pdf``). One description, so both show the same series with the same labels.

A ``Figure`` has axis labels with units, a one-line caption that says what to see, and either series (lines,
markers, bands, error bars; each named for the legend) or a ``Heat`` (values at scattered points, coloured, with
a colour bar title) plus series drawn over it.

Figures, in order: the best so far against experiments beside random sampling's expected best (+- 1 std), or
with several targets the hypervolume so far beside random sampling's; each
parameter's partial dependence with its band; the failure map (the first two numeric parameters) when there are
failures; the Pareto front (the first two targets) with several targets; the map and its uncertainty for a
``goal: map`` campaign (``Findings.maps``); the leave-one-out predictions against the measurements.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kiln.report.findings import Findings, RandomComparison, shown_label

LINE, DASHED, DOTTED, MARKERS, LINE_MARKERS, CROSSES = "line", "dashed", "dotted", "markers", "line+markers", "crosses"
STYLES = (LINE, DASHED, DOTTED, MARKERS, LINE_MARKERS, CROSSES)

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
"""Colours of a figure's series that have none, in order (matplotlib's and plotly's first colours, red left out
for failures): both renderers draw a series and its band in the same colour."""


@dataclass(frozen=True)
class Series:
    """One legend entry: points (x, y) of equal length m.

    Attributes:
        name: the legend's text.
        x / y: the points (m,); x may hold category names.
        style: one of ``STYLES``.
        lower / upper: a band drawn between them (m,), or None.
        error: symmetric error bars (m,), or None.
        text: a hover text per point (m,), or None (HTML only).
        colour: a CSS/matplotlib colour name, or None for the renderer's next colour.
    """

    name: str
    x: tuple[Any, ...]
    y: tuple[float, ...]
    style: str = LINE_MARKERS
    lower: tuple[float, ...] | None = None
    upper: tuple[float, ...] | None = None
    error: tuple[float, ...] | None = None
    text: tuple[str, ...] | None = None
    colour: str | None = None


@dataclass(frozen=True)
class Heat:
    """Values at scattered points, drawn as coloured markers: x, y, value (m,); ``title`` of the colour bar."""

    x: tuple[float, ...]
    y: tuple[float, ...]
    value: tuple[float, ...]
    title: str


@dataclass(frozen=True)
class Figure:
    """One figure: ``key`` names it (a file name in a figures folder), the rest as the module docstring says."""

    key: str
    xlabel: str
    ylabel: str
    caption: str
    series: tuple[Series, ...]
    heat: Heat | None = None


def label(name: str, unit: str) -> str:
    """An axis label: ``name (unit)``, or the name alone without a unit or when it already ends with ``(unit)``."""
    return f"{name} ({unit})" if unit and not name.endswith(f"({unit})") else name


def _key(text: str) -> str:
    """``text`` as a file-name part: letters and digits, other runs as one dash."""
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _random_series(r: RandomComparison) -> Series:
    """Random sampling's expected curve after 1 .. k experiments with its ± 1 std band."""
    return Series(
        "random sampling, expected ± 1 std",
        tuple(range(1, len(r.curve) + 1)),
        tuple(r.curve),
        DASHED,
        lower=tuple(m - s for m, s in zip(r.curve, r.curve_std, strict=True)),
        upper=tuple(m + s for m, s in zip(r.curve, r.curve_std, strict=True)),
    )


def _progress(findings: Findings) -> Figure | None:
    target, p = findings.target, findings.progress
    if p is None or target is None:
        return None
    series = [Series("best found so far", tuple(range(1, len(p.best) + 1)), tuple(p.best), LINE_MARKERS)]
    if findings.random is not None and findings.random.measure == "best":
        series.append(_random_series(findings.random))
    return Figure(
        "progress",
        "experiments counted (n)",
        label(shown_label(target), target.unit),
        "See how fast the best found rose compared with what random sampling would expect.",
        tuple(series),
    )


def _hypervolume(findings: Findings) -> Figure | None:
    if not findings.hypervolume:
        return None
    curve = findings.hypervolume
    series = [Series("hypervolume so far", tuple(range(1, len(curve) + 1)), tuple(curve), LINE_MARKERS)]
    if findings.random is not None and findings.random.measure == "hypervolume":
        series.append(_random_series(findings.random))
    return Figure(
        "hypervolume",
        "experiments completed (n)",
        "hypervolume (score units)",
        "See how fast the trade-off grew compared with what random sampling would expect.",
        tuple(series),
    )


def _effects(findings: Findings) -> list[Figure]:
    out = []
    unit = findings.target.unit if findings.target is not None else ""
    if findings.target is None and findings.effects_target is not None:
        unit = next((t.unit for t in findings.question.targets if t.name == findings.effects_target), "")
    for effect in findings.effects:
        verdict = "a clear effect" if effect.established else "an effect the model cannot tell yet"
        band = Series(
            "partial dependence, band ± 1 std",
            tuple(effect.values),
            tuple(effect.mean),
            LINE_MARKERS,
            lower=tuple(m - b for m, b in zip(effect.mean, effect.band, strict=True)),
            upper=tuple(m + b for m, b in zip(effect.mean, effect.band, strict=True)),
        )
        out.append(
            Figure(
                f"effect-{_key(effect.parameter)}",
                label(effect.parameter, effect.unit),
                label(str(findings.effects_target), unit),
                f"How {effect.parameter} moves the prediction on average: {verdict}.",
                (band,),
            )
        )
    return out


def _completed(findings: Findings, xname: str, yname: str | None) -> list[tuple[float, float]]:
    """The counted experiments' (x, y) (``Findings.points``)."""
    points: list[tuple[float, float]] = []
    for params, _ in findings.points:
        x, y = params.get(xname), params.get(yname) if yname else 0.0
        if isinstance(x, int | float) and isinstance(y, int | float):
            points.append((float(x), float(y)))
    return points


def _failures(findings: Findings) -> Figure | None:
    fails = findings.failures.where
    if not fails:
        return None
    units = {p.name: p.unit for p in findings.question.parameters}
    numeric = [n for n in units if all(isinstance(w[1].get(n), int | float) for w in fails)]
    if not numeric:
        return None
    xname = numeric[0]
    yname = numeric[1] if len(numeric) > 1 else None
    series = []
    done = _completed(findings, xname, yname)
    if done:
        series.append(Series("completed", tuple(p[0] for p in done), tuple(p[1] for p in done), MARKERS, colour="grey"))
    series.append(
        Series(
            "failed",
            tuple(float(w[1][xname]) for w in fails),
            tuple(float(w[1][yname]) if yname else 0.0 for w in fails),
            CROSSES,
            text=tuple(w[2] for w in fails),
            colour="crimson",
        )
    )
    axes = f"{xname} across, {yname} up" if yname else f"{xname} across (the only numeric parameter)"
    return Figure(
        "failures",
        label(xname, units.get(xname, "")),
        label(yname, units.get(yname, "")) if yname else "(one parameter)",
        f"Where experiments failed ({axes}), crosses over completed ones: look for clusters to avoid.",
        tuple(series),
    )


def _front(findings: Findings) -> Figure | None:
    targets = findings.question.targets
    if not findings.front or len(targets) < 2:
        return None
    a, b = targets[0], targets[1]
    pts = sorted((f.measured[0].value, f.measured[1].value) for f in findings.front if len(f.measured) >= 2)
    front = Series("Pareto front", tuple(p[0] for p in pts), tuple(p[1] for p in pts), LINE_MARKERS)
    on_front = set(pts)
    others = [
        (r[a.name], r[b.name])
        for _, r in findings.points
        if a.name in r and b.name in r and (r[a.name], r[b.name]) not in on_front
    ]
    dominated = Series(
        "other experiments", tuple(p[0] for p in others), tuple(p[1] for p in others), MARKERS, colour="lightgrey"
    )
    series = (dominated, front) if others else (front,)
    return Figure(
        "front",
        label(a.name, a.unit),
        label(b.name, b.unit),
        f"The trade-off, sorted by {a.name}: no experiment on the front beats another in both targets; grey ones "
        "are beaten by one on the front.",
        series,
    )


def _maps(findings: Findings) -> list[Figure]:
    out = []
    for view in findings.maps:
        measured = Series("measured", tuple(view.measured_x), tuple(view.measured_y), MARKERS, colour="black")
        where = f"{len(view.x)} {view.points}"
        for what, values, caption in (
            ("mean", view.mean, f"The map of {view.target}: the model's prediction at {where}, dots where measured."),
            (
                "std",
                view.std,
                f"How sure the map of {view.target} is: its std at {where}; bright is least sure.",
            ),
        ):
            title = label(f"{'predicted' if what == 'mean' else 'std of'} {view.target}", view.unit)
            out.append(
                Figure(
                    f"map-{what}-{_key(view.target)}",
                    label(view.xname, view.xunit),
                    label(view.yname, view.yunit),
                    caption,
                    (measured,),
                    Heat(tuple(view.x), tuple(view.y), tuple(values), title),
                )
            )
    return out


def _cross_validation(findings: Findings) -> list[Figure]:
    out = []
    for cv in findings.cross_validation:
        lo, hi = min(cv.measured), max(cv.measured)
        out.append(
            Figure(
                f"loo-{_key(cv.target)}",
                label(f"measured {cv.target}", cv.unit),
                label(f"predicted {cv.target}", cv.unit),
                "Points near the dotted line mean the model predicts left-out experiments well.",
                (
                    Series(
                        "left-out prediction ± 1 std",
                        tuple(cv.measured),
                        tuple(cv.predicted),
                        MARKERS,
                        error=tuple(cv.std),
                    ),
                    Series("prediction = measurement", (lo, hi), (lo, hi), DOTTED),
                ),
            )
        )
    return out


def report_figures(findings: Findings) -> list[Figure]:
    """The report's figures, in the module docstring's order."""
    out: list[Figure] = []
    for one in (_progress(findings), _hypervolume(findings)):
        if one is not None:
            out.append(one)
    out.extend(_effects(findings))
    for one in (_failures(findings), _front(findings)):
        if one is not None:
            out.append(one)
    out.extend(_maps(findings))
    out.extend(_cross_validation(findings))
    return [_coloured(spec) for spec in out]


def _coloured(spec: Figure) -> Figure:
    """``spec`` with each series without a colour given the next of ``PALETTE``."""
    free = iter(PALETTE * (1 + len(spec.series) // len(PALETTE)))
    return replace(spec, series=tuple(s if s.colour else replace(s, colour=next(free)) for s in spec.series))
