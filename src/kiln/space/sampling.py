"""Feasible points of a SearchSpace: uniform random or space-filling (scrambled Sobol / maximin).

Unconstrained parameters are drawn per parameter from a unit coordinate u in [0, 1) (integers, levels and
choices by equal-width bins). Parameters tied by a composition or a linear constraint are drawn together from the
polytope they define, by BoTorch's hit-and-run sampler; for space-filling designs a maximin subset of a larger
polytope sample is taken.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from kiln.space.parameters import Categorical, Continuous, Discrete, Integer, Parameter
from kiln.space.search_space import SearchSpace

if TYPE_CHECKING:
    import numpy as np

Method = Literal["random", "sobol"]


def sample_points(space: SearchSpace, n: int, *, seed: int, method: Method = "random") -> list[dict[str, Any]]:
    """``n`` feasible points of ``space`` in lab units, reproducible for a given seed."""
    import numpy as np

    if n <= 0:
        return []
    tied = set(space.constrained_names)
    free = [p for p in space.parameters if p.name not in tied]
    rng = np.random.default_rng(seed)
    if method == "sobol":
        from scipy.stats import qmc  # scipy.stats takes about a second to import: only when Sobol points are drawn

        sobol = qmc.Sobol(d=max(len(free), 1), scramble=True, seed=rng)
        U = sobol.random(2 ** math.ceil(math.log2(n)))[:n] if n > 1 else sobol.random(1)
    else:
        U = rng.random((n, max(len(free), 1)))
    rows: list[dict[str, Any]] = [{} for _ in range(n)]
    for j, parameter in enumerate(free):
        for i in range(n):
            rows[i][parameter.name] = _from_unit(parameter, float(U[i, j]))
    if tied:
        for row, tied_values in zip(rows, _polytope_points(space, n, seed=seed, method=method), strict=True):
            row.update(tied_values)
    return [{name: row[name] for name in space.names} for row in rows]


def _from_unit(parameter: Parameter, u: float) -> Any:
    """A value of ``parameter`` from a unit coordinate u in [0, 1)."""
    u = min(max(u, 0.0), 1.0 - 1e-12)
    if isinstance(parameter, Categorical):
        return parameter.choices[int(u * len(parameter.choices))]
    if isinstance(parameter, Discrete):
        return parameter.values[int(u * len(parameter.values))]
    if isinstance(parameter, Integer):
        return parameter.low + int(u * (parameter.high - parameter.low + 1))
    assert isinstance(parameter, Continuous)
    if parameter.log:
        return float(math.exp(math.log(parameter.low) + u * (math.log(parameter.high) - math.log(parameter.low))))
    return float(parameter.low + u * (parameter.high - parameter.low))


def _polytope_points(space: SearchSpace, n: int, *, seed: int, method: Method) -> list[dict[str, float]]:
    """Values of the tied parameters for ``n`` points, drawn from their feasible polytope."""
    import numpy as np
    import torch
    from botorch.utils.sampling import get_polytope_samples

    tied = space.constrained_names
    columns = [b.start for b in space.blocks if b.parameter.name in tied]
    position = {c: k for k, c in enumerate(columns)}

    def local(forms: list[tuple[list[int], list[float], float]]) -> list[tuple[Any, Any, float]] | None:
        out = [
            (
                torch.tensor([position[i] for i in idx], dtype=torch.long),
                torch.tensor(coef, dtype=torch.double),
                float(rhs),
            )
            for idx, coef, rhs in forms
        ]
        return out or None

    # Maximin subsets of a larger hit-and-run sample only for small designs: large samples are spread already.
    draws = n if method == "random" or n >= 256 else max(4 * n, 64)
    bounds = torch.stack([torch.zeros(len(columns)), torch.ones(len(columns))]).double()
    Z = get_polytope_samples(
        n=draws,
        bounds=bounds,
        inequality_constraints=local(space.inequality_constraints()),
        equality_constraints=local(space.equality_constraints()),
        seed=seed,
        n_burnin=200,
        n_thinning=max(2 * len(columns), 4),
    ).numpy()
    if method == "sobol":
        Z = Z[_maximin_subset(Z, n, np.random.default_rng(seed))]
    X = np.zeros((Z.shape[0], space.dim))
    X[:, columns] = Z
    decoded = space.decode(X)
    return [{name: row[name] for name in tied} for row in decoded]


def _maximin_subset(Z: np.ndarray, n: int, rng: np.random.Generator) -> list[int]:
    """Indices of ``n`` rows of Z chosen greedily so that each is as far as possible from those before it."""
    import numpy as np

    chosen = [int(rng.integers(len(Z)))]
    distance = ((Z - Z[chosen[0]]) ** 2).sum(1)
    while len(chosen) < n:
        nxt = int(distance.argmax())
        chosen.append(nxt)
        distance = np.minimum(distance, ((Z - Z[nxt]) ** 2).sum(1))
    return chosen
