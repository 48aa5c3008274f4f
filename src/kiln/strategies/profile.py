"""The surrogate's prediction along one parameter: a slice through the best experiment, for plots.

The campaign's own surrogate is fitted (a BayesStrategy's, or the default GP for strategies without a model),
without output transform so that mean and spread are in the target's units; the other parameters stay at the
values of the best completed experiment. When the parameter is a part of a composition, the other parts of its
group are rescaled in proportion to their values there, so that every point still sums to the group's total (a
mixture never sums to 150 %). Points that break a bound of another part or a linear constraint are kept and marked
in ``feasible``. The band is the model's uncertainty about the mean (the latent function), without measurement
noise: repeated measurements scatter more widely.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiln.core.errors import StateError, ValidationError
from kiln.objective import Objective
from kiln.objective.objective import Direction
from kiln.space.config import Domain
from kiln.space.constraints import Composition
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, Strategy, training_data

MAX_POINTS = 500


@dataclass(frozen=True)
class Profile:
    """Prediction along ``parameter``: ``values`` (m,) in lab units, ``mean`` and ``std`` (m,) in target units,
    through the point ``through`` (the best completed experiment's parameters); ``model`` names the surrogate.

    ``rescaled``: the other parts of ``parameter``'s composition -> their values (m,) along the slice, rescaled so
    that each point keeps the total (empty otherwise); ``feasible`` (m,): whether each point keeps every bound
    and constraint of the space; ``noise``: whether ``std`` includes measurement noise (it does not: it is the
    uncertainty of the mean).
    """

    parameter: str
    values: list[Any]
    mean: list[float]
    std: list[float]
    through: dict[str, Any]
    model: str
    rescaled: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    feasible: list[bool] = dataclasses.field(default_factory=list)
    noise: bool = False


def grid_along(domain: Domain, parameter: str, points: int) -> list[Any]:
    """Values of ``parameter`` to predict at: ``points`` evenly spaced over a numeric range (on a log scale for
    log parameters), or every level or category."""
    import numpy as np

    if parameter not in domain.names:
        raise ValidationError("parameter", parameter, f"one of the campaign's parameters {domain.names}", "pick one")
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= MAX_POINTS:
        raise ValidationError("points", points, f"a whole number from 2 to {MAX_POINTS}", "e.g. 60")
    if isinstance(domain, CandidatePool):
        j = domain.columns.index(parameter)
        values = [row[j] for row in domain.rows]
        if not domain.numeric[j]:
            return sorted({str(v) for v in values})
        return np.linspace(min(values), max(values), points).tolist()
    spec = domain.by_name[parameter]
    if isinstance(spec, Categorical):
        return list(spec.choices)
    if isinstance(spec, Discrete):
        return sorted(spec.values)
    if isinstance(spec, Integer):
        return sorted({round(float(v)) for v in np.linspace(spec.low, spec.high, points)})
    assert isinstance(spec, Continuous)
    if spec.log:
        return np.geomspace(spec.low, spec.high, points).tolist()
    return np.linspace(spec.low, spec.high, points).tolist()


def model_profile(
    strategy: Strategy,
    domain: Domain,
    objective: Objective,
    history: History,
    parameter: str,
    *,
    points: int = 60,
    seed: int = 0,
    quantity: str | None = None,
) -> Profile:
    """Fit the surrogate to ``history`` and predict along ``parameter`` (see the module docstring).

    ``quantity``: predict that measured quantity (a target or a constrained quantity) instead, in its own units,
    with the GP the multi-objective strategy fits for it (see ``quantity_profile``).
    """
    from kiln.models.gp import torch_threads
    from kiln.strategies.bayes import BayesStrategy

    if quantity is not None:
        return quantity_profile(strategy, domain, objective, history, parameter, quantity, points=points, seed=seed)
    if len(objective.targets) != 1 or objective.scalarisation is not None:
        raise StateError(
            f"a profile shows the model of one target in its units; this objective has the targets {objective.names}"
        )
    if objective.target.direction is Direction.RANGE:
        raise StateError(
            f"a profile shows a target in its units, and target {objective.target.name!r} is a window: the model "
            "learns the distance to the window, not the value"
        )
    grid = grid_along(domain, parameter, points)
    data = training_data(domain, objective, history)
    if len(data.y) < 2:
        raise StateError("the model needs at least 2 completed experiments; tell more results first")
    base = getattr(strategy, "bayes", strategy)
    model = dataclasses.replace(base if isinstance(base, BayesStrategy) else BayesStrategy(), transform="none")
    best = history.completed[objective.best_index([e.results for e in history.completed]) or 0]
    group = _composition_of(domain, parameter)
    rows = [_point(best.params, parameter, value, group) for value in grid]
    feasible = [_keeps_the_rules(domain, row) for row in rows]
    with torch_threads():
        fitted = model.fit(data.X, data.y, seed=seed, layout=domain.kernel_layout)
        mean, std = fitted.posterior_mean_std(domain.encode(rows).reshape(len(rows), -1))
    sign = 1.0 if objective.target.direction is Direction.MAXIMIZE else -1.0
    return Profile(
        parameter=parameter,
        values=grid,
        mean=(sign * mean).tolist(),
        std=std.tolist(),
        through=dict(best.params),
        model=f"{model.model} ({model.kernel})" if model.model == "gp" else f"{model.model} ({model.trees} trees)",
        rescaled={} if group is None else {p: [row[p] for row in rows] for p in group.parts if p != parameter},
        feasible=feasible,
        noise=False,
    )


def quantity_profile(
    strategy: Strategy,
    domain: Domain,
    objective: Objective,
    history: History,
    parameter: str,
    quantity: str,
    *,
    points: int = 60,
    seed: int = 0,
) -> Profile:
    """One quantity's GP along ``parameter``, in the quantity's units: fitted (as in the multi-objective strategy)
    on every experiment with a value of it, partly measured ones included, with the strategy's kernel. The slice
    goes through the best feasible experiment (one target or a scalarisation), else the first experiment of the
    Pareto front, else the last completed one."""
    import numpy as np

    from kiln.models.gp import KERNELS, fit_gp, torch_threads

    if quantity not in objective.quantities:
        raise ValidationError("quantity", quantity, f"one of the campaign's quantities {objective.quantities}", "")
    grid = grid_along(domain, parameter, points)
    measured = [e for e in (*history.completed, *history.pending) if quantity in e.results]
    if len(measured) < 2:
        raise StateError(f"the model of {quantity!r} needs at least 2 experiments that measured it; tell more first")
    completed = [e.results for e in history.completed]
    best = None
    if completed and (len(objective.targets) == 1 or objective.scalarisation is not None):
        best = objective.best_index(completed)
    elif completed:
        best = next(iter(objective.pareto_indices(completed)), None)
    through = (history.completed[best] if best is not None else (history.completed or measured)[-1]).params
    kernel = str(getattr(getattr(strategy, "bayes", strategy), "kernel", "matern52"))
    group = _composition_of(domain, parameter)
    rows = [_point(through, parameter, value, group) for value in grid]
    X = domain.encode([e.params for e in measured]).reshape(len(measured), -1)
    y = [float(e.results[quantity]) for e in measured]
    with torch_threads():
        kind = kernel if kernel in KERNELS else "matern52"
        fitted = fit_gp(X, np.asarray(y), kernel=kind, seed=seed, layout=domain.kernel_layout)
        mean, std = fitted.posterior_mean_std(domain.encode(rows).reshape(len(rows), -1))
    return Profile(
        parameter=parameter,
        values=grid,
        mean=mean.tolist(),
        std=std.tolist(),
        through=dict(through),
        model=f"gp ({fitted.kernel}) of {quantity}",
        rescaled={} if group is None else {p: [row[p] for row in rows] for p in group.parts if p != parameter},
        feasible=[_keeps_the_rules(domain, row) for row in rows],
        noise=False,
    )


def _composition_of(domain: Domain, parameter: str) -> Composition | None:
    if isinstance(domain, CandidatePool):
        return None
    return next((g for g in domain.compositions if parameter in g.parts), None)


def _point(through: Mapping[str, Any], parameter: str, value: Any, group: Composition | None) -> dict[str, Any]:
    """``through`` with ``parameter`` set to ``value``; the other parts of its composition rescaled in proportion
    so that the group keeps its total (shared equally when they are all 0 at ``through``)."""
    point = {**through, parameter: value}
    if group is None:
        return point
    others = [p for p in group.parts if p != parameter]
    left = group.total - float(value)
    held = sum(float(through[p]) for p in others)
    for part in others:
        point[part] = left * float(through[part]) / held if held > 0 else left / len(others)
    return point


def _keeps_the_rules(domain: Domain, point: dict[str, Any]) -> bool:
    if isinstance(domain, CandidatePool):
        return True
    try:
        domain.validate(point)
    except ValidationError:
        return False
    return True
