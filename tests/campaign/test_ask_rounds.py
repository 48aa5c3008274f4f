"""AskRounds: asks that arrive while a round runs are answered together by the next round (one Campaign.ask)."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from kiln import Campaign, CandidatePool, Objective, SearchSpace, ValidationError
from kiln.campaign.ask_rounds import AskRounds

WAIT = 60.0  # seconds a test waits for a state before it fails (never reached when all is well)


@pytest.fixture
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


class HeldAsks:
    """Wraps ``campaign.ask``: records each call's n, and holds the first call until ``release``."""

    def __init__(self, campaign: Campaign, fail_first: bool = False) -> None:
        self.real = campaign.ask
        self.sizes: list[int] = []
        self.entered = threading.Event()
        self.released = threading.Event()
        self.fail_first = fail_first
        campaign.ask = self  # type: ignore[method-assign]

    def __call__(self, n: int = 1) -> Any:
        self.sizes.append(n)
        if len(self.sizes) == 1:
            self.entered.set()
            assert self.released.wait(WAIT)
            if self.fail_first:
                raise RuntimeError("the model could not be fitted")
        return self.real(n)


def _campaign(space: SearchSpace, store_url: str) -> Campaign:
    return Campaign.create("c", space=space, objective=Objective.maximize("y"), strategy="random", store=store_url)


def test_asks_arriving_during_a_round_share_the_next_one(
    space: SearchSpace, store_url: str, executor: concurrent.futures.Executor
) -> None:
    campaign = _campaign(space, store_url)
    held = HeldAsks(campaign)
    rounds = AskRounds(campaign, executor)
    first = rounds.submit(2)
    assert held.entered.wait(WAIT)
    later = [rounds.submit(n) for n in (1, 3, 1, 2)]  # all wait while the first round is held
    held.released.set()
    answers = [first.result(WAIT), *(f.result(WAIT) for f in later)]
    assert [len(a) for a in answers] == [2, 1, 3, 1, 2]
    assert held.sizes == [2, 7]  # one round for the four that waited
    assert rounds.rounds == 2
    ids = [e.id for a in answers for e in a]
    assert len(set(ids)) == len(ids) == 9
    assert sorted(ids) == sorted(e.id for e in Campaign.open("c", store=store_url).pending())


def test_a_round_never_exceeds_most_and_the_rest_waits_for_the_next(
    space: SearchSpace, store_url: str, executor: concurrent.futures.Executor
) -> None:
    campaign = _campaign(space, store_url)
    held = HeldAsks(campaign)
    rounds = AskRounds(campaign, executor, most=4)
    first = rounds.submit(1)
    assert held.entered.wait(WAIT)
    later = [rounds.submit(n) for n in (3, 2, 2)]
    held.released.set()
    assert [len(f.result(WAIT)) for f in (first, *later)] == [1, 3, 2, 2]
    assert held.sizes == [1, 3, 4]


def test_an_error_reaches_every_ask_of_its_round_and_the_next_round_works(
    space: SearchSpace, store_url: str, executor: concurrent.futures.Executor
) -> None:
    campaign = _campaign(space, store_url)
    held = HeldAsks(campaign, fail_first=True)
    rounds = AskRounds(campaign, executor)
    first = rounds.submit(1)
    assert held.entered.wait(WAIT)
    second = rounds.submit(2)
    held.released.set()
    with pytest.raises(RuntimeError, match="could not be fitted"):
        first.result(WAIT)
    assert len(second.result(WAIT)) == 2  # the second round was not the failing one
    assert len(rounds.ask(1)) == 1


def test_a_bad_size_is_refused_at_once_and_queues_nothing(
    space: SearchSpace, store_url: str, executor: concurrent.futures.Executor
) -> None:
    campaign = _campaign(space, store_url)
    rounds = AskRounds(campaign, executor)
    for bad in (0, -1, 1001, 1.5, True):
        with pytest.raises(ValidationError, match=r"^n: got"):
            rounds.submit(bad)  # type: ignore[arg-type]
    assert rounds.rounds == 0
    assert campaign.experiments() == []


def test_when_a_pool_runs_out_the_earliest_asks_get_theirs_first(
    store_url: str, executor: concurrent.futures.Executor
) -> None:
    pool = CandidatePool.from_dataframe(pd.DataFrame({"x": [0.1, 0.2, 0.3]}), inputs=["x"])
    campaign = Campaign.create("p", space=pool, objective=Objective.maximize("y"), strategy="random", store=store_url)
    held = HeldAsks(campaign)
    rounds = AskRounds(campaign, executor)
    first = rounds.submit(1)
    assert held.entered.wait(WAIT)
    later = [rounds.submit(2), rounds.submit(2)]
    held.released.set()
    assert [len(f.result(WAIT)) for f in (first, *later)] == [1, 2, 0]
    candidates = [e.candidate for f in (first, *later) for e in f.result()]
    assert sorted(candidates) == [0, 1, 2]


def test_many_threads_each_get_their_own_distinct_experiments(
    space: SearchSpace, store_url: str, executor: concurrent.futures.Executor
) -> None:
    campaign = _campaign(space, store_url)
    rounds = AskRounds(campaign, executor)
    barrier = threading.Barrier(8)

    def client() -> list[str]:
        barrier.wait(WAIT)
        return [e.id for _ in range(5) for e in rounds.ask(1)]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as clients:
        answers = list(clients.map(lambda _: client(), range(8)))
    ids = [i for a in answers for i in a]
    assert len(ids) == len(set(ids)) == 40
    assert rounds.rounds <= 40
    assert len(campaign.experiments()) == 40
