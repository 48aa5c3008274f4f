"""BayBE with its own chemical encodings: molecule columns of a pool become SubstanceParameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kiln.bench.peers import PEERS
from kiln.core.records import Experiment, ExperimentStatus
from kiln.objective import Objective
from kiln.space import CandidatePool
from kiln.strategies.base import History

pytest.importorskip("baybe")
pytest.importorskip("skfp")

SOLVENTS = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "Cc1ccccc1", "CC#N"]


def test_molecule_columns_become_substances_and_rows_are_proposed() -> None:
    from baybe.parameters import CategoricalParameter, SubstanceParameter

    from kiln.bench.peers.baybe_default import _discrete_space

    pool = CandidatePool(
        ["solvent", "salt", "T"], [[s, b, t] for s in SOLVENTS for b in ("NaCl", "KCl") for t in (1, 2)]
    )
    table = pd.DataFrame([list(r) for r in pool.rows], columns=pool.columns)
    kinds = {p.name: type(p) for p in _discrete_space(table, "ECFP").parameters}
    assert kinds["solvent"] is SubstanceParameter and kinds["salt"] is CategoricalParameter
    strategy = PEERS["baybe-ecfp"]()
    assert strategy.to_config() == {"kind": "baybe", "encoding": "ECFP"}
    rng = np.random.default_rng(0)
    told = rng.choice(len(pool), size=4, replace=False)
    completed = tuple(
        Experiment(
            id=f"e{i}",
            seq=i + 1,
            params=pool.row(int(k)),
            status=ExperimentStatus.COMPLETED,
            results={"y": float(rng.normal())},
            candidate=int(k),
        )
        for i, k in enumerate(told)
    )
    (proposal,) = strategy.propose(pool, Objective.maximize("y"), History(completed=completed), 1, seed=0)
    assert proposal.candidate is not None and proposal.candidate not in set(told.tolist())
