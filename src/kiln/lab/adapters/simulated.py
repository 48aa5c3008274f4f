"""A simulated instrument: a dataset emulator or any Python function, with the habits of real hardware.

It reports every value its source gives (e.g. yield and cost), waits a random time per experiment (``latency``),
adds Gaussian noise to each value (``noise``: one standard deviation in each value's units, or a map name -> one),
fails at random (``failure_probability``) and fails, with its own probability, inside ``failure_regions`` (boxes
of the parameter space, e.g. compositions that do not form a film). Everything random is drawn from one generator
fixed by ``seed``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError
from kiln.lab.adapters.tasks import TaskInstrument, observation
from kiln.lab.protocol import Failure, Observation, Outcome

LATENCY_KINDS = ("fixed", "uniform", "lognormal")


@dataclass(frozen=True)
class Latency:
    """Seconds an experiment takes: "fixed" (``seconds``), "uniform" (between ``low`` and ``high``) or
    "lognormal" (median ``seconds``, log-space spread ``sigma``)."""

    kind: str = "fixed"
    seconds: float = 0.0
    low: float = 0.0
    high: float = 0.0
    sigma: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in LATENCY_KINDS:
            raise ValidationError("instrument: latency: kind", self.kind, f"one of {list(LATENCY_KINDS)}", "e.g. fixed")
        for name in ("seconds", "low", "high", "sigma"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValidationError(f"instrument: latency: {name}", value, "a finite number >= 0", "e.g. 1.5")
        if self.high < self.low:
            raise ValidationError(
                "instrument: latency: high", self.high, f"high must be >= low ({self.low})", "swap them"
            )

    @classmethod
    def parse(cls, spec: float | Mapping[str, Any] | Latency | None) -> Latency:
        """A number of seconds, a mapping of the fields, or None (instant)."""
        if spec is None:
            return cls()
        if isinstance(spec, Latency):
            return spec
        if isinstance(spec, int | float) and not isinstance(spec, bool):
            return cls("fixed", float(spec))
        if isinstance(spec, Mapping):
            unknown = sorted(set(spec) - {"kind", "seconds", "low", "high", "sigma"})
            if unknown:
                raise ValidationError(
                    "instrument: latency", unknown, "keys kind, seconds, low, high, sigma", "remove them"
                )
            return cls(**dict(spec))
        raise ValidationError("instrument: latency", spec, "seconds, or a mapping with kind and its numbers", "e.g. 2")

    def draw(self, rng: np.random.Generator) -> float:
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        if self.kind == "lognormal":
            return float(self.seconds * math.exp(rng.normal(0.0, self.sigma)))
        return self.seconds


@dataclass(frozen=True)
class FailureRegion:
    """A box of the parameter space: numeric parameter -> (low, high) bounds, categorical -> allowed values; an
    experiment inside every bound fails with ``probability``."""

    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    probability: float = 1.0
    reason: str = "failed inside a failure region"

    def __post_init__(self) -> None:
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 <= p <= 1.0:
            raise ValidationError("failure_regions: probability", p, "a number in [0, 1]", "e.g. 1.0")
        if not self.bounds and not self.values:
            raise ValidationError("failure_regions", {}, "at least one parameter bound", "e.g. {x: [0.2, 0.4]}")

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> FailureRegion:
        """``{"where": {name: [low, high] or [value, ...] of strings}, "probability": p, "reason": text}``."""
        if isinstance(spec, Mapping) and set(spec) - {"where", "probability", "reason"}:
            raise ValidationError(
                "failure_regions",
                sorted(set(spec) - {"where", "probability", "reason"}),
                "a failure region has where, probability and reason",
                "check the spelling",
            )
        if not isinstance(spec, Mapping) or not isinstance(spec.get("where"), Mapping):
            raise ValidationError(
                "failure_regions", spec, "a mapping with 'where': {parameter: [low, high]}", "e.g. where: {x: [0, 0.3]}"
            )
        bounds: dict[str, tuple[float, float]] = {}
        values: dict[str, tuple[Any, ...]] = {}
        for name, rule in spec["where"].items():
            numeric = (
                isinstance(rule, Sequence)
                and len(rule) == 2
                and all(isinstance(v, int | float) and not isinstance(v, bool) for v in rule)
            )
            if numeric and float(rule[0]) <= float(rule[1]):
                bounds[str(name)] = (float(rule[0]), float(rule[1]))
            elif isinstance(rule, Sequence) and not isinstance(rule, str) and rule and not numeric:
                values[str(name)] = tuple(rule)
            else:
                raise ValidationError(
                    f"failure_regions: where: {name}",
                    rule,
                    "[low, high] with low <= high, or a list of values",
                    "e.g. [0, 0.3]",
                )
        extra = {k: spec[k] for k in ("probability", "reason") if k in spec}
        return cls(bounds, values, **extra)

    def contains(self, params: Mapping[str, Any]) -> bool:
        for name, (low, high) in self.bounds.items():
            value = params.get(name)
            if not isinstance(value, int | float) or not low <= float(value) <= high:
                return False
        return all(params.get(name) in allowed for name, allowed in self.values.items())


class SimulatedInstrument(TaskInstrument):
    """``source(params) -> values`` behind latency, noise and failures (see the module docstring).

    ``replayable``: experiments in flight at a crash may simply be sent again (a pure lookup or simulation); by
    default a simulated instrument behaves like hardware, and such experiments are flagged for the operator."""

    def __init__(
        self,
        source: Callable[[Mapping[str, Any]], Mapping[str, float]],
        *,
        name: str = "simulated",
        latency: float | Mapping[str, Any] | Latency | None = None,
        noise: float | Mapping[str, float] = 0.0,
        failure_probability: float = 0.0,
        failure_regions: Sequence[FailureRegion | Mapping[str, Any]] = (),
        seed: int = 0,
        time_scale: float = 1.0,
        replayable: bool = False,
    ) -> None:
        spreads = dict(noise) if isinstance(noise, Mapping) else {"noise": noise}
        checks = [(f"noise: {k}" if isinstance(noise, Mapping) else "noise", v, math.inf) for k, v in spreads.items()]
        for field_name, value, high in (*checks, ("failure_probability", failure_probability, 1.0)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= high:
                raise ValidationError(f"instrument: {field_name}", value, f"a number in [0, {high:g}]", "e.g. 0")
        bad_scale = isinstance(time_scale, bool) or not isinstance(time_scale, int | float)
        if bad_scale or not math.isfinite(time_scale) or time_scale < 0:
            raise ValidationError("instrument: time_scale", time_scale, "a number >= 0", "e.g. 1 (0: instant)")
        super().__init__(name, replayable=replayable)
        self.source = source
        self.latency = Latency.parse(latency)
        self.noise: float | dict[str, float] = (
            {str(k): float(v) for k, v in noise.items()} if isinstance(noise, Mapping) else float(noise)
        )
        self.failure_probability = float(failure_probability)
        self.failure_regions = [r if isinstance(r, FailureRegion) else FailureRegion.parse(r) for r in failure_regions]
        self.time_scale = float(time_scale)
        self._rng = np.random.default_rng(seed)

    def _spread(self, name: str) -> float:
        """The noise standard deviation of the value called ``name``."""
        return self.noise.get(name, 0.0) if isinstance(self.noise, dict) else self.noise

    def in_failure_region(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` lies in any failure region."""
        return any(region.contains(params) for region in self.failure_regions)

    async def run(self, params: Mapping[str, Any], key: str = "") -> Outcome:
        delay = self.latency.draw(self._rng) * self.time_scale
        chance = self._rng.random()
        regions = [region for region in self.failure_regions if region.contains(params)]
        region_draws = [self._rng.random() for _ in regions]
        noise = self._rng.normal(0.0, 1.0, size=16)
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            await asyncio.sleep(0)
        for region, draw in zip(regions, region_draws, strict=True):
            if draw < region.probability:
                return Failure(region.reason)
        if chance < self.failure_probability:
            return Failure("simulated random failure")
        measured = observation(dict(self.source(params)))
        values = {
            k: v + self._spread(k) * float(noise[i % len(noise)]) for i, (k, v) in enumerate(measured.values.items())
        }
        return Observation(values, measured.outputs)
