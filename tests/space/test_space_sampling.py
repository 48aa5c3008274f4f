"""Unit tests of kiln.space.sampling.sample_points: feasibility, reproducibility, coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.sampling import sample_points
from kiln.space.search_space import SearchSpace


def constrained_space() -> SearchSpace:
    """Mixed parameters, a bounded composition and two linear constraints (one over a free-looking parameter)."""
    return SearchSpace(
        [
            Continuous("T", 20, 80),
            Continuous("conc", 0.01, 10, log=True),
            Integer("n", 1, 4),
            Discrete("t", (0.7, 1.05, 1.4)),
            Categorical("solvent", ("water", "ethanol", "dmso")),
            Categorical("ligand", ("L1", "L2", "L3"), {"L1": (1.0,), "L2": (2.0,), "L3": (5.0,)}),
            Continuous("x", 0, 10),
        ],
        compositions=[Composition("mix", ("A", "B", "C"), total=100, bounds={"A": (10, 60), "B": (0, 50)})],
        constraints=[LinearConstraint({"T": 1, "A": 1}, 100, "<="), LinearConstraint({"x": 1, "B": -0.1}, 1, ">=")],
    )


@pytest.fixture(scope="module")
def random_points() -> list[dict[str, object]]:
    return sample_points(constrained_space(), 200, seed=11, method="random")


@pytest.fixture(scope="module")
def sobol_points() -> list[dict[str, object]]:
    return sample_points(constrained_space(), 64, seed=11, method="sobol")  # draws 16x as many: keep it small


@pytest.mark.parametrize("fixture", ["random_points", "sobol_points"])
def test_points_are_feasible(fixture: str, request: pytest.FixtureRequest) -> None:
    space = constrained_space()
    points = request.getfixturevalue(fixture)
    assert len(points) == (200 if fixture == "random_points" else 64)
    for point in points:
        assert list(point) == space.names
        assert space.validate(point) == point
        assert point["A"] + point["B"] + point["C"] == pytest.approx(100.0, abs=1e-9)  # type: ignore[operator]
        assert 10 <= point["A"] <= 60 and 0 <= point["B"] <= 50  # type: ignore[operator]
        assert point["T"] + point["A"] <= 100 + 1e-9  # type: ignore[operator]
        assert point["x"] - 0.1 * point["B"] >= 1 - 1e-9  # type: ignore[operator]
        assert type(point["n"]) is int


@pytest.mark.parametrize("fixture", ["random_points", "sobol_points"])
def test_points_cover_every_level_and_choice(fixture: str, request: pytest.FixtureRequest) -> None:
    points = request.getfixturevalue(fixture)
    assert {p["n"] for p in points} == {1, 2, 3, 4}
    assert {p["t"] for p in points} == {0.7, 1.05, 1.4}
    assert {p["solvent"] for p in points} == {"water", "ethanol", "dmso"}
    assert {p["ligand"] for p in points} == {"L1", "L2", "L3"}
    # continuous values are spread, not collapsed onto a vertex
    assert len({round(p["A"], 6) for p in points}) > 0.75 * len(points)  # type: ignore[arg-type]
    assert np.ptp([p["A"] for p in points]) > 25


def test_log_parameter_is_sampled_on_log_scale(random_points: list[dict[str, object]]) -> None:
    below = np.mean([p["conc"] < math.sqrt(0.01 * 10) for p in random_points])  # type: ignore[operator]
    assert 0.35 < below < 0.65  # a linear-scale draw would put only ~3% below the geometric midpoint


def test_composition_parts_are_roughly_uniform_on_the_simplex() -> None:
    space = SearchSpace([], compositions=[Composition("mix", ("p", "q", "r"), total=1)])
    points = sample_points(space, 300, seed=0)
    means = np.mean([[p["p"], p["q"], p["r"]] for p in points], axis=0)
    np.testing.assert_allclose(means, 1 / 3, atol=0.06)


@pytest.mark.parametrize("method", ["random", "sobol"])
def test_same_seed_same_points_other_seed_other_points(method: str) -> None:
    space = constrained_space()
    first = sample_points(space, 8, seed=5, method=method)  # type: ignore[arg-type]
    assert sample_points(space, 8, seed=5, method=method) == first  # type: ignore[arg-type]
    other = sample_points(space, 8, seed=6, method=method)  # type: ignore[arg-type]
    assert other != first
    assert all(a["A"] != b["A"] for a, b in zip(first, other, strict=True))


@pytest.mark.parametrize("method", ["random", "sobol"])
@pytest.mark.parametrize("n", [1, 3, 17])
def test_exactly_n_points_unconstrained(method: str, n: int) -> None:
    space = SearchSpace([Continuous("x", -1, 1), Integer("k", 0, 9), Categorical("c", ("u", "v"))])
    points = sample_points(space, n, seed=0, method=method)  # type: ignore[arg-type]
    assert len(points) == n
    for point in points:
        space.validate(point)


@pytest.mark.parametrize("n", [0, -3])
def test_no_points_for_non_positive_n(n: int) -> None:
    assert sample_points(constrained_space(), n, seed=0) == []


def test_sobol_covers_unit_interval_evenly() -> None:
    points = sample_points(SearchSpace([Continuous("x", 0, 1)]), 64, seed=3, method="sobol")
    counts = np.histogram([p["x"] for p in points], bins=8, range=(0, 1))[0]
    np.testing.assert_array_equal(counts, 8)  # a scrambled Sobol net has 8 points in each eighth


def test_integer_bins_are_equal_width() -> None:
    points = sample_points(SearchSpace([Integer("k", 0, 3)]), 64, seed=3, method="sobol")
    counts = np.bincount([p["k"] for p in points], minlength=4)  # type: ignore[misc]
    np.testing.assert_array_equal(counts, 16)


def test_greater_equal_constraint_only() -> None:
    space = SearchSpace(
        [Continuous("x", 0, 1), Continuous("y", 0, 1), Integer("k", 0, 2)],
        constraints=[LinearConstraint({"x": 1, "y": 1}, 1.5, ">=")],
    )
    points = sample_points(space, 100, seed=2)
    for point in points:
        space.validate(point)
        assert point["x"] + point["y"] >= 1.5 - 1e-9
    # the free integer is still drawn independently
    assert {p["k"] for p in points} == {0, 1, 2}


def test_infeasible_constraint_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="constraint"):
        space = SearchSpace(
            [Continuous("x", 0, 1), Continuous("y", 0, 1)], constraints=[LinearConstraint({"x": 1, "y": 1}, 5, ">=")]
        )
        sample_points(space, 3, seed=0)
