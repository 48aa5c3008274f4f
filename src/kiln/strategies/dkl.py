"""Strategy ``dkl``: deep kernel learning on the image patches of a pool's candidates (``kiln.models.dkl``).

For a pool with an image (``kiln.space.pool_image``: a microscope's overview placed by pixel columns, or one image
per candidate), the strategy measures a few space-filling (or random) candidates first, then each ``propose``
trains the deep-kernel GP on the patches of the measured candidates and their utilities, embeds every available
candidate's patch, and scores all of them exactly (no subsampling) with the acquisition: UCB (mean + kappa * std),
log EI, or pure exploration (the largest posterior std). A batch is chosen one candidate at a time, each chosen one
joining the pending ones: UCB and exploration condition the GP on them at its posterior mean (the kriging believer,
``FittedGP.believe``), log EI scores jointly with them (BoTorch's qLogEI); so a batch does not repeat itself, and
experiments in flight are accounted for the same way.

torch, GPyTorch and BoTorch are imported inside the methods: importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from kiln.core.errors import SpecError, ValidationError
from kiln.models.dkl import DKLSettings
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.space.pool import CandidatePool
from kiln.strategies.acquisition import (
    UCB,
    Acquisition,
    LogEI,
    acquisition_from_config,
    build_acquisition,
    face,
    score,
)
from kiln.strategies.base import History, Proposal, available_candidates, pool_row
from kiln.strategies.simple import RandomStrategy, SpaceFillingStrategy

if TYPE_CHECKING:
    import numpy as np
    from botorch.acquisition import AcquisitionFunction
    from torch import Tensor

    from kiln.models.base import Surrogate
    from kiln.models.dkl import FittedDKL

DESIGNS = ("sobol", "random")
"""Initial designs: space-filling over the pool's model coordinates (the pixels of a pixel pool), or random."""


@dataclass(frozen=True)
class Explore(Acquisition):
    """Pure exploration: the posterior standard deviation (pending points folded in by the kriging believer)."""

    kind: ClassVar[str] = "explore"
    believer: ClassVar[bool] = True

    def function(self, fitted: Surrogate, pending: Tensor | None, seed: int) -> AcquisitionFunction:
        from botorch.acquisition.analytic import PosteriorStandardDeviation

        return PosteriorStandardDeviation(face(fitted))


DKL_ACQUISITIONS: dict[str, Callable[[], Acquisition]] = {"ucb": UCB, "ei": LogEI, "logei": LogEI, "explore": Explore}
"""The acquisitions of strategy ``dkl`` (``ei`` is log EI, stored as ``logei``)."""


def dkl_acquisition(value: Any, field: str = "strategy 'dkl': acquisition") -> Acquisition:
    """``ucb`` / ``{kind: ucb, kappa: 2.0}``, ``ei`` (or ``logei``) or ``explore``, or an Acquisition of those
    kinds; SpecError naming ``field`` otherwise."""
    if isinstance(value, Explore | UCB | LogEI):
        return value
    kind = value.get("kind") if isinstance(value, Mapping) else value
    if not isinstance(kind, str) or kind not in DKL_ACQUISITIONS:
        raise SpecError(
            field, value, f"strategy 'dkl' takes the acquisitions {sorted(DKL_ACQUISITIONS)}", "e.g. ucb or ei"
        )
    if kind == "explore":
        if isinstance(value, Mapping) and set(value) - {"kind"}:
            raise SpecError(f"{field}: explore", sorted(set(value) - {"kind"}), "explore takes no settings", "")
        return Explore()
    if kind == "ei":
        value = {**value, "kind": "logei"} if isinstance(value, Mapping) else "logei"
    return acquisition_from_config(value, field)


@dataclass(frozen=True)
class DKLStrategy:
    """Deep kernel learning on a pool with an image.

    Args:
        acquisition: ``UCB(kappa=2.0)`` (default; ``{kind: ucb, kappa: ...}``), ``LogEI()`` (``ei``) or
            ``Explore()`` (``explore``), read by ``dkl_acquisition``.
        initial: experiments (measured or running; prior data counts) chosen by ``initial_design`` before the
            model takes over; the model needs two completed ones with different results in any case.
        initial_design: "sobol" (space-filling over the pool's model coordinates) or "random".
        features, channels, kernel, iterations: the model's settings (``kiln.models.dkl.DKLSettings``).
        coordinates: the GP also sees each candidate's model coordinates (the normalised pixel position of a
            pixel pool) beside the learned features.
    """

    acquisition: Acquisition = field(default_factory=UCB)
    initial: int = 8
    initial_design: str = "sobol"
    features: int = 2
    channels: int = 8
    kernel: str = "matern52"
    iterations: int = 200
    coordinates: bool = True
    kind: ClassVar[str] = "dkl"

    def __post_init__(self) -> None:
        where = "strategy 'dkl'"
        object.__setattr__(self, "acquisition", dkl_acquisition(self.acquisition, f"{where}: acquisition"))
        if isinstance(self.initial, bool) or not isinstance(self.initial, int) or self.initial < 0:
            raise ValidationError(f"{where}: initial", self.initial, "a whole number >= 0 is required", "e.g. 8")
        if self.initial_design not in DESIGNS:
            raise ValidationError(
                f"{where}: initial_design", self.initial_design, f"one of {list(DESIGNS)}", "e.g. sobol"
            )
        if not isinstance(self.coordinates, bool):
            raise ValidationError(f"{where}: coordinates", self.coordinates, "true or false", "e.g. true")
        try:
            self.settings  # noqa: B018 - checks the model's settings now rather than at the first ask
        except ValidationError as error:
            raise ValidationError(
                error.field.replace("dkl:", f"{where}:"), error.value, error.allowed, error.fix
            ) from None

    @property
    def settings(self) -> DKLSettings:
        return DKLSettings(
            features=self.features, channels=self.channels, kernel=self.kernel, iterations=self.iterations
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "acquisition": self.acquisition.to_config(),
            "initial": self.initial,
            "initial_design": self.initial_design,
            "features": self.features,
            "channels": self.channels,
            "kernel": self.kernel,
            "iterations": self.iterations,
            "coordinates": self.coordinates,
        }

    # ------------------------------------------------------------------------------------------- checks
    def check_domain(self, domain: Domain) -> None:
        """SpecError unless the domain is a pool with an image (``kiln.space.pool_image``)."""
        if not isinstance(domain, CandidatePool) or domain.image is None:
            what = "a search space" if not isinstance(domain, CandidatePool) else "a pool without an image"
            raise SpecError(
                "strategy 'dkl'",
                what,
                "strategy 'dkl' needs a pool with an image: an overview placed by pixel columns or one image per "
                "candidate",
                "give the pool an image (pool: {csv: ..., image: {npy: overview.npy, patch: 9}} or "
                "kiln.space.pool_image.pixel_pool), or use another strategy",
            )

    def check_objective(self, objective: Objective) -> None:
        """SpecError unless the objective is one utility (one target, or a scalarisation) without constraints."""
        if objective.constraints or objective.is_multi:
            what = "outcome constraints" if objective.constraints else "several targets without a scalarisation"
            raise SpecError(
                "strategy 'dkl'",
                what,
                "this strategy models one utility: one target, or several with a scalarisation, no constraints",
                "scalarise the targets (objective.scalarisation), or use strategy 'default' or 'multi'",
            )

    # ------------------------------------------------------------------------------------------- proposing
    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        """Up to ``n`` distinct candidates (fewer only when the pool runs out); deterministic for a given seed."""
        import numpy as np

        from kiln.models.gp import torch_threads

        self.check_domain(domain)
        self.check_objective(objective)
        assert isinstance(domain, CandidatePool)
        free = available_candidates(domain, history)
        if n <= 0 or len(free) == 0:
            return []
        measured = [(k, e) for e in history.completed if (k := pool_row(domain, e)) is not None]
        y = np.array(objective.utilities([e.results for _, e in measured]), dtype=float).reshape(-1)
        started = len(history.completed) + len(history.pending)
        if started < self.initial or len(y) < 2 or float(np.ptp(y)) <= 0.0:
            design = SpaceFillingStrategy() if self.initial_design == "sobol" else RandomStrategy()
            return design.propose(domain, objective, history, n, seed=seed)
        seeds = [int(s) for s in np.random.default_rng(seed).integers(0, 2**31 - 1, size=n)]
        with torch_threads():
            fitted = self.fit(domain, [k for k, _ in measured], y, seed=seed)
            Z = self.embed(domain, fitted, free)
            running = [k for e in history.pending if (k := pool_row(domain, e)) is not None]
            pending = self.embed(domain, fitted, np.array(running, dtype=int))
            return self._choose(domain, fitted, free, Z, pending, n, seeds)

    def predict(
        self, domain: Domain, objective: Objective, history: History, *, seed: int = 0
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """The model's map of the pool: predictive mean and std of the utility (the target's value when maximised,
        its negative when minimised) at every pool row, each (N,) in row-key order, from the model an ask with
        this history and seed trains; None while there is nothing to learn (fewer than two completed experiments
        or no spread in their results). For a pixel pool at stride 1, ``mean.reshape(H, W)`` is the reward map."""
        import numpy as np

        from kiln.models.gp import torch_threads

        self.check_domain(domain)
        self.check_objective(objective)
        assert isinstance(domain, CandidatePool)
        measured = [(k, e) for e in history.completed if (k := pool_row(domain, e)) is not None]
        y = np.array(objective.utilities([e.results for _, e in measured]), dtype=float).reshape(-1)
        if len(y) < 2 or float(np.ptp(y)) <= 0.0:
            return None
        with torch_threads():
            fitted = self.fit(domain, [k for k, _ in measured], y, seed=seed)
            return fitted.posterior_mean_std(self.embed(domain, fitted, np.arange(len(domain))))

    def fit(self, pool: CandidatePool, keys: Any, y: np.ndarray, *, seed: int) -> FittedDKL:
        """The deep-kernel GP on the patches (and coordinates) of the pool rows ``keys`` and utilities y."""
        import numpy as np

        from kiln.models.dkl import fit_dkl

        keys = np.asarray(keys, dtype=int)
        coordinates = np.array(pool.encoded[keys]) if self.coordinates else None
        return fit_dkl(pool.patches(keys), y, coordinates=coordinates, settings=self.settings, seed=seed)

    def embed(self, pool: CandidatePool, fitted: FittedDKL, keys: np.ndarray) -> np.ndarray:
        """The embedded inputs (m x fitted.dim) of the pool rows ``keys``."""
        import numpy as np

        if len(keys) == 0:
            return np.zeros((0, fitted.dim))
        coordinates = np.array(pool.encoded[keys]) if self.coordinates else None
        return fitted.embed(pool.patches(keys), coordinates)

    def _choose(
        self,
        pool: CandidatePool,
        fitted: FittedDKL,
        free: np.ndarray,
        Z: np.ndarray,
        pending: np.ndarray,
        n: int,
        seeds: list[int],
    ) -> list[Proposal]:
        """Score every available candidate exactly; take the best (the lowest row key among equal values);
        repeat with it pending."""
        import numpy as np

        alive = np.ones(len(free), dtype=bool)
        proposals: list[Proposal] = []
        for i in range(min(n, len(free))):
            rows = np.flatnonzero(alive)
            bound = build_acquisition(
                self.acquisition, fitted.gp, pending=pending if len(pending) else None, seed=seeds[i]
            )
            values = np.round(score(bound, Z[rows]), 12)
            best = int(rows[int(np.argmax(values))])
            alive[best] = False
            pending = np.vstack([pending.reshape(-1, fitted.dim), Z[best]])
            key = int(free[best])
            proposals.append(Proposal(pool.row(key), key))
        return proposals


__all__ = ["DKLStrategy", "Explore", "dkl_acquisition"]
