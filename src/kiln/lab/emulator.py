"""Emulators of real experiments: look up a measured dataset, optionally with noise."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kiln.core.errors import SpecError, ValidationError
from kiln.lab.datasets import dataset_info, grouped, load_dataset
from kiln.lab.instrument import ExperimentFailed
from kiln.space.pool import CandidatePool

if TYPE_CHECKING:
    import pandas as pd


class DatasetEmulator:
    """A simulated instrument that answers with a dataset's measured value for the requested input row.

    Identical input rows of the dataset are merged (mean of the distinct replicate values). A point that is not a
    row of the dataset fails. ``noise`` adds Gaussian noise of that standard deviation (target units).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        inputs: Sequence[str],
        target: str,
        *,
        direction: str = "max",
        noise: float = 0.0,
        seed: int = 0,
        name: str = "emulator",
    ) -> None:
        if not math.isfinite(noise) or noise < 0:
            raise ValidationError("instrument: noise", noise, "a finite number >= 0 is required", "e.g. noise: 0")
        self.name = name
        self.target = target
        self.direction = direction
        self.noise = float(noise)
        self.table = grouped(frame, list(inputs), target)
        self.pool = CandidatePool.from_dataframe(self.table, list(inputs))
        self.values = np.asarray(self.table[target], dtype=float)
        self._rng = np.random.default_rng(seed)

    @classmethod
    def builtin(cls, dataset: str, *, noise: float = 0.0, seed: int = 0) -> DatasetEmulator:
        """The emulator of a built-in dataset: 'p3ht', 'crossed-barrel' or 'suzuki'."""
        info = dataset_info(dataset)
        return cls(
            load_dataset(dataset),
            info.inputs,
            info.target,
            direction=info.direction,
            noise=noise,
            seed=seed,
            name=dataset,
        )

    def reseed(self, seed: int) -> None:
        """Restart the noise generator from ``seed`` (a resumed run passes a seed that depends on its progress)."""
        self._rng = np.random.default_rng(seed)

    def check_compatible(self, inputs: Sequence[str], targets: Sequence[str]) -> None:
        """SpecError unless a campaign with these input and target names can be run on this emulator."""
        if sorted(inputs) != sorted(self.pool.columns):
            raise SpecError(
                "space/pool",
                sorted(inputs),
                f"the {self.name} emulator measures points with exactly the inputs {self.pool.columns}",
                f"use pool: {{dataset: {self.name}}}",
            )
        if list(targets) != [self.target]:
            raise SpecError(
                "objective: target",
                list(targets),
                f"the {self.name} emulator measures {self.target!r}",
                f"set target: {self.target!r}",
            )

    def measure(self, params: Mapping[str, Any]) -> dict[str, float]:
        key = self.pool.key_of(params)
        if key is None:
            raise ExperimentFailed(f"{self.name}: no measurement in the dataset for {dict(params)}")
        value = float(self.values[key])
        if self.noise:
            value += float(self._rng.normal(0.0, self.noise))
        return {self.target: value}

    def top_keys(self, fraction: float = 0.05, direction: str | None = None) -> set[int]:
        """Row keys of the best ceil(fraction * N) candidates for ``direction`` (default: the dataset's)."""
        count = math.ceil(fraction * len(self.values))
        maximise = (direction or self.direction) == "max"
        order = np.argsort(-self.values if maximise else self.values, kind="stable")
        return {int(k) for k in order[:count]}
