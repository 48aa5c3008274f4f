"""The plot of a pool benchmark (Top%, or HV% with several targets): one self-contained HTML file (plotly, its
JavaScript included)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError

if TYPE_CHECKING:
    import plotly.graph_objects as go

_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)


def _rgba(color: str, alpha: float) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _add_strategy(
    fig: go.Figure,
    name: str,
    index: int,
    curves: dict[str, list[float]],
    band: tuple[str, str, str],
    label: str,
    value: str,
    x: list[int] | None = None,
) -> None:
    """One strategy's traces: the band between the curves named ``band[0]`` (upper) and ``band[1]`` (lower),
    shaded and labelled ``band[2]``, and the median curve as a line named ``label``; ``value`` formats the hover's
    median (plotly's template syntax). Curves are per experiment i = 1, 2, ... unless ``x`` gives the experiment
    count of each point."""
    import plotly.graph_objects as go

    color = _PALETTE[index % len(_PALETTE)]
    upper, lower, band_name = band
    cycles = list(x) if x is not None else list(range(1, len(curves["median"]) + 1))
    fig.add_trace(
        go.Scatter(
            x=cycles + cycles[::-1],
            y=list(curves[upper]) + list(curves[lower])[::-1],
            fill="toself",
            fillcolor=_rgba(color, 0.18),
            line={"width": 0},
            hoverinfo="skip",
            name=f"{name} {band_name}",
            legendgroup=name,
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=cycles,
            y=curves["median"],
            mode="lines",
            line={"color": color, "width": 2},
            name=label,
            legendgroup=name,
            hovertemplate=f"{name}<br>experiments %{{x}}<br>{value}<extra></extra>",
        )
    )


def figure(results: dict[str, Any]) -> go.Figure:
    """Top%(i) against experiments i, from a results dict (``kiln.bench.runner.results_json``).

    Per strategy: the median over runs as a line and the 5-95 % band as a shaded area; random sampling's expected
    i / N as a dashed black line.
    """
    import plotly.graph_objects as go

    dataset, settings = results["dataset"], results["settings"]
    fig = go.Figure()
    for index, (name, block) in enumerate(results["strategies"].items()):
        curves = block["top_percent"]
        reached = block["cycles_to_top"].get("0.8")
        cycles = len(curves["median"])
        label = f"{name} (Top% 0.8 in {reached:g} cycles)" if reached is not None else f"{name} (Top% 0.8: >{cycles})"
        _add_strategy(fig, name, index, curves, ("p95", "p5", "5-95 %"), label, "median Top% %{y:.2f}")
    baseline = results["random_baseline"]["top_percent"]
    fig.add_trace(
        go.Scatter(
            x=list(range(1, len(baseline) + 1)),
            y=baseline,
            mode="lines",
            line={"color": "black", "dash": "dash", "width": 1.5},
            name="random baseline i / N",
        )
    )
    fig.update_layout(
        title=(
            f"Pool backtest on {dataset['name']}: N = {dataset['N']}, top set = {dataset['top_size']} "
            f"({dataset['direction']} {dataset['target']}), {settings['runs']} runs, median and 5-95 % band"
        ),
        xaxis_title=f"experiments i ({settings['initial']} random initial ones included)",
        yaxis_title="Top%(i): share of the top set found",
        yaxis={"range": [0, 1.02]},
        legend={"title": {"text": "strategy"}},
        template="plotly_white",
    )
    return fig


def hv_figure(results: dict[str, Any]) -> go.Figure:
    """HV%(i) against experiments i, from a results dict (``kiln.bench.runner.hv_results_json``).

    Per strategy: the median over runs as a line (its legend gives the median cycles to HV% 0.95) and the band
    between the 25th and 75th percentiles shaded; dotted lines at the reported levels.
    """
    import plotly.graph_objects as go

    dataset, settings = results["dataset"], results["settings"]
    fig = go.Figure()
    for index, (name, block) in enumerate(results["strategies"].items()):
        curves = block["hv_percent"]
        reached = block["cycles_to_hv"].get("0.95")
        cycles = len(curves["median"])
        label = f"{name} (HV% 0.95 in {reached:g})" if reached is not None else f"{name} (HV% 0.95: >{cycles})"
        _add_strategy(fig, name, index, curves, ("p75", "p25", "quartiles"), label, "median HV% %{y:.3f}")
    for level in settings["hv_levels"]:
        fig.add_hline(y=level, line={"color": "grey", "dash": "dot", "width": 1})
    targets = ", ".join(f"{d} {t}" for t, d in zip(dataset["targets"], dataset["directions"], strict=True))
    constraints = f"; {', '.join(dataset['constraints'])}" if dataset["constraints"] else ""
    fig.update_layout(
        title=(
            f"Pool backtest on {dataset['name']}: N = {dataset['N']} ({targets}{constraints}), "
            f"{settings['runs']} runs, median and quartiles"
        ),
        xaxis_title=f"experiments i ({settings['initial']} random initial ones included)",
        yaxis_title="HV%(i): share of the pool's hypervolume found",
        yaxis={"range": [0, 1.02]},
        legend={"title": {"text": "strategy"}},
        template="plotly_white",
    )
    return fig


def map_figure(results: dict[str, Any]) -> go.Figure:
    """R^2 over the pool against experiments, from a map results dict (``kiln.bench.mapping.map_results_json``).

    Per strategy: the median over runs as a line (its legend gives the median experiments to R^2 0.8) and the
    quartiles shaded; dotted lines at R^2 0.8 and 0.9.
    """
    import plotly.graph_objects as go

    dataset, settings = results["dataset"], results["settings"]
    experiments = list(results["experiments"])
    fig = go.Figure()
    for index, (name, block) in enumerate(results["strategies"].items()):
        reached = block["cycles_to_r2"].get("0.8")
        budget = experiments[-1] if experiments else 0
        label = f"{name} (R^2 0.8 in {reached:g})" if reached is not None else f"{name} (R^2 0.8: >{budget})"
        _add_strategy(
            fig, name, index, block["r2"], ("q75", "q25", "quartiles"), label, "median R^2 %{y:.3f}", experiments
        )
    for level in (0.8, 0.9):
        fig.add_hline(y=level, line={"color": "grey", "dash": "dot", "width": 1})
    fig.update_layout(
        title=(
            f"Map backtest on {dataset['name']}: N = {dataset['N']} ({dataset['target']}), "
            f"{settings['runs']} runs, median and quartiles"
        ),
        xaxis_title=f"experiments ({settings['initial']} random initial ones included)",
        yaxis_title="R^2 over the pool of a GP on the measured rows",
        legend={"title": {"text": "strategy"}},
        template="plotly_white",
    )
    return fig


def write_plot(results: dict[str, Any], path: Path) -> None:
    """Write the results' figure (``map_figure`` for map results, ``hv_figure`` for HV% results, else ``figure``)
    to ``path`` as one HTML file that opens offline."""
    draw = hv_figure if results.get("metric") == "hypervolume" else figure
    if results.get("goal") == "map":
        draw = map_figure
    try:
        draw(results).write_html(str(path), include_plotlyjs=True, full_html=True)
    except OSError as error:
        raise ValidationError("--plot", str(path), f"the file cannot be written ({error.strerror})", None) from None
