"""Unit tests of kiln.strategies.space_points.maximise: the local optimiser and its stopping tolerance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import AcquisitionFunction

from kiln.space.constraints import LinearConstraint
from kiln.space.parameters import Continuous
from kiln.space.search_space import SearchSpace
from kiln.strategies.space_points import maximise

PEAK = np.array([0.3, 0.7])


class Bowl(AcquisitionFunction):
    """-|x - PEAK|^2 of single points (b x 1 x 2 -> b), largest at PEAK; counts its evaluations."""

    def __init__(self) -> None:
        super().__init__(model=None)  # type: ignore[arg-type]
        self.calls = 0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return -((X.squeeze(-2) - torch.as_tensor(PEAK)) ** 2).sum(-1)


class Valley(Bowl):
    """A curved valley (Rosenbrock's, scaled): -((0.3 - a)^2 + 20 (b - a^2)^2), largest at (0.3, 0.09); an
    optimiser needs many small steps along it."""

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        a, b = X[..., 0, 0], X[..., 0, 1]
        return -((0.3 - a) ** 2 + 20.0 * (b - a * a) ** 2)


SPACE = SearchSpace([Continuous("a", 0.0, 1.0), Continuous("b", 0.0, 1.0)])
STARTS = np.array([[0.9, 0.1], [0.1, 0.1]])


@pytest.mark.parametrize("ftol", [None, 1e-5])
def test_it_finds_the_maximum_with_and_without_a_tolerance(ftol: float | None) -> None:
    x = maximise(SPACE, Bowl(), STARTS, seed=0, ftol=ftol)
    assert x.shape == (1, 2) and np.allclose(x[0], PEAK, atol=1e-3)


def test_a_tolerance_applies_under_linear_constraints_too() -> None:
    space = SearchSpace(
        [Continuous("a", 0.0, 1.0), Continuous("b", 0.0, 1.0)],
        constraints=[LinearConstraint({"a": 1.0, "b": 1.0}, 0.5, "<=")],
    )
    x = maximise(space, Bowl(), np.array([[0.1, 0.1]]), seed=0, ftol=1e-5)[0]
    assert x.sum() <= 0.5 + 1e-6 and np.allclose(x, [0.05, 0.45], atol=1e-2)  # the bowl's closest feasible point


def test_a_looser_tolerance_stops_sooner() -> None:
    tight, loose = Valley(), Valley()
    precise = maximise(SPACE, tight, STARTS, seed=0, ftol=1e-14)[0]
    maximise(SPACE, loose, STARTS, seed=0, ftol=1e-2)
    assert loose.calls < tight.calls and np.allclose(precise, [0.3, 0.09], atol=1e-3)
