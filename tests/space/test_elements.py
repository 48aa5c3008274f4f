"""Unit tests of kiln.space.elements: formulas, element names, elemental properties."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.space import elements
from kiln.space.elements import (
    PROPERTIES,
    STATISTICS,
    SYMBOLS,
    UNITS,
    element_of,
    element_properties,
    feature_names,
    formula_table,
    fractions,
    is_formula,
)
from kiln.space.features import FeatureTable


def prop(symbol: str, name: str) -> float:
    return float(element_properties([symbol])[0, PROPERTIES.index(name)])


# -------------------------------------------------------------------------------------------- fractions
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ni0.5Fe0.3Co0.2", {"Ni": 0.5, "Fe": 0.3, "Co": 0.2}),
        ("Ca3(PO4)2", {"Ca": 3 / 13, "P": 2 / 13, "O": 8 / 13}),
        ("(CH3NH3)PbI3", {"C": 1 / 12, "H": 6 / 12, "N": 1 / 12, "Pb": 1 / 12, "I": 3 / 12}),
        ("K4[Fe(CN)6]", {"K": 4 / 17, "Fe": 1 / 17, "C": 6 / 17, "N": 6 / 17}),
        ("(CH5N2)0.8(CH6N)0.2PbI3", {"C": 1 / 12, "H": 5.2 / 12, "N": 1.8 / 12, "Pb": 1 / 12, "I": 3 / 12}),
        ("Cs", {"Cs": 1.0}),
        ("NaCl", {"Na": 0.5, "Cl": 0.5}),
        ("CH3CH2OH", {"C": 2 / 9, "H": 6 / 9, "O": 1 / 9}),
        ("Fe2O3.", {"Fe": 0.4, "O": 0.6}),
        (" Fe.5O.5 ", {"Fe": 0.5, "O": 0.5}),
        ("Og", {"Og": 1.0}),
    ],
)
def test_fractions_of_plain_fractional_and_nested_formulas(text: str, expected: dict[str, float]) -> None:
    got = fractions("material", text)
    assert list(got) == list(expected)  # order of first appearance
    assert got == pytest.approx(expected, rel=1e-12)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)


def test_fractions_agree_with_pymatgen() -> None:
    from pymatgen.core import Composition

    for text in ("Li7La3Zr2O12", "Ba0.5Sr0.5Co0.8Fe0.2O3", "Mg(OH)2", "[Cu(NH3)4]SO4", "Al2(SO4)3"):
        expected = Composition(text).fractional_composition.get_el_amt_dict()
        assert fractions("x", text) == pytest.approx(expected, rel=1e-12)


def error(text: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        fractions("cation", text)
    message = str(caught.value)
    assert message.startswith(f"cation: got {text!r}")
    assert "allowed: a chemical formula" in message
    assert caught.value.fix
    return caught.value


def test_organic_cation_abbreviations_are_named_with_how_to_write_them() -> None:
    """pymatgen alone reads FA0.8MA0.2PbI3 as F, a dummy 'A', a dummy 'M', Pb and I."""
    caught = error("FA0.8MA0.2PbI3")
    assert "'FA', 'MA' are not element symbols" in str(caught)
    assert "CH5N2" in (caught.fix or "") and "(CH5N2)0.8(CH6N)0.2PbI3" in (caught.fix or "")
    assert "'MA' is not an element symbol" in str(error("MAPbI3"))
    assert "'PEA' is not an element symbol" in str(error("PEA2PbI4"))
    assert "'Xx' is not an element symbol" in str(error("Xx2O"))
    assert "write H for D and T" in (error("D2O").fix or "")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "an empty formula"),
        ("   ", "an empty formula"),
        ("Na0Cl", "the amount '0' at position 3 is zero"),
        ("Fe(OH)0.0", "the amount '0.0' at position 7 is zero"),
        ("Na-1Cl", "a negative amount at position 3"),
        ("nacl", "'nacl' at position 1 is not an element symbol (symbols start with a capital letter)"),
        ("water", "'water' at position 1 is not an element symbol"),
        ("c1ccccc1", "'c' at position 1"),
        ("Fe2 O3", "a space at position 4"),
        ("CuSO4·5H2O", "'·' at position 6: hydrate dots are not read"),
        ("Ni1e-3Fe", "an exponent at position 4"),
        ("Fe3+", "'+' at position 4: charges are not part of a formula"),
        ("C=O", "'=' at position 2 is not part of a formula"),
        ("2Fe", "the number '2' at position 1 follows no element or group"),
        ("(PO4", "'(' at position 1 is never closed"),
        ("PO4)", "')' at position 4 closes no open bracket"),
        ("(PO4]", "']' at position 5 closes no open bracket"),
        ("Fe()", "an empty group ending at position 4"),
        ("Ni0.000000001Fe", "the amount of Ni (1e-09) is below 1e-08"),
        ("Fe1" + "0" * 400, "the amount of Fe is above 1e+12"),
        ("(" * 60 + "Fe" + ")2" * 60, "the amount of Fe is above 1e+12"),  # 2**60: pymatgen fails on it
    ],
)
def test_what_is_not_a_formula_is_refused_with_the_reason(text: str, problem: str) -> None:
    assert problem in str(error(text))


def random_formula(rng: random.Random, depth: int = 0) -> str:
    parts = []
    for _ in range(rng.randint(1, 3)):
        if depth < 3 and rng.random() < 0.3:
            opening, closing = rng.choice(["()", "[]"])
            part = opening + random_formula(rng, depth + 1) + closing
        else:
            part = rng.choice(SYMBOLS)
        roll = rng.random()
        if roll < 0.3:
            part += str(rng.randint(1, 12))
        elif roll < 0.5:
            part += f"{rng.uniform(0.01, 5):.3f}"
        parts.append(part)
    return "".join(parts)


def test_random_formulas_of_the_grammar_parse_as_pymatgen_reads_them() -> None:
    """fractions refuses any formula whose amounts pymatgen reads otherwise than the strict check added them up."""
    rng = random.Random(12)
    for _ in range(500):
        text = random_formula(rng)
        assert is_formula(text), text
        assert sum(fractions("x", text).values()) == pytest.approx(1.0)


def test_random_text_gives_an_answer_or_a_validation_error() -> None:
    rng = random.Random(3)
    alphabet = "CcNnOoHFe()[]0123456789.-+ =#@lLaAxX·"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        try:
            fractions("x", text)
        except ValidationError:
            assert not is_formula(text)
        else:
            assert is_formula(text)


def test_overlong_text_is_refused_without_echoing_all_of_it() -> None:
    with pytest.raises(ValidationError, match="at most 500 characters") as caught:
        fractions("cation", "Fe" * 300)
    assert len(str(caught.value)) < 300


def test_non_text_is_refused() -> None:
    with pytest.raises(ValidationError, match="a formula as text"):
        fractions("cation", 3)  # type: ignore[arg-type]


def test_pymatgen_warnings_do_not_reach_the_user() -> None:
    elements._property_table.cache_clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fractions("x", "LiFePO4")
        element_properties(SYMBOLS)
    assert [str(w.message) for w in caught] == []


# -------------------------------------------------------------------------------------------- is_formula
@pytest.mark.parametrize("text", ["NaCl", "Cs", "Ni0.5Fe0.5", "Ca3(PO4)2", "CO", "C", "Cl", "O", "CC(C)O"])
def test_formulas_and_formula_like_smiles_are_formulas(text: str) -> None:
    assert is_formula(text) is True


@pytest.mark.parametrize(
    "text", ["water", "toluene", "DMF", "DMSO", "THF", "FA0.8MA0.2PbI3", "c1ccccc1", "C=O", "", "Na0Cl", "x", "T"]
)
def test_words_abbreviations_and_smiles_with_bonds_are_not(text: str) -> None:
    assert is_formula(text) is False


def test_is_formula_takes_anything() -> None:
    assert is_formula(None) is False  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- element_of
@pytest.mark.parametrize(
    ("name", "symbol"),
    [
        ("Ni", "Ni"),
        ("ni", "Ni"),
        ("NI_load", None),  # N and I
        ("ni_load", "Ni"),
        ("Ni loading (mg)", "Ni"),
        ("Ni(mg)", "Ni"),
        ("fe_load", "Fe"),
        ("FE", "Fe"),  # E is no element, so FE is no formula
        ("co_load", "Co"),
        ("Co", "Co"),
        ("CO", None),  # carbon monoxide, not cobalt
        ("cu_load", "Cu"),
        ("CU_load", None),
        ("ta_load", "Ta"),
        ("no_load", "No"),
        ("Mn-content", "Mn"),
        ("ce %", "Ce"),
        ("C", "C"),
        ("K_load", "K"),
        ("c", None),
        ("b_load", None),
        ("x", None),
        ("T", None),
        ("P3HT content (%)", None),
        ("temperature", None),
        ("nickel", None),
        ("Ni2", None),
        ("", None),
        ("  ", None),
    ],
)
def test_element_of_names(name: str, symbol: str | None) -> None:
    assert element_of(name) == symbol


def test_element_of_takes_anything() -> None:
    assert element_of(3) is None  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- properties
def test_the_symbols_are_pymatgens() -> None:
    from pymatgen.core import Element

    assert [Element.from_Z(z).symbol for z in range(1, 119)] == list(SYMBOLS)


def test_every_property_is_defined_for_every_element() -> None:
    table = element_properties(SYMBOLS)
    assert table.shape == (118, len(PROPERTIES))
    assert table.dtype == np.float64
    assert np.isfinite(table).all()
    assert set(UNITS) == set(PROPERTIES)
    assert element_properties([]).shape == (0, len(PROPERTIES))


def test_known_values_from_pymatgen() -> None:
    assert prop("Cs", "electronegativity") == pytest.approx(0.79)
    assert prop("Cl", "electronegativity") == pytest.approx(3.16)
    assert prop("Fe", "atomic number") == 26
    assert prop("Fe", "melting point") == pytest.approx(1811.0)
    assert prop("Fe", "atomic mass") == pytest.approx(55.845)
    assert prop("Fe", "atomic radius") == pytest.approx(1.4)
    assert (prop("Fe", "row"), prop("Fe", "group")) == (4, 8)
    assert (prop("Cs", "row"), prop("Cs", "group"), prop("Rb", "group")) == (6, 1, 1)
    assert prop("Na", "first ionization energy") == pytest.approx(5.139, abs=1e-3)


@pytest.mark.parametrize(
    ("symbol", "s", "p", "d", "f"),
    [
        ("H", 1, 0, 0, 0),
        ("He", 2, 0, 0, 0),
        ("Ne", 2, 6, 0, 0),
        ("O", 2, 4, 0, 0),
        ("Fe", 2, 0, 6, 0),
        ("Cr", 1, 0, 5, 0),  # 3d5 4s1
        ("Pd", 0, 0, 10, 0),  # 4d10
        ("Ga", 2, 1, 10, 0),
        ("Hf", 2, 0, 2, 14),
        ("Ce", 2, 0, 1, 1),
    ],
)
def test_valence_electrons_outside_the_noble_gas_core(symbol: str, s: int, p: int, d: int, f: int) -> None:
    counts = [prop(symbol, f"{shell} valence electrons") for shell in "spdf"]
    assert counts == [s, p, d, f]
    assert prop(symbol, "valence electrons") == s + p + d + f


def test_gaps_are_borrowed_from_the_nearest_element_of_the_group_or_series() -> None:
    from pymatgen.core import Element

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(Element("He").X) and Element("At").atomic_radius is None  # the gaps are real
    for noble in ("He", "Ne", "Ar"):
        assert prop(noble, "electronegativity") == prop("Kr", "electronegativity") == pytest.approx(3.0)
    assert prop("Xe", "electronegativity") == pytest.approx(2.6)  # its own value is kept
    assert prop("At", "atomic radius") == prop("I", "atomic radius") == pytest.approx(1.4)
    assert prop("Fr", "atomic radius") == prop("Cs", "atomic radius") == pytest.approx(2.6)
    assert prop("Cm", "atomic radius") == prop("Lr", "atomic radius") == prop("Am", "atomic radius")
    assert prop("Og", "valence electrons") == prop("Rn", "valence electrons") == 32
    assert prop("Og", "atomic number") == 118


def test_unknown_symbols_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"element: got 'NI'; an element symbol from H to Og"):
        element_properties(["Ni", "NI"])


# -------------------------------------------------------------------------------------------- formula_table
def column(table: FeatureTable, name: str) -> np.ndarray:
    return table.rows[:, table.names.index(name)]


def test_formula_table_statistics_known_values() -> None:
    table = formula_table("salt", ["NaCl", "Cs", "Na3Cl"])
    assert isinstance(table, FeatureTable)
    assert table.shape == (3, len(PROPERTIES) * len(STATISTICS))
    assert table.names == feature_names()
    assert table.names[:5] == (
        "mean atomic number",
        "mean absolute deviation atomic number",
        "min atomic number",
        "max atomic number",
        "range atomic number",
    )
    x_na, x_cl = 0.93, 3.16
    assert column(table, "mean electronegativity") == pytest.approx([(x_na + x_cl) / 2, 0.79, (3 * x_na + x_cl) / 4])
    assert column(table, "mean absolute deviation electronegativity") == pytest.approx(
        [(x_cl - x_na) / 2, 0.0, 2 * 0.75 * 0.25 * (x_cl - x_na)]
    )
    assert column(table, "min electronegativity") == pytest.approx([x_na, 0.79, x_na])
    assert column(table, "max electronegativity") == pytest.approx([x_cl, 0.79, x_cl])
    assert column(table, "range electronegativity") == pytest.approx([x_cl - x_na, 0.0, x_cl - x_na])
    assert column(table, "mean atomic number") == pytest.approx([14.0, 55.0, (3 * 11 + 17) / 4])
    assert np.isfinite(table.rows).all()


def test_formula_table_weights_by_atomic_fraction() -> None:
    table = formula_table("phosphate", ["Ca3(PO4)2"])
    z = (3 * 20 + 2 * 15 + 8 * 8) / 13
    assert column(table, "mean atomic number") == pytest.approx([z])
    deviation = (3 * abs(20 - z) + 2 * abs(15 - z) + 8 * abs(8 - z)) / 13
    assert column(table, "mean absolute deviation atomic number") == pytest.approx([deviation])
    assert column(table, "range atomic number") == pytest.approx([12.0])


def test_formula_table_errors_name_the_field_and_choice() -> None:
    with pytest.raises(ValidationError, match=r"^parameter 'cation': got 'FA0.8MA0.2PbI3'; 'FA', 'MA' are not"):
        formula_table("parameter 'cation'", ["CsPbI3", "FA0.8MA0.2PbI3"])
    with pytest.raises(ValidationError, match="one or more chemical formulas"):
        formula_table("parameter 'cation'", [])
    with pytest.raises(ValidationError, match="one or more chemical formulas"):
        formula_table("parameter 'cation'", "NaCl")
