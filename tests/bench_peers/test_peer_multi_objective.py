"""Every multi-objective peer runs a few cycles of a pool benchmark with two targets (and with a constraint)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kiln.bench.hv_backtest import HVProblem, parse_constraint, run_hv_trajectory
from kiln.bench.peers import LIBRARIES, PEERS
from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective, Target
from kiln.space import CandidatePool
from kiln.strategies.base import History, Strategy

MULTI = ["botorch-defaults", "optuna-tpe", "optuna-gp", "optuna-nsga2", "baybe", "ax"]
# a short random phase, so the few cycles reach each peer's model
OPTIONS: dict[str, dict[str, Any]] = {"optuna-tpe": {"initial_points": 3}, "optuna-gp": {"initial_points": 3}}
OPTIONS |= {"ax": {"initial_points": 3}, "optuna-nsga2": {"population_size": 4}}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


def make(name: str) -> Strategy:
    pytest.importorskip(LIBRARIES[name])
    strategy = PEERS[name]()
    return type(strategy)(**OPTIONS.get(name, {}))  # type: ignore[call-arg]


def tiny_pool() -> pd.DataFrame:
    """24 candidates: a number and a solvent; "gain" up and "loss" down trade off, "cost" is constrained."""
    rng = np.random.default_rng(5)
    t = np.round(rng.uniform(0, 1, 24), 3)
    solvent = np.array(["water", "ethanol", "dmf"])[np.arange(24) % 3]
    bonus = (solvent == "ethanol").astype(float)
    return pd.DataFrame(
        {"t": t, "solvent": solvent, "gain": t + bonus, "loss": t**2 + 0.5 * bonus, "cost": 3 * t + bonus}
    )


@pytest.mark.parametrize("constrained", [False, True], ids=["two-targets", "with-constraint"])
@pytest.mark.parametrize("name", MULTI)
def test_a_few_cycles_on_a_tiny_two_objective_pool(name: str, constrained: bool) -> None:
    bounds = [parse_constraint("cost<=2")] if constrained else []
    problem = HVProblem.from_frame(tiny_pool(), ["t", "solvent"], ["gain", "loss"], ["max", "min"], bounds)
    strategy = make(name)
    run = run_hv_trajectory(problem, strategy, seed=3, budget=7, initial=2)
    keys = [*run.initial, *run.chosen]
    assert len(keys) == 7 == len(set(keys)) and len(run.hv_percent) == 7
    assert 0 <= run.hv_percent[0] <= run.hv_percent[-1] <= 1
    assert run_hv_trajectory(problem, strategy, seed=3, budget=7, initial=2) == run  # deterministic for a seed


def test_botorch_defaults_reads_a_minimised_target_the_right_way_round() -> None:
    """max a, min b with a = x and b = -x: no trade-off, the unmeasured x = 11 beats everything, x = 0 nothing."""
    pool = CandidatePool(["x"], [[float(i)] for i in range(12)])
    objective = Objective((Target("a", "max"), Target("b", "min")))
    done = tuple(
        Experiment(f"e{k}", k + 1, pool.row(k), ExperimentStatus.COMPLETED, {"a": k, "b": -k}, candidate=k)
        for k in range(1, 11)
    )
    proposals = make("botorch-defaults").propose(pool, objective, History(completed=done), 1, seed=0)
    assert [p.candidate for p in proposals] == [11]


def test_a_single_objective_peer_refuses_several_targets() -> None:
    problem = HVProblem.from_frame(tiny_pool(), ["t", "solvent"], ["gain", "loss"], ["max", "min"])
    with pytest.raises(ValidationError, match="one target"):
        run_hv_trajectory(problem, make("skopt-gp"), seed=1, budget=4)
