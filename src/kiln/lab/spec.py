"""Run specifications: the YAML file that names a campaign, its space or pool, objective, strategy and instrument.

Example (``examples/p3ht.yaml``)::

    name: p3ht-demo
    instrument: {kind: emulator, dataset: p3ht}
    pool: {dataset: p3ht}
    objective: {target: "Conductivity (measured) (S/cm)", direction: max}
    strategy: {kind: default}
    budget: 60
    seed: 0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiln.campaign.config import CampaignConfig
from kiln.core.errors import NotFoundError, SpecError
from kiln.lab.datasets import dataset_info, grouped, load_dataset
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.instrument import Instrument
from kiln.objective import Objective, objective_from_config
from kiln.space.config import Domain, space_from_config
from kiln.space.pool import CandidatePool
from kiln.strategies.registry import strategy_from_config

SPEC_FIELDS = {"name", "description", "space", "pool", "objective", "strategy", "instrument", "budget", "batch", "seed"}


@dataclass(frozen=True)
class RunSpec:
    """A parsed specification. ``instrument`` is None for campaigns run by hand (ask/tell)."""

    name: str
    config: CampaignConfig
    instrument: Mapping[str, Any] | None
    budget: int | None
    batch: int
    source: Path | None = None

    def build_instrument(self, seed: int = 0) -> Instrument:
        """The instrument the spec names. Raises SpecError if it names none or an unknown kind."""
        if self.instrument is None:
            raise SpecError(
                "instrument",
                None,
                "kiln run needs an instrument",
                "add instrument: {kind: emulator, dataset: p3ht}, or use kiln ask/tell",
            )
        return instrument_from_config(self.instrument, seed=seed)


def load_spec(path: str | Path) -> RunSpec:
    """Read and check a YAML spec file. Raises SpecError naming the field at fault."""
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("spec", str(path), "the file does not exist", "check the path") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise SpecError("spec", str(path), f"valid YAML is required ({problem}{line})", "fix the syntax") from None
    return spec_from_dict(document, base=file.parent, source=file)


def spec_from_dict(document: Any, *, base: Path = Path(), source: Path | None = None) -> RunSpec:
    """Check a spec given as a dict; relative CSV paths are read from ``base``."""
    if not isinstance(document, Mapping):
        raise SpecError("spec", document, "a YAML map is required", "see examples/p3ht.yaml")
    unknown = sorted(set(document) - SPEC_FIELDS)
    if unknown:
        raise SpecError("spec", unknown, f"known fields are {sorted(SPEC_FIELDS)}", "remove or rename them")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise SpecError("name", name, "every spec needs a campaign name", "add name: my-campaign")
    if "objective" not in document:
        raise SpecError(
            "objective", None, "every spec needs an objective", "add objective: {target: NAME, direction: max}"
        )
    objective = objective_from_config(document["objective"])
    instrument = document.get("instrument")
    if instrument is not None and not isinstance(instrument, Mapping):
        raise SpecError("instrument", instrument, "a map is required", "e.g. {kind: emulator, dataset: p3ht}")
    domain = _domain(document, objective, instrument, base)
    seed = document.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SpecError("seed", seed, "a whole number >= 0 is required", "e.g. seed: 0")
    config = CampaignConfig(domain, objective, strategy_from_config(document.get("strategy")), seed)
    return RunSpec(
        name=name,
        config=config,
        instrument=dict(instrument) if instrument is not None else None,
        budget=_count(document, "budget", None),
        batch=_count(document, "batch", 1) or 1,
        source=source,
    )


def _count(document: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = document.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(key, value, "a whole number >= 1 is required", f"e.g. {key}: 10")
    return value


def _domain(document: Mapping[str, Any], objective: Objective, instrument: Any, base: Path) -> Domain:
    if ("space" in document) == ("pool" in document):
        raise SpecError(
            "space/pool",
            sorted(k for k in ("space", "pool") if k in document),
            "exactly one of space and pool is required",
            "declare parameters under space, or a table of candidates under pool",
        )
    if "space" in document:
        return space_from_config(document["space"])
    pool = document["pool"]
    if not isinstance(pool, Mapping) or ("dataset" in pool) == ("csv" in pool):
        raise SpecError(
            "pool",
            pool,
            "a pool needs exactly one of dataset (built-in) or csv (a file)",
            "e.g. pool: {csv: candidates.csv}",
        )
    unknown = sorted(set(pool) - {"dataset", "csv", "inputs", "allow_repeats"})
    if unknown:
        raise SpecError("pool", unknown, "fields are dataset, csv, inputs, allow_repeats", "remove the others")
    if "dataset" in pool:
        try:
            info = dataset_info(str(pool["dataset"]))
        except NotFoundError as error:
            raise SpecError("pool.dataset", pool["dataset"], str(error), "use a built-in name or csv: FILE") from None
        frame = grouped(load_dataset(info.name), list(info.inputs), info.target)
        default_inputs = list(info.inputs)
    else:
        frame = _read_csv(base / str(pool["csv"]))
        default_inputs = [str(c) for c in frame.columns if c not in objective.names]
    inputs = pool.get("inputs", default_inputs)
    if not isinstance(inputs, list) or not inputs:
        raise SpecError("pool.inputs", inputs, "a non-empty list of column names is required", "list the input columns")
    return CandidatePool.from_dataframe(frame, inputs, allow_repeats=pool.get("allow_repeats", False))


def _read_csv(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise SpecError(
            "pool.csv", str(path), "the file does not exist", "give a path relative to the spec file"
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SpecError(
            "pool.csv", str(path), f"a CSV table is required ({error})", "export the table as CSV"
        ) from None


def instrument_from_config(config: Mapping[str, Any], *, seed: int = 0) -> Instrument:
    """An instrument from ``{kind: emulator, dataset: NAME, noise: 0}``."""
    kind = config.get("kind", "emulator")
    if kind != "emulator":
        raise SpecError("instrument.kind", kind, "known kinds are ['emulator']", "use kind: emulator")
    unknown = sorted(set(config) - {"kind", "dataset", "noise"})
    if unknown:
        raise SpecError("instrument", unknown, "fields of an emulator are dataset and noise", "remove the others")
    noise = config.get("noise", 0.0)
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not math.isfinite(noise) or noise < 0:
        raise SpecError("instrument.noise", noise, "a finite number >= 0 is required", "e.g. noise: 0.5")
    try:
        return DatasetEmulator.builtin(str(config.get("dataset")), noise=float(noise), seed=seed)
    except NotFoundError as error:
        raise SpecError("instrument.dataset", config.get("dataset"), str(error), "use a built-in dataset") from None
