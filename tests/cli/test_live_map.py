"""The map panel of kiln run's live display: heat maps of half blocks with the measured pixels marked, refitted in
the background, drawn for campaigns on an overview image only."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from rich.console import Console

from kiln import Campaign, Objective
from kiln.cli.live import LiveDisplay
from kiln.cli.live_map import LiveMap, has_overview, heat_text, map_panel
from kiln.space.pool_image import pixel_pool

SIDE = 12


def scope(tmp_path: Path, measured: int = 6) -> Campaign:
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    image = np.exp(-((x - 3) ** 2 + (y - 8) ** 2) / 8.0)
    campaign = Campaign.create(
        "scope",
        space=pixel_pool(image, patch=3),
        objective=Objective.maximize("loop_area"),
        strategy="random",
        store=f"sqlite:///{tmp_path / 'lab.db'}",
    )
    for experiment in campaign.ask(measured):
        p = experiment.params
        campaign.tell(experiment.id, {"loop_area": 1.0 + float(image[int(p["y"]), int(p["x"])])})
    return campaign


def test_heat_text_draws_two_pixels_a_character_and_marks_cells() -> None:
    grid = [[float(i + j) for j in range(10)] for i in range(6)]
    text = heat_text(grid, marks={(0, 0): "white"}, width=10)
    lines = text.plain.splitlines()
    assert len(lines) == 3 and all(len(line) == 10 for line in lines)
    assert lines[0][0] == "●" and lines[0][1] == "▀"
    assert len(heat_text(grid, width=5).plain.splitlines()[0]) == 5  # thinned to the width


def test_the_panel_shows_the_overview_the_prediction_and_its_uncertainty(tmp_path: Path) -> None:
    campaign = scope(tmp_path)
    assert has_overview(campaign)
    live = LiveMap(campaign)
    live.refit(campaign.experiments())
    live.wait()
    live.close()
    assert live.latest is not None and live.latest.mean is not None
    out = io.StringIO()
    Console(file=out, width=140, force_terminal=True, color_system="truecolor").print(map_panel(live.latest))
    shown = out.getvalue()
    assert "overview, measured" in shown and "predicted loop_area" in shown and "uncertainty (std)" in shown
    assert shown.count("●") >= 6 * 2  # each measured pixel on the overview and on both maps (cells may merge)
    assert "\x1b[" in shown  # coloured


def test_the_live_display_of_a_run_draws_the_map_at_its_end(tmp_path: Path) -> None:
    campaign = scope(tmp_path)
    out = io.StringIO()
    console = Console(file=out, width=140, force_terminal=True, color_system="truecolor")
    with LiveDisplay(campaign, budget=10, console=console) as display:
        assert display.map is not None
    assert "predicted loop_area" in out.getvalue()


def test_without_a_terminal_or_an_image_there_is_no_map(tmp_path: Path) -> None:
    campaign = scope(tmp_path)
    plain = LiveDisplay(campaign, budget=10, console=Console(file=io.StringIO()))
    assert plain.map is None
