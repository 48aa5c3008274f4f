"""Rewards: functions of one spectrum -> a number, the value a microscope campaign optimises or maps.

A reward is called ``reward(spectrum, axis) -> float`` with the measured spectrum (m values) and its axis (m
values: bias in V for a hysteresis loop, Raman shift for a band). Built in, by name:

- hysteresis loops (the spectrum is the up branch, then the down branch; the axis rises, then falls):
  ``loop_area`` (the area the closed loop encloses, response x V), ``coercive_field`` (half the bias between the
  branches' switching points, V), ``imprint`` (the loop's shift along the bias axis, the switching points' mean,
  V), ``remanence`` (half the gap between the branches at zero bias);
- peaks: ``peak_position`` (the centroid of the band above its half maximum, axis units), ``peak_height``
  (maximum above the baseline, the line through the first and last 8 points), ``peak_width`` (full width at half
  maximum above that baseline, axis units).

Any other reward is ``"package.module:function"`` with the same signature, resolved as a workflow's reward is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from kiln.core.errors import SpecError
from kiln.lab.microscope.samples.base import Sample

RewardFunction = Callable[[np.ndarray, np.ndarray], float]
"""(spectrum: m values, axis: m values) -> the reward."""

EDGE = 8
"""Points at each end that give a peak's baseline."""


def _branches(spectrum: np.ndarray, axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rising bias, its response, falling bias, its response): the loop split at its largest bias."""
    turn = int(np.argmax(axis))
    return axis[: turn + 1], spectrum[: turn + 1], axis[turn:], spectrum[turn:]


def _crossing(bias: np.ndarray, response: np.ndarray, level: float) -> float:
    """The bias where ``response`` crosses ``level`` with the largest change between neighbours (linear
    interpolation); the branch's switching point."""
    shifted = response - level
    sign_change = np.nonzero(np.sign(shifted[:-1]) != np.sign(shifted[1:]))[0]
    if sign_change.size == 0:
        return float(bias[int(np.argmin(np.abs(shifted)))])
    steps = np.abs(np.diff(response))[sign_change]
    i = int(sign_change[int(np.argmax(steps))])
    fraction = shifted[i] / (shifted[i] - shifted[i + 1])
    return float(bias[i] + fraction * (bias[i + 1] - bias[i]))


def _switching(spectrum: np.ndarray, axis: np.ndarray) -> tuple[float, float]:
    """(positive switching bias of the rising branch, negative one of the falling branch)."""
    up_bias, up, down_bias, down = _branches(spectrum, axis)
    level = (float(np.max(spectrum)) + float(np.min(spectrum))) / 2.0
    return _crossing(up_bias, up, level), _crossing(down_bias, down, level)


def loop_area(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """The area the loop encloses (response x bias units; the shoelace formula over the closed path)."""
    x, y = np.asarray(axis, dtype=float), np.asarray(spectrum, dtype=float)
    return float(abs(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) / 2.0)


def coercive_field(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """Half the bias between the switching points of the rising and the falling branch (V)."""
    rising, falling = _switching(np.asarray(spectrum, dtype=float), np.asarray(axis, dtype=float))
    return (rising - falling) / 2.0


def imprint(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """The loop's shift along the bias axis: the mean of the two switching points (V)."""
    rising, falling = _switching(np.asarray(spectrum, dtype=float), np.asarray(axis, dtype=float))
    return (rising + falling) / 2.0


def remanence(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """Half the gap between the falling and the rising branch at zero bias (response units)."""
    up_bias, up, down_bias, down = _branches(np.asarray(spectrum, dtype=float), np.asarray(axis, dtype=float))
    rising = float(np.interp(0.0, up_bias, up))
    falling = float(np.interp(0.0, down_bias[::-1], down[::-1]))
    return (falling - rising) / 2.0


def _above_baseline(spectrum: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """The spectrum minus the straight line through the mean of its first and of its last ``EDGE`` points."""
    y, x = np.asarray(spectrum, dtype=float), np.asarray(axis, dtype=float)
    edge = max(1, min(EDGE, y.size // 4))
    x0, x1 = float(np.mean(x[:edge])), float(np.mean(x[-edge:]))
    y0, y1 = float(np.mean(y[:edge])), float(np.mean(y[-edge:]))
    slope = (y1 - y0) / (x1 - x0) if x1 != x0 else 0.0
    return y - (y0 + slope * (x - x0))


def _half_maximum_span(signal: np.ndarray) -> tuple[int, int]:
    """Indices of the contiguous run around the maximum where ``signal`` is at least half of it."""
    top = int(np.argmax(signal))
    half = signal[top] / 2.0
    low, high = top, top
    while low > 0 and signal[low - 1] >= half:
        low -= 1
    while high < signal.size - 1 and signal[high + 1] >= half:
        high += 1
    return low, high


def peak_height(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """The maximum above the baseline (signal units)."""
    return float(np.max(_above_baseline(spectrum, axis)))


def peak_position(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """The centroid of the band where it is above half its maximum (axis units)."""
    signal = _above_baseline(spectrum, axis)
    x = np.asarray(axis, dtype=float)
    low, high = _half_maximum_span(signal)
    weights = signal[low : high + 1]
    if float(np.sum(weights)) <= 0:
        return float(x[int(np.argmax(signal))])
    return float(np.sum(weights * x[low : high + 1]) / np.sum(weights))


def peak_width(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """Full width at half maximum above the baseline (axis units; the half-maximum points interpolated)."""
    signal = _above_baseline(spectrum, axis)
    x = np.asarray(axis, dtype=float)
    low, high = _half_maximum_span(signal)
    half = float(np.max(signal)) / 2.0

    def edge(inside: int, outside: int) -> float:
        if outside < 0 or outside >= signal.size:
            return float(x[inside])
        a, b = signal[outside], signal[inside]
        fraction = (half - a) / (b - a) if b != a else 0.0
        return float(x[outside] + fraction * (x[inside] - x[outside]))

    return abs(edge(high, high + 1) - edge(low, low - 1))


BUILTIN_REWARDS: dict[str, RewardFunction] = {
    "loop_area": loop_area,
    "coercive_field": coercive_field,
    "imprint": imprint,
    "remanence": remanence,
    "peak_position": peak_position,
    "peak_height": peak_height,
    "peak_width": peak_width,
}


def resolve_reward(reference: Any, field: str = "reward") -> tuple[str, RewardFunction]:
    """A built-in name or ``"package.module:function"`` -> (the value's name, the function): the built-in's name,
    or the function's own name. SpecError naming ``field`` when it is neither."""
    if isinstance(reference, str) and reference in BUILTIN_REWARDS:
        return reference, BUILTIN_REWARDS[reference]
    if isinstance(reference, str) and ":" in reference:
        from kiln.lab.instrument_config import import_function

        function = import_function(reference, field)
        return reference.rsplit(":", 1)[1], function
    raise SpecError(
        field,
        reference,
        f"a built-in reward {sorted(BUILTIN_REWARDS)} or 'package.module:function' (spectrum, axis) -> number",
        "e.g. reward: loop_area",
    )


def resolve_rewards(config: Any, field: str = "reward") -> dict[str, RewardFunction]:
    """``reward:`` as one reference, a list of them, or a map value name -> reference -> value name -> function."""
    if isinstance(config, Mapping):
        resolved = {}
        for name, reference in config.items():
            if not isinstance(name, str) or not name:
                raise SpecError(field, name, "value names are non-empty text", "e.g. reward: {area: loop_area}")
            resolved[name] = resolve_reward(reference, f"{field}.{name}")[1]
        if resolved:
            return resolved
    elif isinstance(config, list) and config:
        pairs = [resolve_reward(item, f"{field}[{i}]") for i, item in enumerate(config)]
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            raise SpecError(field, config, "each reward needs its own name", "use a map: {name: reference}")
        return dict(pairs)
    elif config is not None and not isinstance(config, Mapping | list):
        name, function = resolve_reward(config, field)
        return {name: function}
    raise SpecError(field, config, "a reward, a list of rewards or a map name -> reward", "e.g. reward: loop_area")


def reward_map(sample: Sample, reward: RewardFunction) -> np.ndarray:
    """The noise-free reward at every pixel of ``sample``: size x size, indexed [y, x]."""
    rows, columns = np.indices((sample.size, sample.size))
    spectra = sample.spectra(columns.ravel(), rows.ravel())
    values = np.array([reward(spectrum, sample.axis) for spectrum in spectra], dtype=float)
    return values.reshape(sample.size, sample.size)
