"""Simulated samples: reproducible from a seed, different between seeds, and physically sane as documented."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.core.errors import NotFoundError, ValidationError
from kiln.lab.microscope.rewards import loop_area, peak_position, peak_width, reward_map
from kiln.lab.microscope.samples import SAMPLE_KINDS, make_sample
from kiln.lab.microscope.samples.base import zero_crossings

SIZE = 64


@pytest.mark.parametrize("kind", sorted(SAMPLE_KINDS))
def test_a_sample_is_a_function_of_its_seed_and_size(kind: str) -> None:
    build = SAMPLE_KINDS[kind].build  # past the cache: two independent builds
    first, again, other = build(3, SIZE), build(3, SIZE), build(4, SIZE)
    assert first.image.shape == (SIZE, SIZE)
    np.testing.assert_array_equal(first.image, again.image)
    for name in first.maps:
        np.testing.assert_array_equal(first.maps[name], again.maps[name])
    assert np.mean(np.abs(first.image - other.image)) > 0.1 * np.std(first.image)
    spectrum = first.spectrum(5, 7)
    assert spectrum.shape == first.axis.shape and np.all(np.isfinite(spectrum))
    np.testing.assert_array_equal(spectrum, again.spectrum(5, 7))


def test_samples_are_cached_per_kind_seed_size_and_options() -> None:
    assert make_sample("blend", 1, 32) is make_sample("blend", 1, 32)
    assert make_sample("blend", 1, 32) is not make_sample("blend", 1, 32, mean=0.2)
    assert make_sample("blend", 1, 32) is not make_sample("blend", 2, 32)


def test_ferroelectric_domains_walls_and_loops_follow_the_documented_model() -> None:
    sample = make_sample("ferroelectric", 0, 128)
    polarisation = sample.maps["polarisation"]
    assert polarisation.min() >= -1 and polarisation.max() <= 1
    assert 0.2 < np.mean(polarisation > 0) < 0.8  # both orientations
    walls = zero_crossings(polarisation)
    assert 0.01 < walls.mean() < 0.3  # walls exist and are thin
    np.testing.assert_array_equal(sample.maps["wall_distance"] == 0, walls)
    assert np.mean(np.abs(polarisation[~walls])) > 0.9  # saturated inside domains
    # the overview: the PFM signal changes sign across the walls
    assert np.mean(np.sign(sample.image) == np.sign(polarisation)) > 0.95

    area = reward_map(sample, loop_area)
    distance, defects = sample.maps["wall_distance"], sample.maps["defect_distance"]
    plain = defects > 8
    assert np.mean(area[(distance > 8) & plain]) > 2.5 * np.mean(area[(distance < 1) & plain])
    # a curved wall switches more easily than a straight one
    at_wall = walls & plain
    bend = np.abs(sample.maps["wall_curvature"][at_wall])
    coercive = sample.maps["coercive"][at_wall]
    assert np.mean(coercive[bend > np.quantile(bend, 0.8)]) < np.mean(coercive[bend < np.quantile(bend, 0.2)])
    # defects pin: away from walls, loops next to a defect are wider
    far = distance > 6
    assert np.mean(area[far & (defects < 1.5)]) > 1.2 * np.mean(area[far & plain])


def test_the_blend_separates_and_its_band_follows_the_composition() -> None:
    sample = make_sample("blend", 0, 96, mean=0.1)
    composition = sample.maps["composition"]
    assert abs(composition.mean() - 0.55) < 0.02  # Cahn-Hilliard conserves the mean
    assert np.mean(composition > 0.9) > 0.2 and np.mean(composition < 0.1) > 0.2  # two phases
    rows, columns = np.indices(composition.shape)
    chosen = np.arange(0, composition.size, 37)
    xs, ys = columns.ravel()[chosen], rows.ravel()[chosen]
    spectra = sample.spectra(xs, ys)
    positions = np.array([peak_position(s, sample.axis) for s in spectra])
    spot = sample.maps["spot_composition"][ys, xs]
    slope, _ = np.polyfit(spot, positions, 1)
    assert 90 < slope < 110  # the documented 100 cm^-1 from A to B
    widths = reward_map(sample, peak_width)
    distance = sample.maps["interface_distance"]
    assert np.mean(widths[distance < 1]) > 1.8 * np.mean(widths[distance > 5])
    at_interface = distance == 0  # broadest at strongly curved interfaces
    bend = np.abs(sample.maps["interface_curvature"][at_interface])
    width = widths[at_interface]
    assert np.mean(width[bend > np.quantile(bend, 0.8)]) > 1.1 * np.mean(width[bend < np.quantile(bend, 0.2)])
    # the topography shows the B-rich phase higher
    assert np.mean(sample.image[composition > 0.9]) - np.mean(sample.image[composition < 0.1]) > 3


def test_bad_sample_settings_are_refused_with_the_field() -> None:
    with pytest.raises(NotFoundError, match="known kinds are"):
        make_sample("graphene")
    with pytest.raises(ValidationError, match="sample: size"):
        make_sample("blend", 0, 8)
    with pytest.raises(ValidationError, match="sample: seed"):
        make_sample("blend", -1, 32)
    with pytest.raises(ValidationError, match=r"options of a blend sample are \['mean'\]"):
        make_sample("blend", 0, 32, defects=3)
    with pytest.raises(ValidationError, match="sample: defects"):
        make_sample("ferroelectric", 0, 32, defects=2.5)
    with pytest.raises(ValidationError, match="sample: mean"):
        make_sample("blend", 0, 32, mean=0.9)
    sample = make_sample("blend", 0, 32)
    with pytest.raises(ValidationError, match=r"spectrum: x: got 32; a whole pixel number from 0 to 31"):
        sample.spectrum(32, 0)
    with pytest.raises(ValidationError, match="spectrum: y"):
        sample.spectrum(0, 1.5)
