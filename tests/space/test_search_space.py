"""Unit tests of kiln.space.search_space: layout, validation, encode/decode and constraints in model coordinates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.space.config import space_from_config
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer
from kiln.space.search_space import SearchSpace

LIGANDS = {"L1": (1.0, 10.0), "L2": (2.0, 30.0), "L3": (4.0, 20.0)}


def mixed_space(*, linear: bool = True) -> SearchSpace:
    """Every parameter kind, a composition with bounds and two linear constraints (one on composition parts)."""
    constraints = (
        [LinearConstraint({"T": 1, "A": 2}, 150, "<="), LinearConstraint({"B": 1, "C": -1, "T": 0.5}, -20, ">=")]
        if linear
        else []
    )
    return SearchSpace(
        [
            Categorical("solvent", ("water", "ethanol", "dmso")),
            Continuous("T", 20, 80),
            Continuous("conc", 1, 100, log=True),
            Integer("n", 1, 5),
            Discrete("t", (0.7, 1.05, 1.4, 2.8)),
            Categorical("ligand", ("L1", "L2", "L3"), LIGANDS),
        ],
        compositions=[Composition("mix", ("A", "B", "C"), total=100, bounds={"A": (10, 60), "B": (0, 50)})],
        constraints=constraints,
    )


POINT = {"solvent": "dmso", "T": 50.0, "conc": 10.0, "n": 3, "t": 1.05, "ligand": "L2", "A": 30.0, "B": 20.0, "C": 50.0}


# ------------------------------------------------------------------------------------------------ layout
def test_layout_names_and_dim() -> None:
    space = mixed_space()
    assert space.names == ["solvent", "T", "conc", "n", "t", "ligand", "A", "B", "C"]
    assert [(b.parameter.name, b.start, b.stop) for b in space.blocks] == [
        ("solvent", 0, 3),
        ("T", 3, 4),
        ("conc", 4, 5),
        ("n", 5, 6),
        ("t", 6, 7),
        ("ligand", 7, 9),
        ("A", 9, 10),
        ("B", 10, 11),
        ("C", 11, 12),
    ]
    assert space.dim == 12
    assert space.by_name["A"] == Continuous("A", 10, 60)
    assert space.by_name["C"] == Continuous("C", 0, 100)


def test_constrained_names_and_is_continuous() -> None:
    space = mixed_space()
    assert space.constrained_names == ["T", "A", "B", "C"]
    assert not space.is_continuous
    assert mixed_space(linear=False).constrained_names == ["A", "B", "C"]
    plain = SearchSpace([Continuous("x", 0, 1)], compositions=[Composition("m", ("p", "q"))])
    assert plain.is_continuous
    assert SearchSpace([Continuous("x", 0, 1)]).constrained_names == []


@pytest.mark.parametrize(
    ("build", "field", "shown", "words"),
    [
        (lambda: SearchSpace([]), "space: parameters", "[]", "at least one parameter"),
        (
            lambda: SearchSpace([Continuous("x", 0, 1), Integer("x", 0, 3)]),
            "space: parameters",
            "['x']",
            "each name may be used once",
        ),
        (
            lambda: SearchSpace([Continuous("A", 0, 1)], compositions=[Composition("m", ("A", "B"))]),
            "space: parameters",
            "['A']",
            "each name may be used once",
        ),
        (
            lambda: SearchSpace([Continuous("x", 0, 1)], constraints=[LinearConstraint({"x": 1, "y": 1}, 1)]),
            "constraint '1*x + 1*y <= 1'",
            "'y'",
            "name continuous parameters only",
        ),
        (
            lambda: SearchSpace(
                [Continuous("x", 0, 1), Integer("n", 0, 3)], constraints=[LinearConstraint({"n": 1}, 1)]
            ),
            "constraint '1*n <= 1'",
            "'n'",
            "continuous linear-scale",
        ),
        (
            lambda: SearchSpace([Continuous("x", 1, 10, log=True)], constraints=[LinearConstraint({"x": 1}, 5)]),
            "constraint '1*x <= 5'",
            "'x'",
            "continuous linear-scale",
        ),
    ],
)
def test_construction_errors(build: object, field: str, shown: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        build()  # type: ignore[operator]
    message = str(error.value)
    assert message.startswith(f"{field}: got {shown}")
    assert words in message


# -------------------------------------------------------------------------------------------- validation
def test_validate_returns_canonical_types() -> None:
    raw = {**POINT, "n": "3", "T": 50, "t": "1.05", "A": "30"}
    clean = mixed_space().validate(raw)
    assert clean == POINT
    assert type(clean["n"]) is int and type(clean["T"]) is float and type(clean["A"]) is float
    assert list(clean) == mixed_space().names


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"solvent": "acetone"}, "parameter 'solvent': got 'acetone'", "allowed choices"),
        ({"T": 90.0}, "parameter 'T': got 90.0", "[20, 80]"),
        ({"conc": 0.5}, "parameter 'conc': got 0.5", "[1, 100]"),
        ({"n": 2.5}, "parameter 'n': got 2.5", "integers 1..5"),
        ({"t": 1.0}, "parameter 't': got 1.0", "allowed levels"),
        ({"A": 5.0, "C": 75.0}, "parameter 'A': got 5.0", "[10, 60]"),
        ({"B": 25.0}, "composition 'mix': got {'A': 30.0, 'B': 25.0, 'C': 50.0}", "they sum to 105"),
        ({"T": 80.0, "A": 40.0, "C": 40.0}, "constraint '1*T + 2*A <= 150': got {'T': 80.0, 'A': 40.0}", "break"),
        (
            {"B": 0.0, "C": 70.0, "T": 20.0},
            "constraint '1*B + -1*C + 0.5*T >= -20': got {'B': 0.0, 'C': 70.0, 'T': 20.0}",
            "break",
        ),
    ],
)
def test_validate_errors_name_the_field(change: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as error:
        mixed_space().validate({**POINT, **change})
    message = str(error.value)
    assert message.startswith(field)
    assert words in message


def test_validate_missing_and_unknown_names() -> None:
    point = {k: v for k, v in POINT.items() if k != "n"} | {"speed": 3}
    with pytest.raises(ValidationError) as error:
        mixed_space().validate(point)
    message = str(error.value)
    assert message.startswith("parameters: got ")
    assert "missing ['n']" in message
    assert "unknown ['speed']" in message


def test_validate_needs_a_mapping() -> None:
    with pytest.raises(ValidationError, match=r"^parameters: got \[1, 2\]; a map"):
        mixed_space().validate([1, 2])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- encoding
def test_encode_known_point() -> None:
    X = mixed_space().encode([POINT])
    expected = [
        0.0, 0.0, 1.0,  # dmso one-hot
        0.5,  # T: (50 - 20) / 60
        0.5,  # conc: geometric midpoint of [1, 100]
        0.5,  # n: (3 - 1) / 4
        (1.05 - 0.7) / 2.1,  # t scaled by value
        1 / 3, 1.0,  # L2 descriptors (2, 30) min-max scaled per column
        (30 - 10) / 50, 20 / 50, 50 / 100,  # parts within their own bounds
    ]  # fmt: skip
    np.testing.assert_allclose(X, [expected], atol=1e-12)


@pytest.mark.parametrize(("low", "high"), [(1.0, 100.0), (0.01, 10.0), (3.0, 7.0), (1e-6, 1e3)])
def test_log_scale_geometric_midpoint_maps_to_half(low: float, high: float) -> None:
    space = SearchSpace([Continuous("x", low, high, log=True)])
    middle = math.sqrt(low * high)
    assert space.encode([{"x": middle}])[0, 0] == pytest.approx(0.5, abs=1e-12)
    assert space.decode(np.array([[0.5]]))[0]["x"] == pytest.approx(middle, rel=1e-12)
    # and not the arithmetic midpoint
    assert space.encode([{"x": (low + high) / 2}])[0, 0] > 0.5 + 1e-3


def test_encode_of_valid_points_lies_in_unit_box() -> None:
    space = mixed_space(linear=False)
    rng = np.random.default_rng(0)
    rows = space.decode(rng.random((300, space.dim)))
    X = space.encode(rows)
    assert X.shape == (300, space.dim)
    assert X.min() >= -1e-12 and X.max() <= 1 + 1e-12
    # one-hot blocks have exactly one 1
    np.testing.assert_array_equal(X[:, 0:3].sum(1), 1.0)


def test_encode_empty_without_descriptors() -> None:
    space = SearchSpace([Categorical("s", ("a", "b")), Continuous("x", 0, 1)])
    assert space.encode([]).shape == (0, 3)


def test_encode_empty_with_descriptors() -> None:
    assert mixed_space().encode([]).shape == (0, 12)


# ---------------------------------------------------------------------------------------------- decoding
@pytest.mark.parametrize(("z", "expected"), [(0.0, 1), (0.5, 3), (0.6, 3), (0.65, 4), (0.99, 5), (1.3, 5), (-0.4, 1)])
def test_decode_integer_rounds_and_clips(z: float, expected: int) -> None:
    value = SearchSpace([Integer("n", 1, 5)]).decode(np.array([[z]]))[0]["n"]
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    ("value", "expected"), [(0.7, 0.7), (0.8, 0.7), (0.9, 1.05), (2.0, 1.4), (2.2, 2.8), (2.8, 2.8)]
)
def test_decode_discrete_snaps_to_nearest_level(value: float, expected: float) -> None:
    space = SearchSpace([Discrete("t", (0.7, 1.05, 1.4, 2.8))])
    z = (value - 0.7) / 2.1
    assert space.decode(np.array([[z]]))[0]["t"] == expected


@pytest.mark.parametrize(
    ("z", "expected"), [((0.2, 0.9, 0.1), "ethanol"), ((0.0, 0.0, 0.3), "dmso"), ((0.7, 0.6, 0.6), "water")]
)
def test_decode_one_hot_takes_argmax(z: tuple[float, ...], expected: str) -> None:
    space = SearchSpace([Categorical("solvent", ("water", "ethanol", "dmso"))])
    assert space.decode(np.array([z]))[0]["solvent"] == expected


@pytest.mark.parametrize(
    ("z", "expected"),
    [((0.0, 0.0), "L1"), ((0.3, 0.9), "L2"), ((0.9, 0.4), "L3"), ((1.0, 0.5), "L3"), ((0.1, 0.2), "L1")],
)
def test_decode_descriptors_picks_nearest_row(z: tuple[float, float], expected: str) -> None:
    space = SearchSpace([Categorical("ligand", ("L1", "L2", "L3"), LIGANDS)])
    assert space.dim == 2
    assert space.decode(np.array([z]))[0]["ligand"] == expected


def test_descriptor_encoding_keeps_similar_choices_close() -> None:
    space = SearchSpace([Categorical("s", ("a", "b", "c"), {"a": (0.0,), "b": (0.1,), "c": (1.0,)})])
    X = space.encode([{"s": "a"}, {"s": "b"}, {"s": "c"}])
    np.testing.assert_allclose(X[:, 0], [0.0, 0.1, 1.0])


def test_constant_descriptor_column_encodes_to_zero() -> None:
    space = SearchSpace([Categorical("s", ("a", "b"), {"a": (5.0, 1.0), "b": (5.0, 2.0)})])
    np.testing.assert_allclose(space.encode([{"s": "a"}, {"s": "b"}]), [[0.0, 0.0], [0.0, 1.0]])
    assert [r["s"] for r in space.decode(np.array([[0.0, 0.2], [0.0, 0.8]]))] == ["a", "b"]


def test_decode_log_and_linear_continuous() -> None:
    space = SearchSpace([Continuous("x", 20, 80), Continuous("y", 1, 1000, log=True)])
    rows = space.decode(np.array([[0.25, 1 / 3], [1.5, -1.0]]))
    assert rows[0]["x"] == pytest.approx(35.0)
    assert rows[0]["y"] == pytest.approx(10.0)
    assert rows[1] == {"x": 80.0, "y": 1.0}


def test_decode_renormalises_compositions_onto_the_simplex() -> None:
    space = mixed_space(linear=False)
    rng = np.random.default_rng(1)
    X = rng.random((500, space.dim))
    X[:50, 9:12] = rng.choice([0.0, 1.0], size=(50, 3))  # corners: all at low or high bound
    for row in space.decode(X):
        assert row["A"] + row["B"] + row["C"] == pytest.approx(100.0, abs=1e-9)
        assert 10.0 <= row["A"] <= 60.0
        assert 0.0 <= row["B"] <= 50.0
        assert 0.0 <= row["C"] <= 100.0
        space.validate(row)


def test_decode_moves_excess_in_proportion_to_room() -> None:
    space = SearchSpace([], compositions=[Composition("mix", ("A", "B", "C"), bounds={"A": (10, 60), "B": (0, 50)})])
    # 35 + 25 + 50 = 110: the excess 10 is taken from the room above the lower bounds (25, 25, 50)
    row = space.decode(np.array([[0.5, 0.5, 0.5]]))[0]
    assert row == pytest.approx({"A": 32.5, "B": 22.5, "C": 45.0})


def test_decode_keeps_a_composition_that_already_sums() -> None:
    space = mixed_space()
    row = space.decode(space.encode([POINT]))[0]
    assert row == pytest.approx(POINT)
    assert row["solvent"] == "dmso" and row["ligand"] == "L2"


def test_encode_decode_round_trip_on_valid_points() -> None:
    space = mixed_space(linear=False)
    rows = space.decode(np.random.default_rng(2).random((200, space.dim)))
    again = space.decode(space.encode(rows))
    for before, after in zip(rows, again, strict=True):
        assert after.keys() == before.keys()
        for name, value in before.items():
            if isinstance(value, str):
                assert after[name] == value
            else:
                assert after[name] == pytest.approx(value, rel=1e-9, abs=1e-9)
                assert type(after[name]) is type(value)


def test_decode_accepts_a_flat_vector() -> None:
    space = SearchSpace([Continuous("x", 0, 10), Integer("n", 0, 4)])
    assert space.decode(np.array([0.5, 0.5])) == [{"x": 5.0, "n": 2}]


def test_decode_rejects_a_matrix_of_the_wrong_width() -> None:
    space = SearchSpace([Continuous("x", 0, 1), Continuous("y", 0, 1)])
    with pytest.raises(ValueError):
        space.decode(np.zeros((2, 3)))


def test_choices_with_identical_descriptors_are_rejected_or_decodable() -> None:
    try:
        space = SearchSpace([Categorical("s", ("a", "b", "c"), {"a": (1.0, 2.0), "b": (1.0, 2.0), "c": (3.0, 4.0)})])
    except ValidationError:
        return
    assert space.decode(space.encode([{"s": "b"}]))[0]["s"] == "b"


# --------------------------------------------------------------------------------- model-space constraints
def _random_lab_rows(space: SearchSpace, n: int, seed: int) -> list[dict[str, object]]:
    """Points inside each parameter's own range that need not meet any constraint."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        row = dict(POINT)
        for name in ("T", "A", "B", "C"):
            p = space.by_name[name]
            assert isinstance(p, Continuous)
            row[name] = float(rng.uniform(p.low, p.high))
        rows.append(row)
    return rows


def _lab_slack(constraint: LinearConstraint, row: dict[str, object]) -> float:
    lhs = sum(c * float(row[n]) for n, c in constraint.coefficients.items())  # type: ignore[arg-type]
    return lhs - constraint.rhs if constraint.op == ">=" else constraint.rhs - lhs


def test_inequality_constraints_in_model_coordinates_agree_with_lab_units() -> None:
    space = mixed_space()
    rows = _random_lab_rows(space, 400, seed=3)
    X = space.encode(rows)
    forms = space.inequality_constraints()
    assert len(forms) == 2
    assert forms[0][0] == [3, 9]  # T, A columns
    assert forms[1][0] == [3, 10, 11]  # T, B, C in column order
    for constraint, (indices, coefficients, rhs) in zip(space.constraints, forms, strict=True):
        assert max(abs(c) for c in coefficients) == pytest.approx(1.0)  # scaled to O(1)
        model = X[:, indices] @ np.asarray(coefficients) - rhs  # >= 0 when feasible (BoTorch convention)
        lab = np.array([_lab_slack(constraint, r) for r in rows])
        assert (lab > 0).any() and (lab < 0).any()  # the sample straddles the boundary
        far = np.abs(lab) > 1e-6
        np.testing.assert_array_equal(np.sign(model[far]), np.sign(lab[far]))
        ratio = model[far] / lab[far]
        assert ratio.min() > 0
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)  # the same inequality, rescaled


def test_model_constraint_boundary_matches_lab_boundary() -> None:
    space = SearchSpace(
        [Continuous("x", 2, 6), Continuous("y", -1, 1)], constraints=[LinearConstraint({"x": 1, "y": 4}, 5, ">=")]
    )
    ((indices, coefficients, rhs),) = space.inequality_constraints()
    on_boundary = space.encode([{"x": 3.0, "y": 0.5}, {"x": 5.0, "y": 0.0}])
    np.testing.assert_allclose(on_boundary[:, indices] @ np.asarray(coefficients), rhs, atol=1e-12)


def test_equality_constraints_in_model_coordinates_agree_with_lab_units() -> None:
    space = mixed_space()
    rows = _random_lab_rows(space, 200, seed=4)
    X = space.encode(rows)
    ((indices, coefficients, rhs),) = space.equality_constraints()
    assert indices == [9, 10, 11]
    model = X[:, indices] @ np.asarray(coefficients) - rhs
    lab = np.array([float(r["A"]) + float(r["B"]) + float(r["C"]) - 100.0 for r in rows])  # type: ignore[arg-type]
    ratio = model / lab
    assert ratio.min() > 0
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    # decoded (renormalised) points meet the equality in model coordinates
    decoded = space.encode(space.decode(np.random.default_rng(5).random((50, space.dim))))
    np.testing.assert_allclose(decoded[:, indices] @ np.asarray(coefficients), rhs, atol=1e-9)


def test_no_constraints_give_empty_forms() -> None:
    space = SearchSpace([Continuous("x", 0, 1)])
    assert space.inequality_constraints() == []
    assert space.equality_constraints() == []


# --------------------------------------------------------------------------------------------- serialise
def test_to_config_round_trip() -> None:
    space = mixed_space()
    config = space.to_config()
    assert config["kind"] == "space"
    assert [p["name"] for p in config["parameters"]] == ["solvent", "T", "conc", "n", "t", "ligand"]
    assert config["compositions"] == [
        {
            "name": "mix",
            "parts": ["A", "B", "C"],
            "total": 100.0,
            "bounds": {"A": [10.0, 60.0], "B": [0.0, 50.0], "C": [0.0, 100.0]},
        }
    ]
    rebuilt = space_from_config(config)
    assert isinstance(rebuilt, SearchSpace)
    assert rebuilt.to_config() == config
    assert rebuilt.names == space.names and rebuilt.dim == space.dim
    assert rebuilt.inequality_constraints() == space.inequality_constraints()
    np.testing.assert_array_equal(rebuilt.encode([POINT]), space.encode([POINT]))


def test_repr_names_parameters() -> None:
    assert repr(SearchSpace([Continuous("x", 0, 1)])) == "SearchSpace(['x'], dim=1)"
