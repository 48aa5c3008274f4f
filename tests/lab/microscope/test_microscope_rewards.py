"""Reward functions of a spectrum: the built-ins on spectra of known shape, and user rewards by reference."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.core.errors import SpecError
from kiln.lab.microscope.rewards import (
    BUILTIN_REWARDS,
    coercive_field,
    imprint,
    loop_area,
    peak_height,
    peak_position,
    peak_width,
    remanence,
    resolve_reward,
    resolve_rewards,
)
from kiln.lab.microscope.samples.ferroelectric import bias_axis, loops


def asymmetry(spectrum: np.ndarray, axis: np.ndarray) -> float:
    """A user reward: the response at the largest bias minus that at the smallest."""
    return float(spectrum[int(np.argmax(axis))] - spectrum[int(np.argmin(axis))])


def test_a_square_loop() -> None:
    axis = bias_axis()
    half = axis.size // 2
    rising = np.where(axis[:half] < 2.0, -1.0, 1.0)
    falling = np.where(axis[half:] > -2.0, 1.0, -1.0)
    spectrum = np.concatenate([rising, falling]) + 0.3  # an offset changes none of them
    assert loop_area(spectrum, axis) == pytest.approx(2 * 4, rel=0.1)  # height 2 over the 4 V between the switches
    assert coercive_field(spectrum, axis) == pytest.approx(2.0, abs=0.2)
    assert imprint(spectrum, axis) == pytest.approx(0.0, abs=0.05)
    assert remanence(spectrum, axis) == pytest.approx(1.0)


def test_a_model_loop_gives_back_its_parameters() -> None:
    axis = bias_axis()
    parameters = {
        "coercive": np.array([3.0]),
        "imprint": np.array([0.8]),
        "amplitude": np.array([1.5]),
        "width": np.array([0.3]),
    }
    spectrum = loops(parameters, axis)[0]
    assert loop_area(spectrum, axis) == pytest.approx(4 * 1.5 * 3.0, rel=0.03)
    assert coercive_field(spectrum, axis) == pytest.approx(3.0, abs=0.05)
    assert imprint(spectrum, axis) == pytest.approx(0.8, abs=0.05)
    assert remanence(spectrum, axis) == pytest.approx(1.5, rel=0.02)


@pytest.mark.parametrize("kind", ["lorentzian", "gaussian"])
def test_a_peak_of_known_position_height_and_width(kind: str) -> None:
    axis = np.linspace(380, 620, 128)
    if kind == "lorentzian":
        peak = 2.0 * 10.0**2 / ((axis - 503.0) ** 2 + 10.0**2)  # FWHM 20
        width = 20.0
    else:
        sigma = 12.0
        peak = 2.0 * np.exp(-((axis - 503.0) ** 2) / (2 * sigma**2))
        width = 2 * np.sqrt(2 * np.log(2)) * sigma
    spectrum = peak + 0.1 + 1e-3 * (axis - 380)  # on a sloping baseline
    assert peak_position(spectrum, axis) == pytest.approx(503.0, abs=0.5)
    assert peak_height(spectrum, axis) == pytest.approx(2.0, abs=0.05)
    assert peak_width(spectrum, axis) == pytest.approx(width, rel=0.05)


def test_rewards_are_named_like_a_workflow_reward() -> None:
    assert resolve_reward("loop_area") == ("loop_area", loop_area)
    name, function = resolve_reward("test_microscope_rewards:asymmetry")
    assert name == "asymmetry" and function(np.array([0.0, 1.0, 3.0]), np.array([-1.0, 0.0, 1.0])) == 3.0
    assert list(resolve_rewards(["loop_area", "coercive_field"])) == ["loop_area", "coercive_field"]
    assert resolve_rewards({"area": "loop_area"}) == {"area": loop_area}
    assert set(BUILTIN_REWARDS) >= {"loop_area", "coercive_field", "remanence", "peak_position", "peak_height"}
    with pytest.raises(SpecError, match=r"reward: got 'loop_aera'; a built-in reward \["):
        resolve_reward("loop_aera")
    with pytest.raises(SpecError, match=r"reward\.area"):
        resolve_rewards({"area": "nowhere.module:f"})
    with pytest.raises(SpecError, match="own name"):
        resolve_rewards(["loop_area", "loop_area"])
    with pytest.raises(SpecError, match="a reward, a list"):
        resolve_rewards([])
