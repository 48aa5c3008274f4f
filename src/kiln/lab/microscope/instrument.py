"""The simulated scanning-probe microscope: a Kiln instrument with the instruction set of an automated microscope.

Instructions (each waits its latency x ``time_scale`` and adds its cost to ``spent``; every call is recorded in
``log``):

- ``load_sample()``: builds (or takes from the cache) the sample; done on first use by the others;
- ``overview_scan()``: the overview image (size x size, the sample's image plus Gaussian ``noise.image``), cheap;
- ``spectrum(x, y)``: the spectrum at pixel (x, y), expensive: the stage drifts one step of a bounded random walk
  per spectrum (the pixel actually probed is the one asked for plus the drift's offset, rounded and kept inside the
  image), the signal's baseline drifts the same way, and every point gets Gaussian ``noise.spectrum``.

One tip does one thing at a time: instructions wait for each other (several experiments in flight queue up).
Everything random comes from generators fixed by ``seed``: the n-th overview scan, and the n-th spectrum's noise
and drift, are the same in every run.

As a Kiln instrument (``AsyncInstrument``, in-process), an experiment's parameters are ``{x, y}`` (pixel numbers);
its values are the rewards (``reward``: name -> function of the spectrum and its axis, see
``kiln.lab.microscope.rewards``), and its outputs hold the spectrum (``spectrum``: m floats), its ``axis`` (m
floats, with ``axis_name`` and ``axis_unit``) and the pixel actually probed (``probed``: [x, y]). Rerunning an
experiment is harmless (``replayable``). A pixel outside the image fails the experiment, naming it; so does a reward
that raises; a reward that is not a finite number is left unmeasured (its value kept in the outputs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError
from kiln.lab.adapters.tasks import TaskInstrument, observation
from kiln.lab.instrument import ExperimentFailed
from kiln.lab.microscope.rewards import RewardFunction
from kiln.lab.microscope.samples import Sample, make_sample
from kiln.lab.microscope.settings import MicroscopeSettings
from kiln.lab.protocol import Outcome

SIGNIFICANT = 6
"""Significant digits of the spectra stored in an experiment's outputs."""


@dataclass(frozen=True)
class SampleSpec:
    """Which sample to load: ``kind`` (``kiln.lab.microscope.samples.SAMPLE_KINDS``), ``seed``, ``size`` (pixels
    per side) and the kind's ``options``."""

    kind: str
    seed: int = 0
    size: int = 128
    options: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, value: Any) -> SampleSpec:
        """``{kind, seed, size, ...options}`` or a kind's name."""
        if isinstance(value, SampleSpec):
            return value
        if isinstance(value, str):
            value = {"kind": value}
        if not isinstance(value, Mapping) or "kind" not in value:
            raise ValidationError(
                "instrument: sample", value, "a map with kind, seed, size", "e.g. sample: {kind: ferroelectric}"
            )
        options = {str(k): v for k, v in value.items() if k not in ("kind", "seed", "size")}
        return cls(value["kind"], value.get("seed", 0), value.get("size", 128), options)

    def build(self) -> Sample:
        """The sample (cached per kind, seed, size and options); errors name the field at fault."""
        from kiln.core.errors import NotFoundError

        try:
            return make_sample(self.kind, self.seed, self.size, **dict(self.options or {}))
        except NotFoundError as error:
            raise ValidationError("instrument: sample: kind", self.kind, str(error), "") from None


@dataclass(frozen=True)
class Record:
    """One instruction carried out: its name, the simulated seconds it took and its cost."""

    instruction: str
    seconds: float
    cost: float


@dataclass(frozen=True)
class Reading:
    """A spectrum: the pixel asked for and the one probed (after drift), the values (m) and the axis (m)."""

    requested: tuple[int, int]
    probed: tuple[int, int]
    values: np.ndarray
    axis: np.ndarray


class MicroscopeInstrument(TaskInstrument):
    """See the module docstring.

    Args:
        sample: what to load (a ``SampleSpec``, or its map).
        rewards: value name -> reward function (``kiln.lab.microscope.rewards.resolve_rewards``).
        settings: latency, cost, noise, drift and time scale.
        name: the instrument's name.
        seed: fixes the noise and the drift.
    """

    def __init__(
        self,
        sample: SampleSpec | Mapping[str, Any] | str,
        rewards: Mapping[str, RewardFunction],
        *,
        settings: MicroscopeSettings | None = None,
        name: str = "microscope",
        seed: int = 0,
    ) -> None:
        super().__init__(name, replayable=True)
        if not rewards:
            raise ValidationError("instrument: reward", {}, "at least one reward", "e.g. reward: loop_area")
        self.sample_spec = SampleSpec.parse(sample)
        self.rewards = dict(rewards)
        self.settings = settings or MicroscopeSettings()
        self.seed = seed
        self.sample: Sample | None = None
        self.log: list[Record] = []
        self.spectra_taken = 0
        self.overviews_taken = 0
        self._stage = np.zeros(2)
        self._baseline = 0.0
        self._noise = np.random.default_rng([seed, 1])
        self._drift = np.random.default_rng([seed, 2])
        self._lock: asyncio.Lock | None = None

    @property
    def spent(self) -> float:
        """Total cost of the instructions carried out."""
        return sum(record.cost for record in self.log)

    @property
    def simulated_seconds(self) -> float:
        """Total simulated time of the instructions carried out."""
        return sum(record.seconds for record in self.log)

    def _record(self, instruction: str) -> float:
        """Log ``instruction``; the real seconds to wait for it."""
        seconds = self.settings.latency[instruction]
        self.log.append(Record(instruction, seconds, self.settings.cost[instruction]))
        return seconds * self.settings.time_scale

    # The instructions, synchronous: they log their latency and return at once (``sleep`` waits it out).

    def load_sample_now(self, *, sleep: bool = False) -> Sample:
        """``load_sample`` without asyncio."""
        self.sample = self.sample_spec.build()
        self._pause(self._record("load_sample"), sleep)
        return self.sample

    def overview_scan_now(self, *, sleep: bool = False) -> np.ndarray:
        """``overview_scan`` without asyncio: size x size."""
        sample = self.sample if self.sample is not None else self.load_sample_now(sleep=sleep)
        rng = np.random.default_rng([self.seed, 3, self.overviews_taken])
        self.overviews_taken += 1
        image = sample.image + rng.normal(0.0, self.settings.noise.image, size=sample.image.shape)
        self._pause(self._record("overview_scan"), sleep)
        return np.asarray(image, dtype=float)

    def spectrum_now(self, x: Any, y: Any, *, sleep: bool = False) -> Reading:
        """``spectrum(x, y)`` without asyncio."""
        sample = self.sample if self.sample is not None else self.load_sample_now(sleep=sleep)
        requested = sample.check_pixel(x, y)
        drift = self.settings.drift
        bound = drift.stage_max
        self._stage = np.clip(self._stage + self._drift.normal(0.0, drift.stage, size=2), -bound, bound)
        step = float(self._drift.normal(0.0, drift.baseline))
        self._baseline = float(np.clip(self._baseline + step, -drift.baseline_max, drift.baseline_max))
        probed = tuple(
            int(np.clip(round(coordinate + offset), 0, sample.size - 1))
            for coordinate, offset in zip(requested, self._stage, strict=True)
        )
        clean = sample.spectrum(probed[0], probed[1])
        values = clean + self._baseline + self._noise.normal(0.0, self.settings.noise.spectrum, size=clean.shape)
        self.spectra_taken += 1
        self._pause(self._record("spectrum"), sleep)
        return Reading(requested, (probed[0], probed[1]), values, sample.axis)

    @staticmethod
    def _pause(seconds: float, sleep: bool) -> None:
        if sleep and seconds > 0:
            time.sleep(seconds)

    # The instructions with asyncio: one at a time, each waiting its scaled latency.

    def _busy(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _wait(self, instruction: str) -> None:
        seconds = self.settings.latency[instruction] * self.settings.time_scale
        await asyncio.sleep(seconds if seconds > 0 else 0)

    async def _load_if_needed(self) -> Sample:
        """The loaded sample; loads it first (waiting its latency) when none is. Call with the lock held."""
        if self.sample is None:
            await self._wait("load_sample")
            return self.load_sample_now()
        return self.sample

    async def load_sample(self) -> Sample:
        """Load the sample (its latency and cost, again when one is loaded: a sample exchange)."""
        async with self._busy():
            await self._wait("load_sample")
            return self.load_sample_now()

    async def overview_scan(self) -> np.ndarray:
        """The overview image, size x size (loads the sample first if none is)."""
        async with self._busy():
            await self._load_if_needed()
            await self._wait("overview_scan")
            return self.overview_scan_now()

    async def spectrum(self, x: Any, y: Any) -> Reading:
        """The spectrum at pixel (x, y) (loads the sample first if none is)."""
        async with self._busy():
            sample = await self._load_if_needed()
            sample.check_pixel(x, y)
            await self._wait("spectrum")
            return self.spectrum_now(x, y)

    async def run(self, params: Mapping[str, Any], key: str = "") -> Outcome:
        missing = [name for name in ("x", "y") if name not in params]
        if missing:
            raise ValidationError(
                "microscope: parameters",
                sorted(params),
                f"an experiment needs the pixel's x and y (missing {missing})",
                "name the pool's or space's pixel columns x and y",
            )
        reading = await self.spectrum(params["x"], params["y"])
        values: dict[str, Any] = {}
        for name, reward in self.rewards.items():
            try:
                values[name] = float(reward(reading.values, reading.axis))
            except Exception as error:  # a reward that cannot be computed fails the experiment, with the reason
                raise ExperimentFailed(f"reward {name!r}: {type(error).__name__}: {error}") from None
        assert self.sample is not None
        outputs = {
            "spectrum": [float(f"{v:.{SIGNIFICANT}g}") for v in reading.values],
            "axis": [float(f"{v:.{SIGNIFICANT}g}") for v in reading.axis],
            "axis_name": self.sample.axis_name,
            "axis_unit": self.sample.axis_unit,
            "probed": list(reading.probed),
        }
        return observation(values, outputs)  # a reward that is not a finite number is kept in outputs, unmeasured
