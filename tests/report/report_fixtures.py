"""Three small campaigns for report tests, built in a temporary SQLite store from a synthetic function.

f(x, t) = 1 + 5 exp(-((x - 0.7) / 0.06)^2) + 4 exp(-((t - 50) / 6)^2) on x in [0, 1] (fraction), t in [0, 100]
degC: two narrow ridges that random points rarely come near; the best is 10 at (0.7, 50).
Every experiment is recorded as data (no model is fitted to build them), in creation order, under the default
strategy with 5 initial points.

* ``clear_win``: 5 spread initial points, then 9 closing in on the best, the last 5 equal to within 0.01; one
  replicate of the best; one failed experiment (its reason holds HTML).
* ``nothing_better``: the best of its 14 experiments is one of its 5 initial points.
* ``still_improving``: each of its last experiments beats the one before.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kiln import Campaign, Objective, SearchSpace
from kiln.objective.targets import Target
from kiln.space.parameters import Continuous

FAILURE = "film <b>cracked</b> & peeled"


def f(x: float, t: float) -> float:
    return 1.0 + 5.0 * math.exp(-(((x - 0.7) / 0.06) ** 2)) + 4.0 * math.exp(-(((t - 50.0) / 6.0) ** 2))


def _space() -> SearchSpace:
    return SearchSpace([Continuous("x", 0.0, 1.0, unit="fraction"), Continuous("t", 0.0, 100.0, unit="degC")])


def _campaign(name: str, store: str, points: list[tuple[float, float]], *, fail_first: bool = False) -> Campaign:
    objective = Objective(targets=(Target("yield", unit="mg"),))
    campaign = Campaign.create(
        name,
        space=_space(),
        objective=objective,
        strategy={"kind": "default", "initial": 5},
        store=store,
        seed=1,
        extra={"budget": 20, "description": f"synthetic <{name}>"},
    )
    if fail_first:
        (first,) = campaign.ask(1)
        campaign.fail(first.id, FAILURE)
    rows: list[dict[str, Any]] = [{"x": x, "t": t, "yield": round(f(x, t), 4)} for x, t in points]
    campaign.add_data(rows)
    return campaign


INITIAL = [(0.1, 10.0), (0.3, 90.0), (0.5, 30.0), (0.9, 70.0), (0.2, 60.0)]


def clear_win(tmp: Path) -> Campaign:
    later = [
        (0.6, 45.0),
        (0.65, 55.0),
        (0.75, 48.0),
        (0.68, 52.0),
        (0.7, 50.0),
        (0.7, 50.0),
        (0.71, 49.0),
        (0.69, 51.0),
        (0.705, 50.5),
    ]
    return _campaign("win", f"sqlite:///{tmp / 'win.db'}", INITIAL + later, fail_first=True)


def nothing_better(tmp: Path) -> Campaign:
    initial = [(0.1, 10.0), (0.68, 48.0), (0.5, 30.0), (0.9, 70.0), (0.2, 60.0)]
    later = [
        (0.05, 95.0),
        (0.95, 5.0),
        (0.3, 80.0),
        (1.0, 100.0),
        (0.0, 0.0),
        (0.4, 15.0),
        (0.85, 90.0),
        (0.15, 40.0),
        (0.98, 20.0),
    ]
    return _campaign("flat", f"sqlite:///{tmp / 'flat.db'}", initial + later)


def still_improving(tmp: Path) -> Campaign:
    later = [
        (0.35, 40.0),
        (0.4, 42.0),
        (0.45, 44.0),
        (0.5, 46.0),
        (0.55, 47.0),
        (0.6, 48.0),
        (0.63, 49.0),
        (0.66, 49.5),
        (0.69, 50.0),
    ]
    return _campaign("rising", f"sqlite:///{tmp / 'rising.db'}", INITIAL + later)
