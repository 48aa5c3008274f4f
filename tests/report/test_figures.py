"""The figures as data (kiln.report.figures) and their colours in both renderers: a band has its line's colour,
axis labels carry a unit once, the failure map draws completed experiments under the failures."""

from __future__ import annotations

import pytest

from kiln.report.figures import CROSSES, MARKERS, PALETTE, label, report_figures
from kiln.report.findings import Findings


def test_a_label_carries_its_unit_once() -> None:
    assert label("Conductivity (measured) (S/cm)", "S/cm") == "Conductivity (measured) (S/cm)"
    assert label("Conductivity (measured)", "S/cm") == "Conductivity (measured) (S/cm)"
    assert label("yield", "") == "yield"


def test_every_series_has_a_colour_and_a_band_has_its_lines(report_findings: dict[str, Findings]) -> None:
    from kiln.report.html import plotly_figure
    from kiln.report.pdf import matplotlib_figure

    specs = report_figures(report_findings["win"])
    assert all(s.colour for spec in specs for s in spec.series)
    banded = [spec for spec in specs if any(s.lower is not None for s in spec.series)]
    assert banded, "the fixture has partial dependence bands"
    for spec in banded:
        fig = plotly_figure(spec)
        fills = [t for t in fig.data if t.fill == "tonexty"]
        lines = [t for t in fig.data if t.showlegend is not False]
        assert len(fills) == sum(s.lower is not None for s in spec.series)
        for fill, line in zip(fills, [t for t, s in zip(lines, spec.series, strict=True) if s.lower], strict=True):
            assert fill.fillcolor == line.line.color == line.marker.color
            assert fill.opacity == pytest.approx(0.25)
        drawn = matplotlib_figure(spec).axes[0]
        band_colour = next(s.colour for s in spec.series if s.lower)
        assert drawn.collections[0].get_facecolor()[0][:3] == pytest.approx(_rgb(band_colour))
    progress = next(spec for spec in specs if spec.key == "progress")
    assert [s.colour for s in progress.series] == list(PALETTE[: len(progress.series)])


def _rgb(colour: str | None) -> tuple[float, ...]:
    from matplotlib.colors import to_rgb

    assert colour is not None
    return to_rgb(colour)


def test_the_failure_map_draws_completed_experiments_under_the_failures(
    report_findings: dict[str, Findings],
) -> None:
    findings = report_findings["win"]
    spec = next(spec for spec in report_figures(findings) if spec.key == "failures")
    completed, failed = spec.series
    assert (completed.name, completed.style, completed.colour) == ("completed", MARKERS, "grey")
    assert (failed.name, failed.style) == ("failed", CROSSES)
    assert findings.best is not None and findings.best.params["x"] in completed.x
    x, y = (p.name for p in findings.question.parameters[:2])
    assert f"{x} across, {y} up" in spec.caption
