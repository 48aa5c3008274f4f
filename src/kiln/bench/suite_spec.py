"""A benchmark suite file: the defaults (runs, budget, initial, seed, strategies) and the datasets to run them on.

```yaml
runs: 20
budget: 100
initial: 2
seed: 0
strategies: [kiln, random, {name: baybe, runs: 10}]   # a map gives one strategy its own number of runs
datasets:
  - name: p3ht                                  # built in
  - name: alkox
    csv: ../shared/data/olympus/alkox/data.csv  # relative to the suite file
    target: conversion
    direction: max
    inputs: [catalase, peroxidase, alcohol_oxidase, ph]   # optional: default every other column
    encoding: auto                              # optional
    runs: 10                                    # optional overrides: runs, budget, strategies
```
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kiln.core.errors import SpecError

ENCODINGS = ("auto", "onehot", "descriptors", "fingerprints", "elements")
_TOP_KEYS = {"runs", "budget", "initial", "seed", "strategies", "datasets"}
_DATASET_KEYS = {"name", "csv", "target", "direction", "inputs", "encoding", "runs", "budget", "strategies"}
MAX_SUITE_BYTES = 1_000_000


@dataclass(frozen=True)
class SuiteDataset:
    """One dataset of a suite with its effective settings (the suite's defaults where it gives none).

    ``csv`` is an absolute path, or None for a built-in dataset; ``digest`` identifies the data (the CSV's
    SHA-256, or ``builtin:NAME``) so results of changed data are never taken for done.
    """

    name: str
    csv: Path | None
    target: str | None
    direction: str | None
    inputs: tuple[str, ...] | None
    encoding: str
    runs: int
    budget: int
    strategies: tuple[str, ...]
    digest: str
    strategy_runs: tuple[tuple[str, int], ...] = ()

    def runs_of(self, strategy: str) -> int:
        """The runs of ``strategy`` on this dataset: its own number where the suite gives one, else ``runs``."""
        return dict(self.strategy_runs).get(strategy, self.runs)


@dataclass(frozen=True)
class Suite:
    """A parsed suite file: its folder, the seed and initial points shared by all, the datasets, and the file
    itself when it was read from one (``load_suite``)."""

    path: Path
    seed: int
    initial: int
    datasets: tuple[SuiteDataset, ...]
    file: Path | None = None


def _field(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _whole(where: str, key: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(_field(where, key), value, f"a whole number >= {minimum} is required", f"e.g. {key}: 20")
    return value


def _text(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SpecError(_field(where, key), value, "a non-empty text is required", None)
    return value.strip()


def _names(where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise SpecError(
            _field(where, key), value, "a non-empty list of names is required", f"e.g. {key}: [kiln, random]"
        )
    names = tuple(_text(where, key, item) for item in value)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SpecError(_field(where, key), repeated, "each name may be given once", "remove the repeat")
    return names


def _strategies(where: str, value: Any) -> tuple[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """Strategy names and the runs of those given as ``{name: NAME, runs: R}``."""
    if not isinstance(value, list) or not value:
        raise SpecError(
            _field(where, "strategies"), value, "a non-empty list of names is required", "e.g. strategies: [kiln]"
        )
    names: list[str] = []
    runs: list[tuple[str, int]] = []
    for index, item in enumerate(value):
        if isinstance(item, dict):
            place = f"{_field(where, 'strategies')}[{index}]"
            _unknown(place, item, {"name", "runs"})
            name = _text(place, "name", item.get("name"))
            runs.append((name, _whole(place, "runs", item.get("runs"), 1)))
        else:
            name = _text(where, "strategies", item)
        names.append(_strategy_name(f"{_field(where, 'strategies')}[{index}]", name))
    runs = [(_strategy_name(where, name), count) for name, count in runs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SpecError(_field(where, "strategies"), repeated, "each name may be given once", "remove the repeat")
    return tuple(names), tuple(runs)


def _strategy_name(where: str, name: str) -> str:
    """The registry's name for ``name`` (a JSON config without its spaces); SpecError naming ``where``."""
    from kiln.bench.registry import resolve_strategy

    try:
        return resolve_strategy(name).name
    except SpecError as error:
        raise SpecError(where, name, error.allowed, "see kiln bench strategies") from None


def _unknown(where: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(given) - allowed)
    if extra:
        raise SpecError(_field(where, extra[0]), given[extra[0]], f"known keys are {sorted(allowed)}", "remove it")


def _digest(path: Path, where: str) -> str:
    try:
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise SpecError(
            f"{where}.csv", str(path), "the file does not exist", "paths are relative to the suite file"
        ) from None
    except OSError as error:
        raise SpecError(f"{where}.csv", str(path), f"the file cannot be read ({error.strerror})", None) from None


def _builtin_digest(name: str) -> str:
    """``builtin:NAME:sha256:...``: a built-in dataset's name and its file's bytes (a changed file is other data)."""
    from importlib import resources

    from kiln.lab.datasets import DATASETS

    data = resources.files("kiln.lab.datasets").joinpath(DATASETS[name].file).read_bytes()
    return f"builtin:{name}:sha256:" + hashlib.sha256(data).hexdigest()


def _dataset(index: int, raw: Any, folder: Path, defaults: Mapping[str, Any]) -> SuiteDataset:
    from kiln.lab.datasets import DATASETS

    where = f"datasets[{index}]"
    if not isinstance(raw, dict):
        raise SpecError(where, raw, "a mapping with at least a name is required", "e.g. - name: p3ht")
    _unknown(where, raw, _DATASET_KEYS)
    name = _text(where, "name", raw.get("name"))
    if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise SpecError(f"{where}.name", name, "letters, digits, '-', '_' and '.' only", "it names a results folder")
    csv_text = raw.get("csv")
    csv = None if csv_text is None else (folder / _text(where, "csv", csv_text)).resolve()
    if csv is None and name not in DATASETS:
        raise SpecError(f"{where}.name", name, f"built-in datasets are {sorted(DATASETS)}", "or give csv: FILE")
    target = None if raw.get("target") is None else _text(where, "target", raw["target"])
    direction = raw.get("direction")
    if direction is not None and direction not in ("max", "min"):
        raise SpecError(f"{where}.direction", direction, "max or min is required", None)
    if csv is not None and (target is None or direction is None):
        missing = "target" if target is None else "direction"
        raise SpecError(f"{where}.{missing}", None, f"a CSV dataset needs its {missing}", "e.g. target: yield")
    inputs = None if raw.get("inputs") is None else _names(where, "inputs", raw["inputs"])
    encoding = raw.get("encoding", "auto")
    if encoding not in ENCODINGS:
        raise SpecError(f"{where}.encoding", encoding, f"one of {list(ENCODINGS)} is required", None)
    runs = _whole(where, "runs", raw.get("runs", defaults["runs"]), 1)
    budget = _whole(where, "budget", raw.get("budget", defaults["budget"]), 1)
    if "strategies" in raw:
        strategies, strategy_runs = _strategies(where, raw["strategies"])
    else:
        strategies, strategy_runs = defaults["strategies"]
    digest = _digest(csv, where) if csv is not None else _builtin_digest(name)
    return SuiteDataset(name, csv, target, direction, inputs, encoding, runs, budget, strategies, digest, strategy_runs)


def parse_suite(raw: Any, folder: Path) -> Suite:
    """A Suite from the parsed YAML ``raw``; CSV paths are relative to ``folder``. SpecError names what is wrong."""
    if not isinstance(raw, dict):
        raise SpecError("suite", raw, "a mapping with datasets is required", "see docs/bench.md, kiln bench suite")
    _unknown("", raw, _TOP_KEYS)
    defaults = {
        "runs": _whole("", "runs", raw.get("runs", 20), 1),
        "budget": _whole("", "budget", raw.get("budget", 100), 1),
        "strategies": _strategies("", raw.get("strategies", ["kiln", "random"])),
    }
    seed = _whole("", "seed", raw.get("seed", 0), 0)
    initial = _whole("", "initial", raw.get("initial", 2), 1)
    datasets_raw = raw.get("datasets")
    if not isinstance(datasets_raw, list) or not datasets_raw:
        raise SpecError("datasets", datasets_raw, "a non-empty list of datasets is required", "e.g. - name: p3ht")
    datasets = tuple(_dataset(i, item, folder, defaults) for i, item in enumerate(datasets_raw))
    names = [d.name for d in datasets]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SpecError("datasets", repeated, "each dataset name may be given once", "rename one of them")
    return Suite(folder, seed, initial, datasets)


def load_suite(path: Path) -> Suite:
    """The suite file at ``path`` (YAML), parsed and checked."""
    import yaml

    try:
        if path.stat().st_size > MAX_SUITE_BYTES:
            raise SpecError("SUITE", str(path), f"a file of at most {MAX_SUITE_BYTES} bytes is required", None)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("SUITE", str(path), "the file does not exist", "check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError("SUITE", str(path), f"a readable UTF-8 file is required ({error})", None) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecError("SUITE", str(path), f"valid YAML is required ({error})", None) from None
    return replace(parse_suite(raw, path.resolve().parent), file=path)


def strategy_names(datasets: Sequence[SuiteDataset]) -> list[str]:
    """Every strategy named in the suite, in first-seen order."""
    seen: dict[str, None] = {}
    for dataset in datasets:
        seen.update(dict.fromkeys(dataset.strategies))
    return list(seen)
