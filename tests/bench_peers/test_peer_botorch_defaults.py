"""The plain-BoTorch reference: the argmax of analytic LogEI in a pool, and its availability."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from kiln.bench.peers import PEERS, available_peers
from kiln.bench.peers.botorch_defaults import BotorchDefaults
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space import CandidatePool
from kiln.strategies.base import History


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def test_botorch_defaults_is_always_available() -> None:
    assert "botorch-defaults" in available_peers()
    assert isinstance(PEERS["botorch-defaults"](), BotorchDefaults)
    assert set(available_peers()) <= set(PEERS)


def test_pool_choice_is_the_argmax_of_analytic_log_ei() -> None:
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    rng = np.random.default_rng(0)
    columns = zip(rng.random(60), rng.random(60), rng.choice(["p", "q"], 60), strict=True)
    rows = [[float(a), float(b), str(s)] for a, b, s in columns]
    pool = CandidatePool(["a", "b", "s"], rows)
    measured = [int(k) for k in rng.choice(60, size=8, replace=False)]

    def value(key: int) -> float:
        row = pool.row(key)
        return float(np.sin(5 * row["a"]) + row["b"] ** 2 + (row["s"] == "q"))

    history = History(
        completed=tuple(
            Experiment(f"e{i}", i + 1, pool.row(k), ExperimentStatus.COMPLETED, results={"y": value(k)}, candidate=k)
            for i, k in enumerate(measured)
        )
    )
    proposal = BotorchDefaults().propose(pool, Objective.maximize("y"), history, 1, seed=0)[0]

    # The same computation written out: fit on the measured rows, score every other row, take the best.
    train_X = torch.tensor(pool.encoded[measured], dtype=torch.double)
    train_Y = torch.tensor([[value(k)] for k in measured], dtype=torch.double)
    d = train_X.shape[1]
    model = SingleTaskGP(
        train_X,
        train_Y,
        input_transform=Normalize(d=d, bounds=torch.stack([torch.zeros(d), torch.ones(d)]).double()),
        outcome_transform=Standardize(m=1),
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    free = [k for k in range(len(pool)) if k not in measured]
    with torch.no_grad():
        scores = LogExpectedImprovement(model, best_f=train_Y.max())(
            torch.tensor(pool.encoded[free], dtype=torch.double).unsqueeze(1)
        ).numpy()
    assert proposal.candidate == free[int(np.argmax(scores))]
    assert proposal.candidate not in measured


def test_fewer_than_two_results_give_random_rows() -> None:
    pool = CandidatePool(["x"], [[float(i)] for i in range(10)])
    first = BotorchDefaults().propose(pool, Objective.maximize("y"), History(), 2, seed=3)
    assert len({p.candidate for p in first}) == 2
    assert BotorchDefaults().propose(pool, Objective.maximize("y"), History(), 2, seed=3) == first
