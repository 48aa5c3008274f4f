"""The microscope's settings: per-instruction latency and cost, noise and drift, checked when built.

Instructions are ``load_sample``, ``overview_scan`` and ``spectrum``. Latencies are simulated seconds (the
instrument waits ``latency x time_scale`` real seconds); costs are in the campaign's cost units. A plain number
for ``latency`` or ``cost`` is the spectrum's; a map sets any instruction's and keeps the others' defaults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiln.core.errors import ValidationError

INSTRUCTIONS = ("load_sample", "overview_scan", "spectrum")
DEFAULT_LATENCY = {"load_sample": 60.0, "overview_scan": 30.0, "spectrum": 5.0}
"""Simulated seconds: a sample exchange, a 128-line overview, one spectrum (a bias or laser sweep)."""
DEFAULT_COST = {"load_sample": 0.0, "overview_scan": 1.0, "spectrum": 1.0}


def _number(field_name: str, value: Any, *, high: float = math.inf, example: str = "e.g. 1") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(field_name, value, "a finite number >= 0", example)
    if not 0.0 <= value <= high:
        raise ValidationError(field_name, value, f"a number from 0 to {high:g}", example)
    return float(value)


def per_instruction(name: str, value: Any, defaults: Mapping[str, float]) -> dict[str, float]:
    """``latency`` or ``cost``: a number (the spectrum's), a map instruction -> number, or None (the defaults)."""
    result = dict(defaults)
    if value is None:
        return result
    if isinstance(value, Mapping):
        unknown = sorted(map(str, set(value) - set(INSTRUCTIONS)))
        if unknown:
            raise ValidationError(
                f"instrument: {name}", unknown, f"instructions are {list(INSTRUCTIONS)}", "check the spelling"
            )
        for instruction, number in value.items():
            result[str(instruction)] = _number(f"instrument: {name}: {instruction}", number)
        return result
    result["spectrum"] = _number(f"instrument: {name}", value, example=f"e.g. {name}: {{spectrum: 5}}")
    return result


@dataclass(frozen=True)
class Noise:
    """Gaussian noise: ``spectrum`` (one standard deviation on every point of a spectrum, in the signal's units)
    and ``image`` (on every pixel of an overview scan, in the image's units)."""

    spectrum: float = 0.02
    image: float = 0.05

    @classmethod
    def parse(cls, value: Any) -> Noise:
        """A number (the spectrum's; the image keeps its default), a map {spectrum, image}, or None."""
        if value is None:
            return cls()
        if isinstance(value, Mapping):
            unknown = sorted(map(str, set(value) - {"spectrum", "image"}))
            if unknown:
                raise ValidationError("instrument: noise", unknown, "keys spectrum and image", "remove the others")
            return cls(**{k: _number(f"instrument: noise: {k}", v, example="e.g. 0.02") for k, v in value.items()})
        return cls(spectrum=_number("instrument: noise", value, example="e.g. noise: {spectrum: 0.02, image: 0.05}"))


@dataclass(frozen=True)
class Drift:
    """Slow drifts while spectra are taken, each a bounded random walk with one step per spectrum.

    Attributes:
        stage: standard deviation (pixels) of the stage's step in x and in y: the pixel probed is the one asked
            for plus the accumulated offset, rounded and kept inside the image.
        stage_max: the offset's bound in pixels (each coordinate stays within +-stage_max).
        baseline: standard deviation of the signal baseline's step (signal units), added to every point.
        baseline_max: the baseline offset's bound.
    """

    stage: float = 0.1
    stage_max: float = 2.0
    baseline: float = 0.002
    baseline_max: float = 0.05

    @classmethod
    def parse(cls, value: Any) -> Drift:
        """A map of the fields, 0 or false (no drift), or None (the defaults)."""
        if value is None:
            return cls()
        if value is False or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0):
            return cls(0.0, 0.0, 0.0, 0.0)
        allowed = {"stage", "stage_max", "baseline", "baseline_max"}
        if not isinstance(value, Mapping):
            raise ValidationError(
                "instrument: drift", value, f"a map of {sorted(allowed)}, or 0 for none", "e.g. drift: {stage: 0.1}"
            )
        unknown = sorted(map(str, set(value) - allowed))
        if unknown:
            raise ValidationError("instrument: drift", unknown, f"keys are {sorted(allowed)}", "remove the others")
        return cls(**{k: _number(f"instrument: drift: {k}", v, example="e.g. 0.1") for k, v in value.items()})


@dataclass(frozen=True)
class MicroscopeSettings:
    """Everything but the sample and the rewards; see the module docstring."""

    latency: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LATENCY))
    cost: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_COST))
    noise: Noise = field(default_factory=Noise)
    drift: Drift = field(default_factory=Drift)
    time_scale: float = 1.0

    @classmethod
    def parse(
        cls, *, latency: Any = None, cost: Any = None, noise: Any = None, drift: Any = None, time_scale: Any = 1.0
    ) -> MicroscopeSettings:
        """Each field as a spec gives it; ValidationError naming the field at fault."""
        return cls(
            latency=per_instruction("latency", latency, DEFAULT_LATENCY),
            cost=per_instruction("cost", cost, DEFAULT_COST),
            noise=Noise.parse(noise),
            drift=Drift.parse(drift),
            time_scale=_number("instrument: time_scale", time_scale, example="e.g. time_scale: 0.001 (0: instant)"),
        )
