"""Several targets against random sampling: the hypervolume of random campaigns of as many experiments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiln import Campaign, CandidatePool, Objective, SearchSpace
from kiln.objective import objective_from_config
from kiln.objective.targets import Target
from kiln.report.figures import report_figures
from kiln.report.findings import Findings, campaign_findings
from kiln.report.random_front import simulated_hypervolume_of_draws
from kiln.report.words import plain_summary, scientist_section
from kiln.space.parameters import Continuous

XS = [i / 39 for i in range(40)]
US = [0.0, 0.3, 0.6]


def _values(x: float, u: float) -> dict[str, float]:
    """Two targets that trade off along x; u lowers both (u = 0 is the front)."""
    return {"a": x - u, "b": 1.0 - x - u}


def _pool_campaign(tmp: Path, name: str, rows: list[tuple[float, float]]) -> Findings:
    pool = CandidatePool(["x", "u"], [[x, u] for u in US for x in XS])
    objective = Objective(targets=(Target("a", unit="V"), Target("b", unit="s")))
    campaign = Campaign.create(
        name, space=pool, objective=objective, strategy="random", store=f"sqlite:///{tmp / f'{name}.db'}"
    )
    campaign.add_data([{"x": x, "u": u, **_values(x, u)} for x, u in rows])
    return campaign_findings(campaign)


def test_a_campaign_on_the_front_beats_random_and_one_below_it_does_not(tmp_path: Path) -> None:
    below = [(XS[i], 0.6) for i in (0, 8, 16, 24, 32, 39)]
    on_front = [(XS[i], 0.0) for i in (0, 8, 16, 24, 32, 39)]
    win = _pool_campaign(tmp_path, "front", on_front + below[:3])
    flat = _pool_campaign(tmp_path, "below", [*below, (XS[20], 0.3)])
    for f, n in ((win, 9), (flat, 7)):
        r = f.random
        assert r is not None and r.measure == "hypervolume" and r.method == "simulated-pool" and r.pool_size == 120
        assert len(f.hypervolume) == n and r.draws == n and len(r.curve) == n and r.found == f.hypervolume[-1]
        assert all(b >= a for a, b in zip(f.hypervolume, f.hypervolume[1:], strict=False))  # never shrinks
    assert win.random is not None and win.random.chance < 0.05 and win.random.beats_random
    assert flat.random is not None and flat.random.chance > 0.3 and not flat.random.beats_random
    assert "Picking tests at random would most likely have done worse." in plain_summary(win)
    assert "We cannot yet say that this did better than picking tests at random." in plain_summary(flat)
    science = " ".join(scientist_section(win))
    assert "Hypervolume dominated by the 9 completed experiments" in science and "exact)" in science
    (front,) = [f for f in report_figures(win) if f.key == "front"]
    assert [s.name for s in front.series] == ["other experiments", "Pareto front"]
    assert len(front.series[0].x) == 3 and len(front.series[1].x) == 6  # the three rows below the front are grey
    (figure,) = [f for f in report_figures(win) if f.key == "hypervolume"]
    assert [s.name for s in figure.series] == ["hypervolume so far", "random sampling, expected ± 1 std"]


def test_a_space_with_several_targets_is_compared_by_simulation(tmp_path: Path) -> None:
    space = SearchSpace([Continuous("x", 0.0, 1.0, unit="mm")])
    objective = Objective(targets=(Target("a", unit="V"), Target("b", "min", unit="s")))
    campaign = Campaign.create("mo", space=space, objective=objective, store=f"sqlite:///{tmp_path / 'mo.db'}")
    campaign.add_data([{"x": x, "a": x, "b": x * x} for x in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)])
    f = campaign_findings(campaign, seed=4)
    assert f.random is not None and f.random.method == "simulated" and f.random.pool_size is None
    assert f.random.curve_std[-1] >= 0 and 0.0 <= f.random.chance <= 1.0
    again = campaign_findings(campaign, seed=4)
    assert again.random is not None and again.random.curve == f.random.curve  # the seed fixes the simulation


def test_outcome_constraints_leave_out_the_comparison(tmp_path: Path) -> None:
    space = SearchSpace([Continuous("x", 0.0, 1.0)])
    objective = objective_from_config({"targets": [{"name": "a"}, {"name": "b"}], "constraints": ["c >= 0.2"]})
    campaign = Campaign.create("oc", space=space, objective=objective, store=f"sqlite:///{tmp_path / 'oc.db'}")
    campaign.add_data([{"x": x, "a": x, "b": 1 - x, "c": x} for x in (0.1, 0.3, 0.5, 0.7, 0.9)])
    f = campaign_findings(campaign)
    assert f.random is None and len(f.hypervolume) == 5


def test_the_simulated_volume_of_a_fixed_front_is_its_own() -> None:
    front = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    # above (-0.1, -0.1): three boxes 0.11 + 0.11 + 0.36, less the overlaps 0.06 + 0.06 + 0.01, plus 0.01 (all three)
    volume = 0.46
    mean, std, chance = simulated_hypervolume_of_draws(
        lambda rng: front[rng.permutation(3)], np.array([-0.1, -0.1]), seed=0, found=volume, repeats=20
    )
    assert mean[-1] == pytest.approx(volume) and std[-1] == pytest.approx(0.0, abs=1e-12) and chance == 1.0
    assert 0.11 <= mean[0] <= 0.36 and std[0] > 0  # one point: one of the three boxes
