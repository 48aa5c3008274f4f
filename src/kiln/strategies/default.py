"""The default strategy: a few space-filling points, then Bayesian optimisation with a GP.

The BO settings (ARD Matern-5/2 GP on power-transformed utilities, UCB with kappa = 2) were chosen on the pool
backtests of docs/benchmarks.md; the same settings serve every dataset. Several targets (without a scalarisation)
or outcome constraints hand the BO phase to the multi-objective strategy (``kiln.strategies.multi_objective``:
qLogNEHVI, qLogNParEGO above four targets, constrained qLogNEI for one target) after ``initial_multi``
experiments: its acquisitions explore through the models' uncertainty from the start, and on the development sets
three more space-filling points cost about four cycles to 95 % of the Pareto front's hypervolume
(docs/benchmarks.md, "Several objectives"). A scalarised objective is one utility, optimised like a single
target.

With ``goal: map`` in the objective the strategy maps instead (``kiln.strategies.active``): after ``initial``
space-filling experiments, the ``MapStrategy`` with the acquisition ``mapping``. Its default is ``spacefill``
(greedy maximin, no model): on the two mapping backtests of docs/benchmarks.md ("Mapping") it reached random
sampling's R^2 sooner than integrated posterior variance reduction (``ipv``) and the largest variance, which did
not beat random sampling there; ``ipv`` and ``variance`` are one option away."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kiln.core.errors import ValidationError
from kiln.objective import Objective
from kiln.space.config import Domain
from kiln.strategies.acquisition import UCB, Acquisition, acquisition_from_config
from kiln.strategies.active import MapStrategy, check_map_acquisition
from kiln.strategies.base import History, Proposal
from kiln.strategies.simple import SpaceFillingStrategy


@dataclass(frozen=True)
class DefaultStrategy:
    """Space-filling until ``initial`` experiments exist (measured or running), then BO: the BayesStrategy for
    one utility, the MultiObjectiveStrategy (its defaults, with this kernel) for several targets or outcome
    constraints, after ``initial_multi`` experiments. The models need two completed experiments in every case.

    Args:
        initial: experiments before the model takes over (prior data counts), one utility.
        initial_multi: the same for several targets (without a scalarisation) or outcome constraints.
        kernel, acquisition, transform: passed to the BayesStrategy; the acquisition carries its own settings
            (``UCB(kappa=2.0)`` by default; a kind or a config map is read with ``acquisition_from_config``).
        mapping: the MapStrategy's acquisition when the objective's goal is map: "spacefill" (default), "ipv",
            "variance", "igs" or "medoids".
    """

    initial: int = 5
    initial_multi: int = 2
    kernel: str = "matern52"
    acquisition: Acquisition = field(default_factory=UCB)
    transform: str = "power"
    mapping: str = "spacefill"
    kind: ClassVar[str] = "default"

    def __post_init__(self) -> None:
        for name, example in (("initial", 5), ("initial_multi", 2)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(f"strategy: {name}", value, "a whole number >= 0 is required", f"e.g. {example}")
        object.__setattr__(
            self, "acquisition", acquisition_from_config(self.acquisition, "strategy 'default': acquisition")
        )
        check_map_acquisition(self.mapping, "strategy 'default': mapping")
        self.bayes  # noqa: B018 - validates the BO settings now rather than at the first ask

    @property
    def bayes(self) -> Any:
        from kiln.strategies.bayes import BayesStrategy

        return BayesStrategy(kernel=self.kernel, acquisition=self.acquisition, transform=self.transform)

    def check_domain(self, domain: Domain) -> None:
        """SpecError when the BO phase cannot model ``domain`` (Thompson sampling on fingerprints or elements)."""
        self.bayes.check_domain(domain)

    def propose(self, domain: Domain, objective: Objective, history: History, n: int, *, seed: int) -> list[Proposal]:
        if objective.is_map:
            if len(history.completed) + len(history.pending) < self.initial:
                return SpaceFillingStrategy().propose(domain, objective, history, n, seed=seed)
            strategy = MapStrategy(acquisition=self.mapping, kernel=self.kernel, transform=self.transform)
            return strategy.propose(domain, objective, history, n, seed=seed)
        several = objective.is_multi or bool(objective.constraints)
        started = len(history.completed) + len(history.pending)
        if started < (self.initial_multi if several else self.initial) or len(history.completed) < 2:
            return SpaceFillingStrategy().propose(domain, objective, history, n, seed=seed)
        if several:
            from kiln.strategies.multi_objective import MultiObjectiveStrategy

            return MultiObjectiveStrategy(kernel=self.kernel).propose(domain, objective, history, n, seed=seed)
        proposals: list[Proposal] = self.bayes.propose(domain, objective, history, n, seed=seed)
        return proposals

    def to_config(self) -> dict[str, Any]:
        """The settings; ``mapping`` only where it differs from its default, so configs stored before it existed
        are unchanged."""
        config: dict[str, Any] = {
            "kind": self.kind,
            "initial": self.initial,
            "initial_multi": self.initial_multi,
            "kernel": self.kernel,
            "acquisition": self.acquisition.to_config(),
            "transform": self.transform,
        }
        if self.mapping != DefaultStrategy.__dataclass_fields__["mapping"].default:
            config["mapping"] = self.mapping
        return config
