"""The map panel of ``kiln run``'s live display for a campaign on an overview image (a microscope campaign).

Three small heat maps side by side, drawn with half-block characters (two pixels a character): the overview with
the pixels measured so far (white dots) and running (orange), the model's predicted map of the target, and its
uncertainty. The model (``kiln.strategies.image_map``) is refitted in a background thread after new results, one
fit at a time, so the loop never waits for the display; the panel shows the latest finished fit.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from rich.color import Color
from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.style import Style
from rich.text import Text

from kiln.campaign import Campaign
from kiln.core.records import Experiment
from kiln.strategies.base import History
from kiln.strategies.image_map import ImageMap, image_map

WIDTH = 28
"""Characters across each heat map."""

PALETTE = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
"""Viridis at five stops, low to high."""

Grid = Sequence[Sequence[float | None]]


def has_overview(campaign: Campaign) -> bool:
    """Whether the campaign's pool is the pixels of an overview image (the panel applies)."""
    image = getattr(campaign.domain, "image", None)
    return image is not None and image.form == "overview"


def _colour(value: float | None, low: float, high: float) -> Color:
    if value is None or not math.isfinite(value):
        return Color.from_rgb(40, 40, 40)
    t = 0.0 if high <= low else min(1.0, max(0.0, (value - low) / (high - low)))
    position = t * (len(PALETTE) - 1)
    i = min(int(position), len(PALETTE) - 2)
    f = position - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(PALETTE[i], PALETTE[i + 1], strict=True))
    return Color.from_rgb(r, g, b)


def heat_text(grid: Grid, *, marks: dict[tuple[int, int], str] | None = None, width: int = WIDTH) -> Text:
    """``grid`` (rows x columns of numbers or None) as half-block characters at most ``width`` across; ``marks``
    maps a grid cell (row, column) to a colour name drawn as a dot over it."""
    rows, columns = len(grid), len(grid[0]) if grid else 0
    step = max(1, math.ceil(columns / width))
    finite = [v for row in grid for v in row if v is not None and math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
    marked: dict[tuple[int, int], str] = {}
    for (i, j), colour in (marks or {}).items():
        marked.setdefault((i // (2 * step), j // step), colour)
    text = Text()
    for top in range(0, rows, 2 * step):
        for left in range(0, columns, step):
            upper = grid[top][left]
            lower = grid[top + step][left] if top + step < rows else None
            cell = (top // (2 * step), left // step)
            if cell in marked:
                text.append("●", Style(color=marked[cell], bgcolor=_colour(upper, low, high), bold=True))
            else:
                text.append("▀", Style(color=_colour(upper, low, high), bgcolor=_colour(lower, low, high)))
        text.append("\n")
    return text


def _pixel_marks(found: ImageMap, xs: Sequence[int], ys: Sequence[int]) -> dict[tuple[int, int], str]:
    """Grid cells of the measured (white) and running (orange) pixels on a grid with these columns and rows."""
    column = {x: j for j, x in enumerate(xs)}
    row = {y: i for i, y in enumerate(ys)}

    def cell(x: int, y: int) -> tuple[int, int] | None:
        if x in column and y in row:
            return row[y], column[x]
        return None

    marks: dict[tuple[int, int], str] = {}
    points: list[tuple[float, float, str]] = [(p["x"], p["y"], "white") for p in found.measured]
    points += [(p["x"], p["y"], "orange1") for p in found.pending]
    for x, y, colour in points:
        at = cell(int(x), int(y))
        if at is not None:
            marks[at] = colour
    return marks


def map_panel(found: ImageMap, unit: str = "") -> RenderableType:
    """The three heat maps with their titles and the model's note."""
    step = found.step
    image_xs = list(range(0, found.width, step))[: len(found.image[0])]
    image_ys = list(range(0, found.height, step))[: len(found.image)]
    snapped = ImageMap(
        **{
            **found.__dict__,
            "measured": [{**p, "x": p["x"] // step * step, "y": p["y"] // step * step} for p in found.measured],
            "pending": [{"x": p["x"] // step * step, "y": p["y"] // step * step} for p in found.pending],
        }
    )
    overview = heat_text(found.image, marks=_pixel_marks(snapped, image_xs, image_ys))
    label = f"{found.target} ({unit})" if unit else found.target
    parts: list[RenderableType] = [Group(Text("overview, measured ● running ●", style="bold"), overview)]
    if found.mean is not None and found.std is not None:
        marks = _pixel_marks(found, found.xs, found.ys)
        parts.append(Group(Text(f"predicted {label}", style="bold"), heat_text(found.mean, marks=marks)))
        parts.append(Group(Text("uncertainty (std)", style="bold"), heat_text(found.std, marks=marks)))
    note = (
        f"{found.model}: best predicted {found.best_predicted['mean']:.4g} at "
        f"({found.best_predicted['x']}, {found.best_predicted['y']}), least sure at "
        f"({found.least_sure['x']}, {found.least_sure['y']})"
        if found.best_predicted and found.least_sure
        else "the predicted map appears once a spectrum is measured"
    )
    return Group(Columns(parts, padding=(0, 3)), Text(note, style="dim"))


class LiveMap:
    """The latest map of a campaign, refitted in the background (see the module docstring). Thread-safe."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.unit = campaign.objective.units.get(campaign.objective.targets[0].name, "")
        self.latest: ImageMap | None = None
        self.error = ""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiln-live-map")
        self._running: Future[None] | None = None
        self._wanted: list[Experiment] | None = None
        self._lock = threading.Lock()

    def refit(self, experiments: list[Experiment]) -> None:
        """Fit on ``experiments`` when no fit runs, else right after the running one (the latest asked wins)."""
        with self._lock:
            self._wanted = experiments
            if self._running is None or self._running.done():
                self._running = self._pool.submit(self._work)

    def _work(self) -> None:
        while True:
            with self._lock:
                experiments, self._wanted = self._wanted, None
            if experiments is None:
                return
            try:
                found = image_map(
                    self.campaign.strategy,
                    self.campaign.domain,
                    self.campaign.objective,
                    History.from_experiments(experiments),
                    seed=self.campaign.config.seed,
                )
            except Exception as error:  # the display must never stop the run
                self.error = f"{type(error).__name__}: {error}"
                continue
            self.latest = found

    def wait(self) -> None:
        """Wait for the fits asked so far (the final display)."""
        while True:
            with self._lock:
                running = self._running
            if running is None:
                return
            running.result()
            with self._lock:
                if self._running is running and self._wanted is None:
                    return

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def render(self) -> RenderableType | None:
        if self.latest is None:
            return Text(f"map: {self.error}", style="dim") if self.error else None
        return map_panel(self.latest, self.unit)
