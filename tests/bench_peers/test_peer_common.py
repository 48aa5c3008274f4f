"""What the adapters share: the peer's view of a domain, and mapping its answers to pool rows or points."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from kiln.bench.peers.common import peer_problem, to_proposals
from kiln.core.errors import ValidationError
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space import CandidatePool, Continuous, Integer, SearchSpace
from kiln.strategies.base import History

HEAVY = ("torch", "botorch", "gpytorch", "skopt", "sklearn", "optuna", "baybe", "ax")


def test_importing_the_peers_loads_no_peer_library_and_no_torch() -> None:
    code = (
        "import json, sys\n"
        "import kiln.bench.peers, kiln.bench.latency, kiln.cli.latency_command\n"
        "names = kiln.bench.peers.available_peers()\n"
        f"print(json.dumps([names, sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)})]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names, loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "botorch-defaults" in names
    assert loaded == []


def test_pool_columns_become_ranges_and_categories_and_single_values_stay_fixed() -> None:
    pool = CandidatePool(["t", "k", "s", "c"], [[20.0, 1.0, "a", "x"], [80.0, 1.0, "b", "x"], [50.0, 1.0, "c", "x"]])
    done = Experiment("e0", 1, pool.row(1), ExperimentStatus.COMPLETED, results={"y": 2.0}, candidate=1)
    problem = peer_problem(pool, Objective.minimize("y"), History(completed=(done,)), "test")
    assert [(d.name, d.low, d.high, d.choices) for d in problem.dims] == [
        ("t", 20.0, 80.0, None),
        ("s", 0.0, 1.0, ("a", "b", "c")),
    ]
    assert problem.fixed == {"k": 1.0, "c": "x"}
    assert problem.X == ({"x0": 80.0, "x1": "b"},) and list(problem.y) == [-2.0]  # minimised: -y
    assert list(problem.free) == [0, 2]


def test_answers_map_to_the_nearest_unused_row_in_model_coordinates() -> None:
    pool = CandidatePool(["t", "s"], [[0.0, "a"], [10.0, "a"], [10.0, "b"], [5.0, "b"]])
    done = Experiment("e0", 1, pool.row(2), ExperimentStatus.COMPLETED, results={"y": 1.0}, candidate=2)
    problem = peer_problem(pool, Objective.maximize("y"), History(completed=(done,)), "test")
    # (9, "b") is nearest to row 2, which is used: row 3 (distance 0.4) beats row 1 (0.1 + one-hot 2)
    proposals = to_proposals(problem, [{"x0": 9.0, "x1": "b"}, {"x0": 9.0, "x1": "b"}], 2, seed=0)
    assert [p.candidate for p in proposals] == [3, 1]
    assert proposals[0].params == {"t": 5.0, "s": "b"}


def test_missing_answers_are_filled_and_space_points_clipped() -> None:
    space = SearchSpace([Continuous("a", 0.0, 1.0), Continuous("b", -1.0, 1.0)])
    problem = peer_problem(space, Objective.maximize("y"), History(), "test")
    proposals = to_proposals(problem, [{"x0": 1.5, "x1": 0.0}], 3, seed=1)
    assert proposals[0].params == {"a": 1.0, "b": 0.0}
    assert len({tuple(p.params.values()) for p in proposals}) == 3
    assert all(space.validate(p.params) for p in proposals)


def test_spaces_with_other_parameters_are_refused() -> None:
    space = SearchSpace([Continuous("a", 0.0, 1.0), Integer("k", 1, 3)])
    with pytest.raises(ValidationError, match="all-continuous"):
        peer_problem(space, Objective.maximize("y"), History(), "skopt-gp")


def test_pool_answers_are_distinct_even_when_the_peer_repeats_itself() -> None:
    pool = CandidatePool(["t"], [[float(v)] for v in np.linspace(0, 1, 5)])
    problem = peer_problem(pool, Objective.maximize("y"), History(), "test")
    proposals = to_proposals(problem, [{"x0": 0.0}] * 5, 5, seed=0)
    assert sorted(p.candidate for p in proposals if p.candidate is not None) == [0, 1, 2, 3, 4]
