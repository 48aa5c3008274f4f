"""How good a campaign's map is (``goal: map``): the model's estimated error and where it is least sure.

Per target, the map's GP (``kiln.strategies.active.fit_map_models``: Kiln's GP on the completed experiments that
measured it, raw values) gives:

- the leave-one-out error, in closed form (Rasmussen and Williams 2006, eq. 5.12): with K the training covariance
  plus noise and alpha = K^-1 (y - mean), the prediction error at experiment i when it is left out is
  alpha_i / [K^-1]_ii (hyperparameters kept); ``loo_rmse`` (target units) and ``loo_r2`` = 1 - SSE / SST of them;
- ``mean_std``: the posterior standard deviation averaged over the pool's rows (or a Sobol sample of the space),
  target units;
- ``least_sure``: the unmeasured pool row (or sampled point) with the largest posterior standard deviation, in lab
  units, and that deviation.

``kiln show``, ``kiln export`` and the server's ``/campaigns/{name}/map`` (the dashboard's map panel) all read it.
torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kiln.core.records import Experiment
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.strategies.base import History, available_candidates

if TYPE_CHECKING:
    from kiln.models.gp import FittedGP

POINTS = 2048
"""Pool rows (a fixed subsample of larger pools) or Sobol points of a space over which the std is averaged."""


@dataclass(frozen=True)
class TargetMapError:
    """The map of one target. Every number is None until the target has two measured values that differ.

    Attributes:
        target: the target's name.
        measured: completed experiments with a value of it.
        loo_rmse / loo_r2: leave-one-out RMSE (target units) and R^2 of the GP.
        mean_std: mean posterior standard deviation over the pool or space (target units).
        least_sure: parameters (lab units) of the unmeasured point with the largest posterior std; its std.
    """

    target: str
    measured: int
    loo_rmse: float | None = None
    loo_r2: float | None = None
    mean_std: float | None = None
    least_sure: dict[str, Any] | None = None
    least_sure_std: float | None = None


@dataclass(frozen=True)
class MapError:
    """The map's error for every target of the objective, in target order."""

    targets: tuple[TargetMapError, ...]

    def to_json(self) -> dict[str, Any]:
        return {"targets": [asdict(t) for t in self.targets]}


def leave_one_out(gp: FittedGP) -> tuple[float, float]:
    """(RMSE in utility units, R^2) of the closed-form leave-one-out predictions of ``gp``'s training points."""
    import torch

    from kiln.models.fit_error import rmse_r2
    from kiln.models.gp import covariance

    model = gp.model
    X, z = model.train_inputs[0], model.train_targets
    with torch.no_grad():
        K = covariance(model.covar_module, X, X) + gp.noise * torch.eye(len(X), dtype=X.dtype)
        inverse = torch.cholesky_inverse(torch.linalg.cholesky(K))
        residual = z - model.mean_module(X).reshape(-1)
        errors = (inverse @ residual) / inverse.diagonal()
    errors_y = errors.numpy() * gp.y_std
    y = z.numpy() * gp.y_std + gp.y_mean
    return rmse_r2(y - errors_y, y)  # errors are y_i minus the prediction without point i


def map_error(domain: Domain, objective: Objective, experiments: Sequence[Experiment], *, seed: int = 0) -> MapError:
    """The estimated error of the map of every target, from the campaign's experiments (retracted ones left out)."""
    import numpy as np

    from kiln.models.gp import torch_threads
    from kiln.space.sampling import sample_points
    from kiln.strategies.active import MC_SEED, fit_map_models

    history = History.from_experiments(experiments)
    counts = {t.name: sum(1 for e in history.completed if t.name in e.results) for t in objective.targets}
    with torch_threads():
        fitted = fit_map_models(domain, objective, history, seed=seed)
        if fitted is None:
            return MapError(tuple(TargetMapError(name, count) for name, count in counts.items()))
        if isinstance(domain, CandidatePool):
            free = available_candidates(domain, history)
            keys = (
                free
                if len(free) <= POINTS
                else np.sort(np.random.default_rng(MC_SEED).choice(free, POINTS, replace=False))
            )
            points: list[dict[str, Any]] = [domain.row(int(k)) for k in keys]
            rows = (
                np.arange(len(domain))
                if len(domain) <= POINTS
                else np.sort(np.random.default_rng(MC_SEED).choice(len(domain), POINTS, replace=False))
            )
            X_all = domain.encoded[rows]
        else:
            points = sample_points(
                domain, min(POINTS, 256 if domain.constrained_names else POINTS), seed=MC_SEED, method="sobol"
            )
            X_all = domain.encode(points)
        X_free = domain.encode(points).reshape(-1, domain.dim) if points else np.zeros((0, domain.dim))
        out = []
        for name, count in counts.items():
            if name not in fitted.names:
                out.append(TargetMapError(name, count))
                continue
            gp = fitted.gps[fitted.column(name)]
            rmse, r2 = leave_one_out(gp)
            _, std_all = gp.posterior_mean_std(X_all)
            least, least_std = None, None
            if len(X_free):
                _, std_free = gp.posterior_mean_std(X_free)
                best = int(np.argmax(std_free))
                least, least_std = dict(points[best]), float(std_free[best])
            out.append(TargetMapError(name, count, rmse, r2, float(std_all.mean()), least, least_std))
    return MapError(tuple(out))


def map_error_lines(error: MapError, units: dict[str, str] | None = None) -> list[str]:
    """One line in words per target, e.g. ``y: 24 measured; leave-one-out RMSE 0.12 (R^2 0.91); mean std 0.08;
    least sure at a=0.5, b=1 (std 0.3)``."""
    lines = []
    for t in error.targets:
        unit = f" {units[t.target]}" if units and units.get(t.target) else ""
        if t.loo_rmse is None:
            lines.append(f"{t.target}: {t.measured} measured; too few values to estimate the map's error")
            continue
        text = (
            f"{t.target}: {t.measured} measured; leave-one-out RMSE {t.loo_rmse:.4g}{unit} (R^2 {t.loo_r2:.3f}); "
            f"mean std {t.mean_std:.4g}{unit}"
        )
        if t.least_sure is not None:
            where = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in t.least_sure.items())
            text += f"; least sure at {where} (std {t.least_sure_std:.4g}{unit})"
        lines.append(text)
    return lines
