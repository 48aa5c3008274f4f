"""The facts of a report: what each fixture campaign shows, and the exact random baseline of a pool."""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from kiln import Campaign, CandidatePool, Objective, ValidationError
from kiln.report.baseline import chance_as_good, expected_best_of_draws
from kiln.report.findings import Findings, campaign_findings
from kiln.report.surrogate import fit_target


def test_the_clear_win_is_better_than_random_and_levels_off(report_findings: dict[str, Findings]) -> None:
    f = report_findings["win"]
    assert f.best is not None and f.progress is not None and f.random is not None
    (m,) = f.best.measured
    assert m.value == pytest.approx(10.0, abs=1e-3)
    assert m.replicates == 2 and m.spread == pytest.approx(0.0, abs=1e-9)  # (0.7, 50) was measured twice
    assert m.predicted is not None and m.predicted_std is not None
    assert abs(m.predicted - m.value) < 3 * m.predicted_std + 0.5
    assert f.random.method == "simulated" and f.random.draws == f.counted == 14
    assert f.random.beats_random and f.random.expected < f.random.found
    assert not f.progress.rising and not f.progress.best_is_initial
    assert f.progress.best == sorted(f.progress.best)  # a best so far never falls
    assert f.failures.count == 1 and f.failures.reasons[0][1] == 1


def test_nothing_better_than_the_initial_points_is_said(report_findings: dict[str, Findings]) -> None:
    f = report_findings["flat"]
    assert f.progress is not None and f.best is not None
    assert f.progress.best_is_initial and f.progress.initial == 5
    assert f.best.seq <= 5
    assert f.random is not None and not f.random.beats_random
    assert f.failures.count == 0


def test_a_best_still_rising_is_a_gap_with_a_count(report_findings: dict[str, Findings]) -> None:
    f = report_findings["rising"]
    assert f.progress is not None and f.progress.rising and f.progress.improvement > 0
    gaps = [g for g in f.gaps if g.what == "rising"]
    assert len(gaps) == 1 and gaps[0].more_experiments == f.progress.window == 4
    assert not report_findings["win"].progress.rising  # type: ignore[union-attr]


def test_cross_validation_and_effects_carry_their_counts(report_findings: dict[str, Findings]) -> None:
    for f in report_findings.values():
        (cv,) = f.cross_validation
        assert cv.n == f.counted and len(cv.predicted) == cv.n
        assert 0.0 <= cv.inside1 <= cv.inside2 <= 1.0
        assert {e.parameter for e in f.effects} == {"x", "t"}
        for effect in f.effects:
            assert effect.experiments == cv.n
            assert (effect.more_experiments is None) == effect.established
            assert len(effect.values) == len(effect.mean) == len(effect.band)
        for gap in f.gaps:
            assert gap.more_experiments > 0 and gap.rule
    # the ridge in x is the clear effect of the winning campaign
    win = {e.parameter: e for e in report_findings["win"].effects}
    assert win["x"].established and win["x"].size > win["t"].size


def test_question_counts_the_record(report_findings: dict[str, Findings]) -> None:
    q = report_findings["win"].question
    assert q.kind == "space" and q.pool_size is None
    assert [p.name for p in q.parameters] == ["x", "t"] and q.parameters[1].unit == "degC"
    assert q.targets[0].wanted == "as high as possible" and q.targets[0].unit == "mg"
    assert (q.budget.planned, q.budget.completed, q.budget.failed, q.budget.total) == (20, 14, 1, 15)


def test_expected_best_without_replacement_matches_enumeration() -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    means, stds = expected_best_of_draws(values, 4)
    for k in range(1, 5):
        bests = [max(c) for c in itertools.combinations(values, k)]
        assert means[k - 1] == pytest.approx(np.mean(bests))
        assert stds[k - 1] == pytest.approx(np.std(bests))
    assert chance_as_good(values, 2, 4.0) == pytest.approx(1 - math.comb(4, 2) / math.comb(6, 2))
    with_repeats, _ = expected_best_of_draws(values, 7, repeats=True)
    assert len(with_repeats) == 7 and with_repeats[-1] <= 9.0


def test_a_pool_with_known_values_is_compared_exactly(tmp_path: Path) -> None:
    xs = [i / 29 for i in range(30)]
    truth = [1.0 + 8.0 * math.exp(-(((x - 0.8) / 0.1) ** 2)) for x in xs]
    pool = CandidatePool(["x"], [[x] for x in xs])
    campaign = Campaign.create(
        "p", space=pool, objective=Objective.maximize("y"), strategy="random", store=f"sqlite:///{tmp_path / 'p.db'}"
    )
    chosen = [0, 5, 10, 20, 22, 23, 24]
    campaign.add_data([{"x": xs[i], "y": truth[i]} for i in chosen])
    f = campaign_findings(campaign, pool_values=truth)
    assert f.random is not None and f.random.method == "exact" and f.random.pool_size == 30
    means, _ = expected_best_of_draws(truth, len(chosen))
    assert f.random.expected == pytest.approx(means[-1])
    assert f.random.pool_share_better == pytest.approx(sum(t > max(truth[i] for i in chosen) for t in truth) / 30)
    estimate = campaign_findings(campaign)
    assert estimate.random is not None and estimate.random.method == "exact-estimate"
    with pytest.raises(ValidationError, match="pool_values"):
        campaign_findings(campaign, pool_values=truth[:3])


def test_leave_one_out_matches_refits_with_the_same_hyperparameters(report_campaigns: dict[str, Campaign]) -> None:
    campaign = report_campaigns["rising"]
    model = fit_target(campaign.domain, campaign.objective.target, campaign.experiments())
    assert model is not None
    mean, std = model.leave_one_out()
    assert mean.shape == std.shape == (len(model.values),)
    gp = model.fitted.model
    X, z = gp.train_inputs[0], gp.train_targets
    noise = float(gp.likelihood.noise.detach().reshape(-1)[0])
    for i in (0, 7, len(z) - 1):
        keep = torch.tensor([j for j in range(len(z)) if j != i])
        refit = copy.deepcopy(gp)
        refit.set_train_data(inputs=X[keep], targets=z[keep], strict=False)
        refit.eval()
        with torch.no_grad():
            posterior = refit.posterior(X[i : i + 1])
        expected_mean = float(posterior.mean.reshape(())) * model.fitted.y_std + model.fitted.y_mean
        expected_std = math.sqrt(float(posterior.variance.reshape(())) + noise) * model.fitted.y_std
        assert mean[i] == pytest.approx(expected_mean, rel=1e-4, abs=1e-6)
        assert std[i] == pytest.approx(expected_std, rel=1e-4)


def test_lengthscales_are_named_by_parameter(report_findings: dict[str, Findings]) -> None:
    scales = report_findings["win"].settings.models["yield"]["lengthscales"]
    assert set(scales) == {"x", "t"} and all(v > 0 for v in scales.values())
    assert scales["x"] < scales["t"]  # the narrow ridge in x is where the data change fastest
