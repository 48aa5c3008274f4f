"""The simulated microscope as an instrument: its instruction set, determinism, noise and drift as documented,
the spec's instrument kind with its errors, and a small campaign through the Orchestrator."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from kiln import Campaign, CandidatePool, ExperimentStatus, Objective
from kiln.core.errors import SpecError, ValidationError
from kiln.lab.instrument_config import instrument_from_spec
from kiln.lab.microscope import instrument as instrument_module
from kiln.lab.microscope.instrument import MicroscopeInstrument
from kiln.lab.microscope.rewards import loop_area, peak_position
from kiln.lab.microscope.samples import make_sample
from kiln.lab.microscope.settings import MicroscopeSettings
from kiln.lab.orchestrator import Orchestrator
from kiln.lab.protocol import AsyncInstrument, Failure, Observation
from kiln.lab.stopping import StopRules

FERRO = {"kind": "ferroelectric", "seed": 1, "size": 48}
BLEND = {"kind": "blend", "seed": 2, "size": 48}


def _microscope(sample: dict[str, Any] = FERRO, *, seed: int = 0, **settings: Any) -> MicroscopeInstrument:
    return MicroscopeInstrument(
        sample, {"loop_area": loop_area}, settings=MicroscopeSettings.parse(time_scale=0, **settings), seed=seed
    )


def test_the_instruction_set_with_its_costs_and_latencies() -> None:
    microscope = _microscope(latency={"spectrum": 7}, cost={"overview_scan": 2, "spectrum": 0.5})
    assert isinstance(microscope, AsyncInstrument) and microscope.sample is None

    async def session() -> tuple[np.ndarray, Any]:
        image = await microscope.overview_scan()  # loads the sample first
        return image, await microscope.spectrum(10, 20)

    image, reading = asyncio.run(session())
    sample = make_sample("ferroelectric", 1, 48)
    assert microscope.sample is sample and image.shape == (48, 48)
    assert reading.requested == (10, 20) and reading.values.shape == sample.axis.shape
    assert [r.instruction for r in microscope.log] == ["load_sample", "overview_scan", "spectrum"]
    assert [r.seconds for r in microscope.log] == [60.0, 30.0, 7.0]
    assert microscope.spent == 0.0 + 2.0 + 0.5 and microscope.simulated_seconds == 97.0
    assert microscope.spectra_taken == 1


def test_latency_is_waited_times_the_time_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(instrument_module.asyncio, "sleep", sleep)
    microscope = MicroscopeInstrument(
        FERRO, {"loop_area": loop_area}, settings=MicroscopeSettings.parse(latency=4, time_scale=0.25)
    )
    asyncio.run(microscope.spectrum(1, 1))
    assert waited == [60 * 0.25, 4 * 0.25]  # the sample is loaded on first use, then the spectrum


def test_one_instruction_at_a_time_on_the_tip() -> None:
    microscope = _microscope()
    busy: list[int] = []
    active = 0

    async def wait(instruction: str) -> None:
        nonlocal active
        active += 1
        busy.append(active)
        for _ in range(3):
            await asyncio.sleep(0)  # let the other experiments run if they could
        active -= 1

    microscope._wait = wait  # type: ignore[method-assign]

    async def go() -> list[Any]:
        handles = [await microscope.submit({"x": i, "y": i}) for i in range(4)]
        return [await microscope.outcome(h) for h in handles]

    outcomes = asyncio.run(go())
    assert all(isinstance(o, Observation) for o in outcomes)
    assert max(busy) == 1 and len(busy) == 5  # one load_sample and four spectra, never two at once


def test_noise_is_gaussian_with_the_documented_spread() -> None:
    microscope = _microscope(noise={"spectrum": 0.05, "image": 0.1}, drift=0)
    image = microscope.overview_scan_now()
    sample = microscope.sample
    assert sample is not None
    assert np.std(image - sample.image) == pytest.approx(0.1, rel=0.1)
    clean = sample.spectrum(5, 5)
    readings = np.array([microscope.spectrum_now(5, 5).values for _ in range(40)])
    assert np.std(readings - clean) == pytest.approx(0.05, rel=0.1)
    assert np.max(np.abs(readings.mean(axis=0) - clean)) < 0.05
    assert not np.array_equal(microscope.overview_scan_now(), image)  # each scan has its own noise


def test_stage_drift_moves_the_probed_pixel_within_its_bound() -> None:
    microscope = _microscope(noise=0, drift={"stage": 0.8, "stage_max": 1.5, "baseline": 0})
    offsets = []
    for _ in range(60):
        reading = microscope.spectrum_now(20, 30)
        offsets.append(np.subtract(reading.probed, reading.requested))
        sample = microscope.sample
        assert sample is not None
        np.testing.assert_allclose(reading.values, sample.spectrum(*reading.probed))  # what was probed is measured
    offsets_array = np.array(offsets)
    assert np.max(np.abs(offsets_array)) <= 2  # rounding of an offset within +-1.5
    assert np.mean(np.any(offsets_array != 0, axis=1)) > 0.3
    at_edge = microscope.spectrum_now(0, 47)
    assert 0 <= at_edge.probed[0] < 48 and 0 <= at_edge.probed[1] < 48  # kept inside the image
    still = _microscope(noise=0, drift=0)
    assert all(still.spectrum_now(20, 30).probed == (20, 30) for _ in range(20))


def test_baseline_drift_is_a_bounded_offset_of_the_signal() -> None:
    microscope = _microscope(noise=0, drift={"stage": 0, "baseline": 0.02, "baseline_max": 0.05})
    sample = make_sample("ferroelectric", 1, 48)
    assert np.ptp(microscope.spectrum_now(3, 4).values - sample.spectrum(3, 4)) < 1e-12  # one offset per spectrum
    baselines = [float(np.mean(microscope.spectrum_now(3, 4).values - sample.spectrum(3, 4))) for _ in range(200)]
    assert max(abs(b) for b in baselines) <= 0.05 + 1e-12 and np.std(baselines) > 0.005


def test_the_same_seed_gives_the_same_session() -> None:
    def session(seed: int) -> list[np.ndarray]:
        microscope = _microscope(seed=seed)
        return [microscope.overview_scan_now()] + [microscope.spectrum_now(i, 2 * i).values for i in range(5)]

    first, again, other = session(3), session(3), session(4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0]) and not np.array_equal(first[3], other[3])


def test_an_experiment_reports_its_rewards_spectrum_axis_and_probed_pixel() -> None:
    microscope = MicroscopeInstrument(
        BLEND, {"peak_position": peak_position}, settings=MicroscopeSettings.parse(time_scale=0, drift=0)
    )

    async def go() -> Any:
        handles = [await microscope.submit({"x": 4, "y": 9}), await microscope.submit({"x": 99, "y": 0})]
        return [await microscope.outcome(h) for h in handles]

    done, outside = asyncio.run(go())
    assert isinstance(done, Observation) and set(done.values) == {"peak_position"}
    assert done.outputs["probed"] == [4, 9] and len(done.outputs["spectrum"]) == 128
    assert done.outputs["axis"][0] == 380.0 and done.outputs["axis_unit"] == "cm^-1"
    assert done.values["peak_position"] == pytest.approx(make_sample("blend", 2, 48).maps["position"][9, 4], abs=3)
    assert isinstance(outside, Failure) and "spectrum: x: got 99; a whole pixel number from 0 to 47" in outside.reason
    assert [r.instruction for r in microscope.log].count("load_sample") == 1
    with pytest.raises(ValidationError, match="spectrum: y: got -1"):
        microscope.spectrum_now(0, -1)


def test_a_reward_that_fails_or_is_not_finite() -> None:
    def broken(spectrum: np.ndarray, axis: np.ndarray) -> float:
        raise ZeroDivisionError("no switching found")

    microscope = MicroscopeInstrument(
        FERRO,
        {"loop_area": loop_area, "odd": lambda s, a: float("nan")},
        settings=MicroscopeSettings.parse(time_scale=0),
    )
    outcome = asyncio.run(microscope.run({"x": 1, "y": 1}))
    assert isinstance(outcome, Observation) and set(outcome.values) == {"loop_area"}
    assert np.isnan(outcome.outputs["odd"])
    failing = MicroscopeInstrument(FERRO, {"area": broken}, settings=MicroscopeSettings.parse(time_scale=0))

    async def go() -> Any:
        return await failing.outcome(await failing.submit({"x": 1, "y": 1}))

    failed = asyncio.run(go())
    assert isinstance(failed, Failure) and failed.reason == "reward 'area': ZeroDivisionError: no switching found"


def test_the_spec_kind_and_its_errors() -> None:
    config = {
        "kind": "microscope",
        "name": "afm",
        "sample": {"kind": "ferroelectric", "size": 32, "defects": 2},
        "reward": ["loop_area", "coercive_field"],
        "cost": {"spectrum": 3, "overview_scan": 0.5},
        "latency": 2,
        "time_scale": 0,
    }
    built, cost, emulator = instrument_from_spec(config, seed=5)
    assert isinstance(built, MicroscopeInstrument) and cost == 3.0 and emulator is None
    assert built.name == "afm" and built.seed == 5 and list(built.rewards) == ["loop_area", "coercive_field"]
    assert built.settings.latency["spectrum"] == 2.0 and built.settings.cost["overview_scan"] == 0.5
    cases = [
        ({"sample": {"kind": "graphite"}}, r"instrument\.sample\.kind: got 'graphite'.*known kinds are"),
        ({"sample": {"kind": "blend", "size": 4}}, r"instrument\.sample\.size: got 4"),
        ({"sample": {"kind": "blend", "defects": 3}}, r"instrument\.sample: got \['defects'\]; options of a blend"),
        ({"reward": "loop_aera"}, r"instrument\.reward: got 'loop_aera'; a built-in reward"),
        ({"noise": {"spectrum": -1}}, r"instrument\.noise\.spectrum: got -1"),
        ({"drift": {"stage": 0.1, "wobble": 1}}, r"instrument\.drift: got \['wobble'\]"),
        ({"latency": {"spectra": 2}}, r"instrument\.latency: got \['spectra'\]; instructions are"),
        ({"cost": -2}, r"instrument\.cost: got -2"),
        ({"time_scale": "fast"}, r"instrument\.time_scale: got 'fast'"),
        ({"sample": None}, r"instrument\.sample: got None; a map with kind"),
        ({"dataset": "p3ht"}, r"fields of a microscope instrument are"),
    ]
    for change, message in cases:
        with pytest.raises(SpecError, match=message):
            instrument_from_spec({**config, **change})
    with pytest.raises(SpecError, match=r"instrument\.reward: got None; a microscope needs a reward"):
        instrument_from_spec({"kind": "microscope", "sample": "blend"})


def test_a_small_campaign_through_the_orchestrator(store_url: str) -> None:
    pool = CandidatePool(["x", "y"], [[float(x), float(y)] for x in range(0, 48, 6) for y in range(0, 48, 6)])
    campaign = Campaign.create(
        "scope", space=pool, objective=Objective.maximize("loop_area"), strategy="random", store=store_url
    )
    microscope = _microscope()
    summary = Orchestrator(campaign, [microscope], in_flight=2, stop=StopRules(budget=6)).run_sync()
    assert summary.finished == 6 and summary.failed == 0
    experiments = campaign.experiments()
    assert all(e.status == ExperimentStatus.COMPLETED for e in experiments)
    for experiment in experiments:
        assert experiment.results["loop_area"] > 0
        assert len(experiment.outputs["spectrum"]) == 128 and len(experiment.outputs["probed"]) == 2
    assert microscope.spectra_taken == 6
