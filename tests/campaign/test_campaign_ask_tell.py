"""Campaign life cycle: create, open, open_or_create, ask, tell, fail, and bad input that must change nothing."""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from kiln import (
    Campaign,
    CampaignConfig,
    CandidatePool,
    ConflictError,
    ExperimentStatus,
    NotFoundError,
    Objective,
    SearchSpace,
    StateError,
    ValidationError,
    strategy_from_config,
)
from kiln.campaign.config import config_differences
from kiln.core.records import Origin

TARGET = "y"
ID_PATTERN = re.compile(r"^exp-[0-9a-f]{10}$")


def _create(space: Any, store_url: str, *, name: str = "c", strategy: str = "random", seed: int = 0) -> Campaign:
    return Campaign.create(
        name, space=space, objective=Objective.maximize(TARGET), strategy=strategy, store=store_url, seed=seed
    )


def _snapshot(campaign: Campaign) -> list[Any]:
    """Everything observable about the stored experiments, from a fresh Campaign on the same store."""
    return Campaign.open(campaign.name, store=campaign.store).experiments()


# ------------------------------------------------------------------------------------------------ construction
def test_create_then_open_gives_the_same_configuration(space: SearchSpace, store_url: str) -> None:
    created = _create(space, store_url, seed=7)
    opened = Campaign.open("c", store=store_url)
    assert opened.name == "c"
    assert opened.config.to_json() == created.config.to_json()
    assert opened.config.seed == 7
    assert opened.domain.names == ["temperature", "cycles", "solvent", "A", "B", "C"]
    assert opened.strategy.kind == "random"
    assert opened.experiments() == []


def test_create_twice_is_a_conflict(space: SearchSpace, store_url: str) -> None:
    _create(space, store_url)
    with pytest.raises(ConflictError):
        _create(space, store_url, strategy="sobol")
    assert Campaign.open("c", store=store_url).strategy.kind == "random"


def test_open_unknown_campaign_lists_the_known_ones(space: SearchSpace, store_url: str) -> None:
    _create(space, store_url, name="alpha")
    _create(space, store_url, name="beta")
    with pytest.raises(NotFoundError) as error:
        Campaign.open("gamma", store=store_url)
    assert "gamma" in str(error.value)
    assert "alpha" in str(error.value) and "beta" in str(error.value)


@pytest.mark.parametrize("seed", [-1, 1.5, True])
def test_create_rejects_a_bad_seed(space: SearchSpace, store_url: str, seed: Any) -> None:
    with pytest.raises(ValidationError, match=r"^seed"):
        _create(space, store_url, seed=seed)


def test_open_or_create_creates_then_reopens(space: SearchSpace, store_url: str) -> None:
    config = CampaignConfig(space, Objective.maximize(TARGET), strategy_from_config("random"), seed=3)
    first, created = Campaign.open_or_create("c", config, store=store_url)
    assert created
    first.ask(2)
    again, created_again = Campaign.open_or_create("c", config, store=store_url)
    assert not created_again
    assert [e.id for e in again.experiments()] == [e.id for e in first.experiments()]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"seed": 4}, "seed: stored 3, spec 4"),
        ({"strategy": strategy_from_config("sobol")}, "strategy.kind: stored random, spec sobol"),
        ({"objective": Objective.minimize(TARGET)}, ".direction: stored max, spec min"),
        ({"objective": Objective.maximize("other")}, f".name: stored {TARGET}, spec other"),
    ],
)
def test_open_or_create_refuses_a_different_configuration(
    space: SearchSpace, store_url: str, change: dict[str, Any], named: str
) -> None:
    base = {
        "domain": space,
        "objective": Objective.maximize(TARGET),
        "strategy": strategy_from_config("random"),
        "seed": 3,
    }
    Campaign.open_or_create("c", CampaignConfig(**base), store=store_url)
    with pytest.raises(ConflictError, match="different configuration") as raised:
        Campaign.open_or_create("c", CampaignConfig(**{**base, **change}), store=store_url)
    assert named in str(raised.value)
    assert Campaign.open("c", store=store_url).config.to_json() == CampaignConfig(**base).to_json()


def test_a_mismatch_names_the_option_that_differs(space: SearchSpace, store_url: str) -> None:
    objective = Objective.maximize(TARGET)
    ucb = strategy_from_config({"kind": "bayes", "acquisition": "ucb"})
    logei = strategy_from_config({"kind": "bayes", "acquisition": "logei"})
    Campaign.open_or_create("c", CampaignConfig(space, objective, ucb), store=store_url)
    with pytest.raises(ConflictError) as raised:
        Campaign.open_or_create("c", CampaignConfig(space, objective, logei), store=store_url)
    assert "strategy.acquisition.kind: stored ucb, spec logei" in str(raised.value)


def test_config_differences_walks_maps_and_lists() -> None:
    stored = {"space": {"rows": [[1, "a"], [2, "b"]]}, "seed": 0, "extra": {"budget": 5}}
    assert config_differences(stored, stored) == []
    given = {"space": {"rows": [[1, "a"], [2, "c"]]}, "seed": 0, "extra": {}}
    assert config_differences(stored, given) == [
        "space.rows[1][1]: stored b, spec c",
        "extra.budget: stored 5, spec (not set)",
    ]
    assert config_differences({"rows": [1, 2, 3]}, {"rows": [1]}) == ["rows: stored 3 entries, spec 1"]
    many = {f"k{i}": i for i in range(10)}
    assert len(config_differences(many, {}, limit=3)) == 3


def test_open_or_create_refuses_a_different_space(space: SearchSpace, pool: CandidatePool, store_url: str) -> None:
    objective = Objective.maximize(TARGET)
    Campaign.open_or_create("c", CampaignConfig(space, objective, strategy_from_config("random")), store=store_url)
    with pytest.raises(ConflictError):
        Campaign.open_or_create("c", CampaignConfig(pool, objective, strategy_from_config("random")), store=store_url)


# ------------------------------------------------------------------------------------------------------- ask
def test_ask_stores_pending_experiments_with_unique_ids_and_increasing_seq(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    first = campaign.ask(3)
    second = campaign.ask(2)
    asked = [*first, *second]
    assert len(first) == 3 and len(second) == 2
    assert [e.seq for e in asked] == [1, 2, 3, 4, 5]
    assert len({e.id for e in asked}) == 5
    assert all(ID_PATTERN.match(e.id) for e in asked)
    assert all(e.status is ExperimentStatus.PENDING and e.origin is Origin.SUGGESTED for e in asked)
    assert all(e.strategy == "random" and e.results == {} for e in asked)
    assert [e.batch for e in asked] == [1, 1, 1, 2, 2]
    for e in asked:  # every suggestion is a valid point of the space
        assert space.validate(e.params) == dict(e.params)
        assert math.isclose(e.params["A"] + e.params["B"] + e.params["C"], 100.0, rel_tol=1e-6)
    assert _snapshot(campaign) == asked
    assert campaign.pending() == asked


def test_ids_are_stable_across_reopening(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    asked = campaign.ask(2)
    campaign.tell(asked[0].id, 1.5)
    reopened = Campaign.open("c", store=store_url)
    assert [e.id for e in reopened.experiments()] == [e.id for e in asked]
    assert [dict(e.params) for e in reopened.experiments()] == [dict(e.params) for e in asked]
    assert reopened.experiments() == campaign.experiments()


def test_ask_is_reproducible_for_a_seed(space: SearchSpace, tmp_path: Any) -> None:
    one = _create(space, f"sqlite:///{tmp_path}/one.db", strategy="sobol", seed=5).ask(3)
    two = _create(space, f"sqlite:///{tmp_path}/two.db", strategy="sobol", seed=5).ask(3)
    assert [dict(e.params) for e in one] == [dict(e.params) for e in two]
    assert [e.id for e in one] != [e.id for e in two]  # ids are random, parameters are not


def test_campaign_seed_changes_the_first_pool_suggestion(pool: CandidatePool, tmp_path: Any) -> None:
    firsts = {
        _create(pool, f"sqlite:///{tmp_path}/{seed}.db", strategy="sobol", seed=seed).ask(1)[0].candidate
        for seed in range(10)
    }
    assert len(firsts) >= 3  # a random start over 6 rows; today only rows 0 and 1 ever come first


@pytest.mark.parametrize("n", [0, -1, 1001, 1.5, True, "2"])
def test_ask_rejects_a_bad_count_and_stores_nothing(space: SearchSpace, store_url: str, n: Any) -> None:
    campaign = _create(space, store_url)
    with pytest.raises(ValidationError) as error:
        campaign.ask(n)
    assert error.value.field == "n"
    assert campaign.experiments() == []


# ------------------------------------------------------------------------------------------------ tell / fail
def test_tell_with_a_number_completes_the_experiment(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    a, b = campaign.ask(2)
    told = campaign.tell(a.id, 2.5)
    assert told.status is ExperimentStatus.COMPLETED
    assert told.results == {TARGET: 2.5}
    assert told.finished_at is not None and told.finished_at >= told.created_at
    stored = {e.id: e for e in _snapshot(campaign)}
    assert stored[a.id] == told
    assert stored[a.id].params == a.params and stored[a.id].seq == a.seq
    assert stored[b.id].status is ExperimentStatus.PENDING
    assert campaign.best() == told


def test_tell_with_a_map_of_targets(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    assert campaign.tell(a.id, {TARGET: 7}).results == {TARGET: 7.0}


def test_fail_records_the_reason(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    failed = campaign.fail(a.id, "  nozzle clogged ")
    assert failed.status is ExperimentStatus.FAILED
    assert failed.reason == "nozzle clogged"
    assert failed.results == {}
    assert _snapshot(campaign) == [failed]
    assert campaign.best() is None
    assert campaign.pending() == []


def test_best_respects_a_minimised_objective(space: SearchSpace, store_url: str) -> None:
    campaign = Campaign.create(
        "m", space=space, objective=Objective.minimize(TARGET), strategy="random", store=store_url
    )
    a, b, c = campaign.ask(3)
    campaign.tell(a.id, 3.0)
    campaign.tell(b.id, -1.0)
    campaign.tell(c.id, 2.0)
    best = campaign.best()
    assert best is not None and best.id == b.id


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (float("nan"), "result 'y'"),
        (float("inf"), "result 'y'"),
        (-math.inf, "result 'y'"),
        ("abc", "result 'y'"),
        (None, "result 'y'"),
        ({TARGET: float("nan")}, "result 'y'"),
        ({"other": 1.0}, "results"),
        ({TARGET: 1.0, "other": 2.0}, "results"),
        ({}, "results"),
    ],
)
def test_tell_rejects_bad_results_and_changes_nothing(
    space: SearchSpace, store_url: str, value: Any, field: str
) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    before = _snapshot(campaign)
    with pytest.raises(ValidationError) as error:
        campaign.tell(a.id, value)
    assert error.value.field == field
    assert str(error.value).startswith(field)
    assert _snapshot(campaign) == before


def test_tell_unknown_id_is_not_found_and_changes_nothing(space: SearchSpace, store_url: str) -> None:
    campaign = _create(space, store_url)
    campaign.ask(1)
    before = _snapshot(campaign)
    with pytest.raises(NotFoundError, match="exp-0000000000"):
        campaign.tell("exp-0000000000", 1.0)
    with pytest.raises(NotFoundError, match="exp-0000000000"):
        campaign.fail("exp-0000000000", "broken")
    assert _snapshot(campaign) == before


def test_an_id_of_another_campaign_is_not_found(space: SearchSpace, store_url: str) -> None:
    one = _create(space, store_url, name="one")
    two = _create(space, store_url, name="two")
    (a,) = one.ask(1)
    with pytest.raises(NotFoundError):
        two.tell(a.id, 1.0)
    assert one.pending() == [a]


@pytest.mark.parametrize("first", ["tell", "fail"])
@pytest.mark.parametrize("second", ["tell", "fail"])
def test_a_finished_experiment_cannot_be_finished_again(
    space: SearchSpace, store_url: str, first: str, second: str
) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    finish = {"tell": lambda: campaign.tell(a.id, 1.0), "fail": lambda: campaign.fail(a.id, "broken")}
    finish[first]()
    before = _snapshot(campaign)
    with pytest.raises(StateError):
        finish[second]()
    assert _snapshot(campaign) == before


@pytest.mark.parametrize("reason", ["", "   ", None, 3])
def test_fail_needs_a_reason_and_changes_nothing(space: SearchSpace, store_url: str, reason: Any) -> None:
    campaign = _create(space, store_url)
    (a,) = campaign.ask(1)
    with pytest.raises(ValidationError) as error:
        campaign.fail(a.id, reason)
    assert error.value.field == "reason"
    assert _snapshot(campaign) == [a]


# ------------------------------------------------------------------------------------------------------ pools
@pytest.mark.parametrize("strategy", ["random", "sobol"])
def test_pool_never_repeats_a_candidate_until_exhausted(pool: CandidatePool, store_url: str, strategy: str) -> None:
    campaign = _create(pool, store_url, strategy=strategy)
    first = campaign.ask(4)
    campaign.tell(first[0].id, 1.0)
    campaign.fail(first[1].id, "spilled")
    rest = campaign.ask(4)
    assert len(first) == 4 and len(rest) == 2
    keys = [e.candidate for e in (*first, *rest)]
    assert sorted(keys) == list(range(len(pool)))
    for e in (*first, *rest):
        assert dict(e.params) == pool.row(e.candidate)
    assert campaign.ask(1) == []
    assert campaign.ask(3) == []
    assert len(campaign.experiments()) == len(pool)


def test_imported_pool_row_is_not_suggested_again(pool: CandidatePool, store_url: str) -> None:
    campaign = _create(pool, store_url)
    (imported,) = campaign.add_data([{"x": 2, "solvent": "ethanol", TARGET: 4.0}])
    assert imported.candidate == pool.key_of({"x": 2.0, "solvent": "ethanol"}) == 3
    assert imported.origin is Origin.IMPORTED and imported.status is ExperimentStatus.COMPLETED
    asked = campaign.ask(len(pool))
    assert len(asked) == len(pool) - 1
    assert 3 not in {e.candidate for e in asked}


def test_imported_point_outside_the_pool_has_no_candidate(pool: CandidatePool, store_url: str) -> None:
    campaign = _create(pool, store_url)
    (imported,) = campaign.add_data([{"x": 2.5, "solvent": "water", TARGET: 1.0}])
    assert imported.candidate is None
    assert len(campaign.ask(len(pool))) == len(pool)


class _RacingStrategy:
    """Wraps a strategy so that two concurrent ask() calls both read the history before either stores."""

    def __init__(self, inner: Any, barrier: threading.Barrier) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.barrier = barrier
        self.calls = 0
        self.lock = threading.Lock()

    def propose(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.calls += 1
            first_round = self.calls <= self.barrier.parties
        if first_round:  # the two first proposals race; a retry after a stale history runs alone
            self.barrier.wait(timeout=30)
        return self.inner.propose(*args, **kwargs)

    def to_config(self) -> dict[str, Any]:
        return self.inner.to_config()


def test_concurrent_asks_on_a_pool_never_share_a_candidate(pool: CandidatePool, store_url: str) -> None:
    created = _create(pool, store_url)
    barrier = threading.Barrier(2)
    racing = CampaignConfig(pool, created.objective, _RacingStrategy(created.strategy, barrier), created.config.seed)
    results: list[list[Any]] = []

    def worker() -> None:
        results.append(Campaign("c", racing, Campaign.open("c", store=store_url).store).ask(2))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    candidates = [e.candidate for e in created.experiments()]
    assert len(candidates) == 4
    assert len(set(candidates)) == 4
    assert racing.strategy.calls == 3  # type: ignore[attr-defined]  # the loser proposed again


def test_a_default_strategy_stored_before_the_output_transform_keeps_its_behaviour(pool: CandidatePool) -> None:
    config = CampaignConfig(pool, Objective.maximize(TARGET), strategy_from_config("default")).to_json()
    config["strategy"] = {"kind": "default", "initial": 5, "kernel": "matern52", "acquisition": "logei", "kappa": 2.0}
    strategy = CampaignConfig.from_json(config).strategy
    assert strategy.to_config()["transform"] == "none" and strategy.to_config()["acquisition"] == {"kind": "logei"}
    fresh = CampaignConfig.from_json(
        CampaignConfig(pool, Objective.maximize(TARGET), strategy_from_config("default")).to_json()
    )
    assert fresh.strategy.to_config()["transform"] == "power"


STORED_BEFORE_ACQUISITION_SETTINGS = {
    "kind": "default",
    "initial": 5,
    "kernel": "matern52",
    "acquisition": "ucb",
    "kappa": 2.0,
    "transform": "power",
}
"""A default strategy as campaigns stored it while UCB's kappa was a setting of the strategy."""


def _legacy_campaign(name: str, store_url: str, config: CampaignConfig, strategy: dict[str, Any]) -> None:
    from kiln.store import open_store

    document = config.to_json()
    document["strategy"] = dict(strategy)
    open_store(store_url).create_campaign(name, document)


def _asked_in_five_rounds(campaign: Campaign) -> list[Any]:
    """Candidates the campaign proposes through its space-filling phase and its first BO batches."""
    asked = []
    for _ in range(5):
        batch = campaign.ask(2)
        asked += [e.candidate for e in batch]
        for experiment in batch:
            x = float(experiment.params["x"])
            campaign.tell(experiment.id, -((x - 0.63) ** 2))
    return asked


def test_a_campaign_stored_with_a_strategy_level_kappa_opens_and_behaves_the_same(store_url: str) -> None:
    from kiln.strategies.acquisition import UCB
    from kiln.strategies.default import DefaultStrategy

    line = CandidatePool(["x"], [[i / 29] for i in range(30)])
    today = CampaignConfig(line, Objective.maximize(TARGET), strategy_from_config("default"), seed=4)
    _legacy_campaign("old", store_url, today, STORED_BEFORE_ACQUISITION_SETTINGS)
    old = Campaign.open("old", store=store_url)
    assert old.strategy == DefaultStrategy() and old.strategy.acquisition == UCB(kappa=2.0)  # type: ignore[attr-defined]
    # specs in the old form (kappa beside the acquisition) and in the new one both resume it: no mismatch
    flat = strategy_from_config({"kind": "default", "acquisition": "ucb", "kappa": 2.0})
    nested = strategy_from_config({"kind": "default", "acquisition": {"kind": "ucb", "kappa": 2.0}})
    for strategy in (flat, nested, strategy_from_config("default")):
        config = CampaignConfig(line, Objective.maximize(TARGET), strategy, seed=4)
        assert Campaign.open_or_create("old", config, store=store_url)[1] is False
    fresh = Campaign.create("new", space=line, objective=Objective.maximize(TARGET), store=store_url, seed=4)
    assert _asked_in_five_rounds(old) == _asked_in_five_rounds(fresh)


def test_a_stored_kappa_other_than_the_default_is_kept_and_compared(store_url: str) -> None:
    from kiln.strategies.acquisition import UCB

    line = CandidatePool(["x"], [[i / 29] for i in range(30)])
    today = CampaignConfig(line, Objective.maximize(TARGET), strategy_from_config("default"))
    _legacy_campaign("old", store_url, today, {**STORED_BEFORE_ACQUISITION_SETTINGS, "kappa": 3.0})
    assert Campaign.open("old", store=store_url).strategy.acquisition == UCB(kappa=3.0)  # type: ignore[attr-defined]
    with pytest.raises(ConflictError) as raised:
        Campaign.open_or_create("old", today, store=store_url)
    assert "strategy.acquisition.kappa: stored 3.0, spec 2.0" in str(raised.value)


def test_a_store_may_be_given_as_a_file_path(
    space: SearchSpace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As kiln --store takes it: a bare path (str or Path) is a SQLite file."""
    monkeypatch.chdir(tmp_path)
    Campaign.create("c", space=space, objective=Objective.maximize(TARGET), store="r.db")
    assert (tmp_path / "r.db").exists()
    assert Campaign.open("c", store="r.db").name == "c"
    assert Campaign.open("c", store=tmp_path / "r.db").store.url.endswith("r.db")
    again, created = Campaign.open_or_create("c", Campaign.open("c", store="r.db").config, store=Path("r.db"))
    assert not created and again.name == "c"
