"""Campaigns with ``goal: map``: the goal round-trips through the stored config, the default strategy maps, and
``kiln show`` (text and JSON) and ``kiln export`` report the model's estimated error
and where it is least sure (kiln.campaign.map_error)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kiln import Campaign
from kiln.campaign.map_error import leave_one_out, map_error
from kiln.cli.app import app
from kiln.objective import Objective, Target
from kiln.space.pool import CandidatePool
from kiln.strategies.default import DefaultStrategy


def grid() -> CandidatePool:
    return CandidatePool(["a", "b"], [(i / 9, j / 9) for i in range(10) for j in range(10)])


def value(params: dict[str, float]) -> float:
    return float(np.sin(3 * params["a"]) + params["b"] ** 2)


def mapped(url: str, n: int = 10) -> Campaign:
    objective = Objective((Target("y"),), goal="map")
    campaign = Campaign.create("mapping", space=grid(), objective=objective, store=url)
    for _ in range(n):
        (experiment,) = campaign.ask(1)
        campaign.tell(experiment.id, {"y": value(dict(experiment.params))})
    return campaign


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'lab.db'}"


def test_goal_map_round_trips_through_the_store(url: str) -> None:
    mapped(url, n=7)
    again = Campaign.open("mapping", store=url)
    assert again.objective.is_map and again.config.to_json()["objective"]["goal"] == "map"
    assert isinstance(again.strategy, DefaultStrategy)
    # past the space-filling start, the default strategy's proposal is the map strategy's
    from kiln.strategies.active import MapStrategy
    from kiln.strategies.base import History

    history = History.from_experiments(again.experiments())
    assert [p.candidate for p in again.strategy.propose(again.domain, again.objective, history, 1, seed=3)] == [
        p.candidate
        for p in MapStrategy(acquisition="spacefill").propose(again.domain, again.objective, history, 1, seed=3)
    ]


def test_map_error_estimates(url: str) -> None:
    campaign = mapped(url, n=12)
    error = map_error(campaign.domain, campaign.objective, campaign.experiments())
    (target,) = error.targets
    assert target.target == "y" and target.measured == 12
    assert target.loo_rmse is not None and 0 < target.loo_rmse < 1.0 and target.loo_r2 is not None
    assert target.mean_std is not None and target.mean_std > 0
    assert target.least_sure is not None and target.least_sure_std is not None
    measured = {(e.params["a"], e.params["b"]) for e in campaign.experiments()}
    assert (target.least_sure["a"], target.least_sure["b"]) not in measured
    assert target.least_sure_std >= target.mean_std * 0.5
    empty = map_error(campaign.domain, campaign.objective, [])
    assert empty.targets[0].loo_rmse is None and empty.targets[0].measured == 0


def test_leave_one_out_is_refitting_without_each_point() -> None:
    """The closed form equals conditioning the GP (same hyperparameters) on all points but one, point by point."""
    import torch

    from kiln.models.gp import fit_gp

    rng = np.random.default_rng(2)
    X = rng.random((12, 2))
    y = np.sin(4 * X[:, 0]) + X[:, 1]
    gp = fit_gp(X, y, seed=0)
    rmse, r2 = leave_one_out(gp)
    errors = []
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        sub = type(gp.model)(
            torch.as_tensor(X[keep]),
            torch.as_tensor(gp.standardise(y[keep])).unsqueeze(-1),
            likelihood=gp.model.likelihood,
            covar_module=gp.model.covar_module,
            mean_module=gp.model.mean_module,
            outcome_transform=None,
        )
        sub.eval()
        with torch.no_grad():
            mean = float(sub.posterior(torch.as_tensor(X[i : i + 1])).mean) * gp.y_std + gp.y_mean
        errors.append(mean - y[i])
    assert rmse == pytest.approx(float(np.sqrt(np.mean(np.square(errors)))), rel=1e-6)
    assert r2 == pytest.approx(1 - np.sum(np.square(errors)) / np.sum((y - y.mean()) ** 2), rel=1e-6)


def test_show_and_export_report_the_map(url: str, tmp_path: Path) -> None:
    mapped(url, n=10)
    runner = CliRunner()
    shown = runner.invoke(app, ["show", "mapping", "--store", url])
    assert shown.exit_code == 0, shown.output
    assert "leave-one-out RMSE" in shown.stdout and "least sure at" in shown.stdout
    assert "map y (a good model everywhere)" in shown.stdout
    words = " ".join(shown.stdout.split())  # the strategy's line may wrap
    assert "mapping spacefill" in words and "ucb" not in words
    summary = json.loads(runner.invoke(app, ["show", "mapping", "--json", "--store", url]).stdout)
    assert summary["map"]["targets"][0]["measured"] == 10 and summary["map"]["targets"][0]["loo_r2"] is not None
    exported = runner.invoke(app, ["export", "mapping", "--store", url, "--output", str(tmp_path / "out.csv")])
    assert exported.exit_code == 0 and "map: y: 10 measured; leave-one-out RMSE" in exported.stderr
