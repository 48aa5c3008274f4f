"""Parameters with a unit and a precision: suggestions are rounded to what an instrument can set, keeping bounds,
compositions summing to their total and linear constraints."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from kiln import Campaign, Composition, Continuous, Integer, LinearConstraint, Objective, SearchSpace
from kiln.core.errors import ValidationError
from kiln.space.config import space_from_config
from kiln.space.rounding import round_composition


def _multiple(value: float, step: float) -> bool:
    return math.isclose(value / step, round(value / step), abs_tol=1e-9)


def _space() -> SearchSpace:
    return SearchSpace(
        [Continuous("temperature", 20.05, 199.97, unit="°C", precision=0.1), Integer("cycles", 1, 5, unit="")],
        compositions=[
            Composition("mix", ("A", "B", "C"), total=100.0, unit="µL", precision=0.5, bounds={"A": (5, 60)})
        ],
        constraints=[LinearConstraint({"temperature": 1.0, "A": 1.0}, 150.05, "<=")],
    )


@pytest.mark.parametrize("strategy", ["random", "sobol", {"kind": "bayes", "raw_samples": 32, "restarts": 1}])
def test_suggestions_are_rounded_and_keep_every_rule(store_url: str, strategy: Any) -> None:
    campaign = Campaign.create(
        "c", space=_space(), objective=Objective.maximize("y"), strategy=strategy, store=store_url
    )
    campaign.add_data(
        [
            {"temperature": 100.03, "cycles": 2, "A": 20.3, "B": 30.2, "C": 49.5, "y": 1.0},
            {"temperature": 60.0, "cycles": 4, "A": 40.0, "B": 10.0, "C": 50.0, "y": 2.0},
        ]
    )
    for experiment in campaign.ask(6):
        p = experiment.params
        assert 20.05 <= p["temperature"] <= 199.97 and _multiple(p["temperature"], 0.1)
        assert all(_multiple(p[part], 0.5) for part in "ABC") and 5 <= p["A"] <= 60
        assert p["A"] + p["B"] + p["C"] == pytest.approx(100.0, abs=1e-9)
        assert p["temperature"] + p["A"] <= 150.05 + 1e-9
        assert len(repr(p["temperature"]).split(".")[-1]) <= 1  # no binary noise: 93.5, not 93.50000000001


def test_rounding_keeps_bounds_that_are_not_multiples() -> None:
    space = SearchSpace([Continuous("v", 0.25, 0.95, precision=0.1)])
    assert space.snap({"v": 0.26})["v"] == 0.3 and space.snap({"v": 0.94})["v"] == 0.9
    assert [row["v"] for row in space.decode(np.array([[0.0], [1.0], [0.5]]))] == [0.3, 0.9, 0.6]


def test_a_composition_rounds_to_its_total_by_largest_remainder() -> None:
    group = Composition("mix", ("A", "B", "C"), total=1.0, precision=0.1)
    rounded = round_composition({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3}, group)
    assert sorted(rounded.values()) == [0.3, 0.3, 0.4] and sum(rounded.values()) == pytest.approx(1.0)
    skewed = round_composition({"A": 0.96, "B": 0.02, "C": 0.02}, group)
    assert skewed == {"A": 1.0, "B": 0.0, "C": 0.0}


def test_a_linear_constraint_on_the_edge_is_kept_after_rounding() -> None:
    space = SearchSpace(
        [Continuous("x", 0.0, 10.0, precision=0.5), Continuous("y", 0.0, 10.0, precision=0.5)],
        constraints=[LinearConstraint({"x": 1.0, "y": 1.0}, 9.8, "<=")],
    )
    snapped = space.snap({"x": 4.9, "y": 4.9})  # nearest multiples 5 + 5 = 10 break the constraint
    assert snapped["x"] + snapped["y"] <= 9.8 and all(_multiple(v, 0.5) for v in snapped.values())
    space.validate(snapped)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"name": "v", "type": "continuous", "low": 0.1, "high": 0.2, "precision": 0.5}, "no multiple of 0.5"),
        ({"name": "v", "type": "continuous", "low": 0, "high": 1, "precision": 0}, "> 0"),
        ({"name": "v", "type": "continuous", "low": 0, "high": 1, "precision": 0.1, "step": 0.1}, "not both"),
        ({"name": "v", "type": "continuous", "low": 0, "high": 1, "unit": True}, "quote it"),
    ],
)
def test_bad_precisions_and_units_are_named(config: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        space_from_config({"parameters": [config]})


def test_a_composition_total_must_be_a_multiple_of_its_precision() -> None:
    with pytest.raises(ValidationError, match="multiple of the precision"):
        Composition("mix", ("A", "B"), total=1.0, precision=0.3)


def test_step_is_precision_and_both_survive_the_stored_config() -> None:
    config = {
        "parameters": [{"name": "T", "type": "continuous", "low": 20, "high": 80, "unit": "°C", "step": 0.5}],
        "compositions": [{"name": "mix", "parts": ["A", "B"], "total": 10, "unit": "µL", "precision": 0.1}],
    }
    space = space_from_config(config)
    assert isinstance(space, SearchSpace)
    again = space_from_config(space.to_config())
    assert isinstance(again, SearchSpace)
    assert again.units == {"T": "°C", "A": "µL", "B": "µL"} == space.units
    assert again.by_name["T"].precision == 0.5 and again.by_name["A"].precision == 0.1  # type: ignore[union-attr]
    plain = SearchSpace([Continuous("x", 0, 1)]).to_config()
    assert "unit" not in plain["parameters"][0] and "precision" not in plain["parameters"][0]


def test_a_pool_declares_units_for_its_columns() -> None:
    from kiln import CandidatePool

    pool = CandidatePool(["T", "solvent"], [[20.0, "a"], [30.0, "b"]], units={"T": "°C"})
    assert pool.units == {"T": "°C"}
    again = space_from_config(pool.to_config())
    assert again.units == {"T": "°C"}
    assert "units" not in CandidatePool(["T"], [[1.0], [2.0]]).to_config()
    with pytest.raises(ValidationError, match="input columns"):
        CandidatePool(["T"], [[1.0], [2.0]], units={"P": "bar"})
