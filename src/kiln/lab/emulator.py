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
    """A simulated instrument that answers with a dataset's measured values for the requested input row.

    ``target`` names the measured column (or, as a list, the columns) it reports, every one for each experiment;
    the first is the one ``top_keys`` ranks by. Identical input rows of the dataset are merged (mean of the
    distinct replicate values, column by column). A point that is not a row of the dataset fails. ``noise`` adds
    Gaussian noise of that standard deviation: one number for every column (in each column's units), or a map
    column -> standard deviation (columns left out get none). ``report`` (a list of some of those columns) makes it
    report only those: an instrument that measures part of the quantities, whose experiments are stored as partial
    results awaiting the rest (e.g. ``report: [yield]`` on suzuki-ii, and turnover is told later).
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        inputs: Sequence[str],
        target: str | Sequence[str],
        *,
        direction: str = "max",
        noise: float | Mapping[str, float] = 0.0,
        seed: int = 0,
        name: str = "emulator",
        report: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self.columns = [target] if isinstance(target, str) else [str(c) for c in target]
        if not self.columns:
            raise ValidationError("instrument: target", list(self.columns), "one or more measured columns", "name one")
        self.report = _report(report, self.columns, name)
        self.target = self.columns[0]
        self.direction = direction
        self.noise = _noise(noise, self.columns)
        self.table = grouped(frame, list(inputs), self.columns)
        self.pool = CandidatePool.from_dataframe(self.table, list(inputs))
        self.measured = {c: np.asarray(self.table[c], dtype=float) for c in self.columns}
        self.values = self.measured[self.target]
        self._rng = np.random.default_rng(seed)

    @classmethod
    def builtin(
        cls,
        dataset: str,
        *,
        noise: float | Mapping[str, float] = 0.0,
        seed: int = 0,
        report: Sequence[str] | None = None,
    ) -> DatasetEmulator:
        """The emulator of a built-in dataset (``kiln.lab.datasets``), reporting every column it measured (or the
        columns of ``report``)."""
        info = dataset_info(dataset)
        return cls(
            load_dataset(dataset),
            info.inputs,
            list(info.columns),
            direction=info.direction,
            noise=noise,
            seed=seed,
            name=dataset,
            report=report,
        )

    def reseed(self, seed: int) -> None:
        """Restart the noise generator from ``seed`` (a resumed run passes a seed that depends on its progress)."""
        self._rng = np.random.default_rng(seed)

    def check_compatible(self, inputs: Sequence[str], targets: Sequence[str]) -> None:
        """SpecError unless a campaign with these input names and measured quantities (targets and constrained
        quantities) can be run on this emulator: it must measure every one of them, and report at least one (with
        ``report``, the others are told later)."""
        if sorted(inputs) != sorted(self.pool.columns):
            raise SpecError(
                "space/pool",
                sorted(inputs),
                f"the {self.name} emulator measures points with exactly the inputs {self.pool.columns}",
                f"use pool: {{dataset: {self.name}}}",
            )
        unknown = [t for t in targets if t not in self.columns]
        if unknown:
            measured = self.target if len(self.columns) == 1 else self.columns
            raise SpecError(
                "objective: target",
                list(targets),
                f"the {self.name} emulator measures {measured!r}; it cannot report {unknown}",
                f"set target: {self.target!r}" if len(self.columns) == 1 else f"use targets among {self.columns}",
            )
        if not set(targets) & set(self.report):
            raise SpecError(
                "instrument: report",
                list(self.report),
                f"the {self.name} emulator reports {self.report}, none of the objective's quantities {list(targets)}",
                f"report one of them, e.g. report: [{targets[0]}]" if targets else "report one of them",
            )

    def measure(self, params: Mapping[str, Any]) -> dict[str, float]:
        """Every reported column's value at the dataset row of ``params`` (with noise); ExperimentFailed when no
        row matches."""
        key = self.pool.key_of(params)
        if key is None:
            raise ExperimentFailed(f"{self.name}: no measurement in the dataset for {dict(params)}")
        values = {}
        for column in self.report:
            value = float(self.measured[column][key])
            if self.noise.get(column):
                value += float(self._rng.normal(0.0, self.noise[column]))
            values[column] = value
        return values

    def top_keys(self, fraction: float = 0.05, direction: str | None = None) -> set[int]:
        """Row keys of the best ceil(fraction * N) candidates for ``direction`` (default: the dataset's)."""
        count = math.ceil(fraction * len(self.values))
        maximise = (direction or self.direction) == "max"
        order = np.argsort(-self.values if maximise else self.values, kind="stable")
        return {int(k) for k in order[:count]}


def _report(report: Any, columns: Sequence[str], name: str) -> list[str]:
    """The columns an emulator reports: every measured column (``report`` None) or the ones listed;
    ValidationError naming the unknown ones."""
    if report is None:
        return list(columns)
    fix = f"e.g. report: [{columns[0]}]"
    if isinstance(report, str) or not isinstance(report, Sequence) or not report:
        raise ValidationError("instrument: report", report, f"a non-empty list of the {name} dataset's columns", fix)
    unknown = [c for c in report if c not in columns]
    if unknown:
        raise ValidationError(
            "instrument: report", list(report), f"the {name} dataset measures {list(columns)}; unknown {unknown}", fix
        )
    if len(set(report)) != len(report):
        raise ValidationError("instrument: report", list(report), "each column once", "remove the duplicates")
    return [str(c) for c in report]


def _noise(noise: Any, columns: Sequence[str]) -> dict[str, float]:
    """Column -> noise standard deviation from one number (every column) or a map; ValidationError if bad."""
    given = noise if isinstance(noise, Mapping) else dict.fromkeys(columns, noise)
    unknown = sorted(str(k) for k in given if k not in columns)
    if unknown:
        raise ValidationError("instrument: noise", dict(given), f"noise of the measured columns {list(columns)}", "")
    checked = {}
    for column, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValidationError("instrument: noise", noise, "a finite number >= 0 is required", "e.g. noise: 0")
        checked[str(column)] = float(value)
    return checked
