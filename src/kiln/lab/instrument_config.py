"""Instruments from a spec: ``instrument:`` (one) or ``instruments:`` (a list), each a map with a ``kind``.

Kinds and their fields (``name`` defaults to the kind; ``cost`` of one experiment defaults to 1):

- ``emulator``: ``dataset``, ``noise`` (one standard deviation, or a map column -> one), ``report`` (a list of
  columns): a built-in dataset answers at once with every column it measured (e.g. suzuki-ii: yield and turnover),
  or only the columns of ``report`` (the experiment is then measured in part and awaits the rest: partial
  results). Replaying an experiment after a crash is harmless (it is a lookup), so experiments in flight at a crash
  are sent again.
- ``simulated``: ``dataset`` (built-in emulator; ``report`` as for ``emulator``) or ``function``
  ("module:function", params -> a map of the quantities it measures), with
  ``latency`` (seconds, or {kind: fixed|uniform|lognormal, ...}), ``noise``, ``failure_probability``,
  ``failure_regions`` ([{where: {param: [low, high] or [values]}, probability, reason}]) and ``time_scale``
  (multiplies every latency; 0 makes it instant).
- ``command``: ``command`` (program and arguments), ``timeout`` (seconds), ``cwd``: JSON in, JSON out.
- ``callable``: ``function`` ("module:function"), sync or async.
- ``http``: ``submit_url``, ``status_url`` (with ``{id}``), ``poll_interval``, ``request_timeout``, ``headers``
  (see ``kiln.lab.adapters.http`` for the protocol).
- ``manual``: ``poll_interval``: a person runs the experiment and records it with ``kiln tell`` / ``kiln fail``.
- ``microscope``: the simulated scanning-probe microscope (``kiln.lab.microscope``): ``sample`` ({kind, seed, size,
  ...options}), ``reward`` (a built-in reward of the spectrum or "module:function"; a list or a map name ->
  reward for several), ``latency`` and ``cost`` (the spectrum's, or a map per instruction load_sample,
  overview_scan, spectrum), ``noise`` ({spectrum, image}), ``drift`` ({stage, stage_max, baseline, baseline_max}),
  ``time_scale``; an experiment's parameters are the pixel's x and y, and its cost is the spectrum's.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.core.errors import KilnError, NotFoundError, SpecError, ValidationError
from kiln.lab.adapters.callable import CallableInstrument
from kiln.lab.adapters.command import CommandInstrument
from kiln.lab.adapters.http import HttpInstrument
from kiln.lab.adapters.manual import ManualInstrument
from kiln.lab.adapters.simulated import SimulatedInstrument
from kiln.lab.emulator import DatasetEmulator
from kiln.lab.protocol import AsyncInstrument

KINDS = ("emulator", "simulated", "command", "callable", "http", "manual", "microscope")
COMMON = {"kind", "name", "cost"}
FIELDS = {
    "emulator": {"dataset", "noise", "report"},
    "simulated": {
        "dataset",
        "report",
        "function",
        "latency",
        "noise",
        "failure_probability",
        "failure_regions",
        "time_scale",
    },
    "command": {"command", "timeout", "cwd"},
    "callable": {"function"},
    "http": {"submit_url", "status_url", "poll_interval", "request_timeout", "headers"},
    "manual": {"poll_interval"},
    "microscope": {"sample", "reward", "latency", "noise", "drift", "time_scale"},
}


def instruments_from_spec(
    configs: Sequence[Mapping[str, Any]], *, seed: int = 0, base: Path = Path()
) -> list[tuple[AsyncInstrument, float, DatasetEmulator | None]]:
    """(instrument, cost per experiment, the dataset emulator behind it or None) for each config."""
    built = []
    for index, config in enumerate(configs):
        where = f"instruments[{index}]" if len(configs) > 1 else "instrument"
        built.append(instrument_from_spec(config, seed=seed + index, base=base, where=where))
    names = [instrument.name for instrument, _, _ in built]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SpecError("instruments: name", duplicates, "each instrument needs its own name", "add name: ...")
    return built


def instrument_from_spec(
    config: Mapping[str, Any], *, seed: int = 0, base: Path = Path(), where: str = "instrument"
) -> tuple[AsyncInstrument, float, DatasetEmulator | None]:
    """One instrument config -> (instrument, cost, dataset emulator or None); SpecError naming the field."""
    if not isinstance(config, Mapping):
        raise SpecError(where, config, "a map with a kind is required", "e.g. {kind: emulator, dataset: p3ht}")
    kind = config.get("kind", "emulator")
    if kind not in KINDS:
        raise SpecError(f"{where}.kind", kind, f"known kinds are {list(KINDS)}", "use one of them")
    unknown = sorted(set(config) - COMMON - FIELDS[kind])
    if unknown:
        raise SpecError(
            where, unknown, f"fields of a {kind} instrument are {sorted(COMMON | FIELDS[kind])}", "remove them"
        )
    name = config.get("name", kind)
    if not isinstance(name, str) or not name:
        raise SpecError(f"{where}.name", name, "a non-empty name is required", "e.g. name: robot-1")
    if kind == "microscope":
        microscope = microscope_from_spec(config, name=name, seed=seed, where=where)
        return microscope, microscope.settings.cost["spectrum"], None
    cost = config.get("cost", 1.0)
    if isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0:
        raise SpecError(f"{where}.cost", cost, "a number >= 0 is required", "e.g. cost: 1")
    try:
        instrument, emulator = _build(kind, name, config, seed, base, where)
    except SpecError:
        raise
    except KilnError as error:  # ValidationError of an adapter: name the spec field
        raise SpecError(where, dict(config), str(error), "fix the instrument's settings") from None
    return instrument, float(cost), emulator


def _build(
    kind: str, name: str, config: Mapping[str, Any], seed: int, base: Path, where: str
) -> tuple[AsyncInstrument, DatasetEmulator | None]:
    if kind == "command":
        command = config.get("command")
        cwd = config.get("cwd")
        return CommandInstrument(
            command,  # type: ignore[arg-type]
            timeout=config.get("timeout"),
            name=name,
            cwd=str(base / str(cwd)) if cwd is not None else str(base),
        ), None
    if kind == "http":
        options = {k: config[k] for k in ("poll_interval", "request_timeout", "headers") if k in config}
        return HttpInstrument(config.get("submit_url"), config.get("status_url"), name=name, **options), None  # type: ignore[arg-type]
    if kind == "manual":
        return ManualInstrument(
            name, **({"poll_interval": config["poll_interval"]} if "poll_interval" in config else {})
        ), None
    if kind == "callable":
        return CallableInstrument(import_function(config.get("function"), f"{where}.function"), name=name), None
    emulator = None
    if kind == "emulator" or "dataset" in config:
        if kind == "simulated" and "function" in config:
            raise SpecError(where, sorted(config), "a simulated instrument needs dataset or function, not both", "")
        emulator = _emulator(config, seed, where, noise=config.get("noise", 0.0) if kind == "emulator" else 0.0)
        source: Callable[[Mapping[str, Any]], Mapping[str, float]] = emulator.measure
    elif "function" in config:
        source = import_function(config.get("function"), f"{where}.function")
    else:
        raise SpecError(where, sorted(config), "a simulated instrument needs dataset or function", "e.g. dataset: p3ht")
    if "report" in config and emulator is None:
        raise SpecError(
            f"{where}.report",
            config["report"],
            "report lists columns of a dataset; a function reports what it returns",
            "leave report out, or let the function return only those quantities",
        )
    if kind == "emulator":
        return SimulatedInstrument(source, name=name, seed=seed, replayable=True), emulator
    options = {
        k: config[k]
        for k in ("latency", "noise", "failure_probability", "failure_regions", "time_scale")
        if k in config
    }
    return SimulatedInstrument(source, name=name, seed=seed, **options), emulator


def microscope_from_spec(config: Mapping[str, Any], *, name: str, seed: int, where: str) -> Any:
    """A ``microscope`` config -> the MicroscopeInstrument (not yet loaded); SpecError naming the field at fault,
    e.g. ``instrument.sample.kind`` or ``instrument.noise.spectrum``."""
    from kiln.lab.microscope.instrument import MicroscopeInstrument, SampleSpec
    from kiln.lab.microscope.rewards import resolve_rewards
    from kiln.lab.microscope.settings import MicroscopeSettings

    if "sample" not in config:
        raise SpecError(f"{where}.sample", None, "a microscope needs a sample", "e.g. sample: {kind: ferroelectric}")
    if "reward" not in config:
        raise SpecError(f"{where}.reward", None, "a microscope needs a reward of its spectra", "e.g. reward: loop_area")
    try:
        settings = MicroscopeSettings.parse(
            **{k: config[k] for k in ("latency", "cost", "noise", "drift", "time_scale") if k in config}
        )
        sample = SampleSpec.parse(config["sample"])
        sample.build()  # an unknown kind or a bad option fails here, before any experiment
        rewards = resolve_rewards(config["reward"], f"{where}.reward")
        return MicroscopeInstrument(sample, rewards, settings=settings, name=name, seed=seed)
    except SpecError:
        raise
    except ValidationError as error:
        path = error.field.removeprefix("instrument: ").replace(": ", ".")
        raise SpecError(f"{where}.{path}", error.value, error.allowed, error.fix) from None


def _emulator(config: Mapping[str, Any], seed: int, where: str, noise: Any) -> DatasetEmulator:
    single = isinstance(noise, int | float) and not isinstance(noise, bool)
    if not isinstance(noise, Mapping) and (not single or not math.isfinite(noise) or noise < 0):
        raise SpecError(f"{where}.noise", noise, "a finite number >= 0, or a map column -> number", "e.g. noise: 0.5")
    try:
        return DatasetEmulator.builtin(str(config.get("dataset")), noise=noise, seed=seed, report=config.get("report"))
    except NotFoundError as error:
        raise SpecError(f"{where}.dataset", config.get("dataset"), str(error), "use a built-in dataset") from None
    except ValidationError as error:
        if error.field == "instrument: report":
            raise SpecError(f"{where}.report", error.value, error.allowed, error.fix) from None
        raise SpecError(f"{where}.noise", noise, error.allowed, "e.g. noise: {yield: 2, turnover: 5}") from None


def import_function(reference: Any, field: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function; SpecError if it cannot be imported."""
    if not isinstance(reference, str) or reference.count(":") != 1:
        raise SpecError(field, reference, "a reference 'package.module:function' is required", "e.g. mylab.robot:run")
    module_name, attribute = reference.split(":")
    try:
        function = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise SpecError(
            field, reference, f"it cannot be imported ({error})", "check the module is on PYTHONPATH"
        ) from None
    if not callable(function):
        raise SpecError(field, reference, "it must name a function", "point at a function")
    return function  # type: ignore[no-any-return]
