"""BayBE's default recommender (TwoPhaseMetaRecommender: random, then BotorchRecommender), a fresh Campaign per call.

In a pool, BayBE gets a discrete search space made of the pool's rows (``SubspaceDiscrete.from_dataframe``: numeric
columns as NumericalDiscreteParameter with the column's values, text columns as CategoricalParameter), so it
recommends pool rows itself; rows suggested before (measured, running or failed) are switched off with
``toggle_discrete_candidates`` and ``allow_recommending_already_measured=False``.

With ``encoding`` other than "onehot" (``baybe-mordred``, ``baybe-ecfp``, ``baybe-rdkit2d``), each text column
of a pool whose values all parse as molecules (SMILES) becomes a ``SubstanceParameter`` with that substance
encoding (BayBE's own chemical features; its default substance encoding is MORDRED) and BayBE's default
decorrelation; other text columns stay categorical.

Several targets: BayBE's multi-objective default, a ``ParetoObjective`` of one maximised ``NumericalTarget`` per
target's score (a minimised target is negated), recommended by the same default recommender (its Botorch phase
uses qLogNEHVI). BayBE has no outcome constraints: they are not passed, so BayBE optimises the targets only.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

from kiln.bench.peers.common import PeerProblem, empty_result, peer_problem, quiet, small_seed, to_proposals
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, Proposal

TARGET = "utility"


@dataclass(frozen=True)
class BayBEDefault:
    """A BayBE ``Campaign`` with its default recommender, told every completed experiment (maximising utility)."""

    kind: ClassVar[str] = "baybe"
    encoding: str = "onehot"

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        problem = peer_problem(domain, objective, history, self.kind)
        if empty_result(problem, n):
            return []
        with quiet():
            from baybe.settings import Settings

            # No recommendation cache and no disk cache: every call starts from nothing, like the other peers.
            with Settings(random_seed=small_seed(seed), cache_campaign_recommendations=False, cache_directory=None):
                count = min(n, len(problem.free)) if problem.is_pool else n
                answers = _recommend(problem, history, count, self.encoding)
        return to_proposals(problem, answers, n, seed)

    def to_config(self) -> dict[str, Any]:
        return {"kind": self.kind, **({"encoding": self.encoding} if self.encoding != "onehot" else {})}


def _discrete_space(table: Any, encoding: str) -> Any:
    """BayBE's discrete space of a pool table: inferred parameters, with molecule columns as SubstanceParameters
    of ``encoding`` unless it is "onehot"."""
    from baybe.parameters import CategoricalParameter, NumericalDiscreteParameter, SubstanceParameter
    from baybe.searchspace import SubspaceDiscrete

    from kiln.space.molecules import is_molecule

    if encoding == "onehot":
        return SubspaceDiscrete.from_dataframe(table)
    parameters: list[Any] = []
    for column in table.columns:
        values = sorted({v for v in table[column]}, key=str)
        if all(isinstance(v, str) for v in values) and all(is_molecule(v) for v in values):
            parameters.append(SubstanceParameter(column, data={v: v for v in values}, encoding=encoding))
        elif all(isinstance(v, str) for v in values):
            parameters.append(CategoricalParameter(column, values=values))
        else:
            parameters.append(NumericalDiscreteParameter(column, values=[float(v) for v in values]))
    return SubspaceDiscrete.from_dataframe(table, parameters=parameters)


def _recommend(problem: PeerProblem, history: History, n: int, encoding: str = "onehot") -> list[dict[str, Any]]:
    import pandas as pd
    from baybe import Campaign
    from baybe.objectives import ParetoObjective
    from baybe.parameters import NumericalContinuousParameter
    from baybe.searchspace import SearchSpace
    from baybe.targets import NumericalTarget

    warnings.simplefilter("ignore")  # again: importing baybe puts a "default" filter for its warnings first
    keys = [d.key for d in problem.dims]
    if isinstance(problem.domain, CandidatePool):
        pool = problem.domain
        columns = [pool.columns.index(d.name) for d in problem.dims]
        table = pd.DataFrame([[row[j] for j in columns] for row in pool.rows], columns=keys)
        # BayBE infers the parameters from the columns: NumericalDiscreteParameter for numbers,
        # CategoricalParameter for text (given explicitly, each value would be range-checked against every
        # other value of its column: minutes for a 10,000-row pool)
        space = SearchSpace(discrete=_discrete_space(table, encoding))
        kinds = {p.name: p.is_numerical for p in space.parameters}
        assert all(kinds[d.key] == (d.choices is None) for d in problem.dims), kinds
    else:  # BayBE has no log scale: log parameters are given to it as their logarithm
        space = SearchSpace.from_product(
            [NumericalContinuousParameter(d.key, bounds=_bounds(d.low, d.high, d.log)) for d in problem.dims]
        )
    repeats = isinstance(problem.domain, CandidatePool) and problem.domain.allow_repeats
    # the flag is for discrete spaces only (BayBE refuses it in a continuous one)
    flags: dict[str, Any] = (
        {"allow_recommending_already_measured": repeats} if isinstance(problem.domain, CandidatePool) else {}
    )
    if problem.several:
        names = [f"{TARGET}{j}" for j in range(problem.Y.shape[1])]
        objective: Any = ParetoObjective([NumericalTarget(name) for name in names])
        told = {name: problem.Y[:, j] for j, name in enumerate(names)}
    else:
        objective, told = NumericalTarget(TARGET), {TARGET: problem.y}
    campaign = Campaign(space, objective, **flags)
    if problem.X:
        measured = pd.DataFrame([[_forward(x[d.key], d.log) for d in problem.dims] for x in problem.X], columns=keys)
        for name, values in told.items():
            measured[name] = values
        # the values are pool rows (or inside the bounds): BayBE's per-value tolerance check, O(n x values), is skipped
        campaign.add_measurements(measured, numerical_measurements_must_be_within_tolerance=False)
    if isinstance(problem.domain, CandidatePool) and not repeats and history.used_candidates():
        used = sorted(history.used_candidates())
        campaign.toggle_discrete_candidates(table.iloc[used].reset_index(drop=True), exclude=True)
    recommended = campaign.recommend(batch_size=n)
    return [
        {d.key: _backward(record[d.key], d.log) for d in problem.dims}
        for record in recommended.to_dict(orient="records")
    ]


def _bounds(low: float, high: float, log: bool) -> tuple[float, float]:
    return (math.log(low), math.log(high)) if log else (low, high)


def _forward(value: Any, log: bool) -> Any:
    return math.log(value) if log else value


def _backward(value: Any, log: bool) -> Any:
    return math.exp(float(value)) if log else value
