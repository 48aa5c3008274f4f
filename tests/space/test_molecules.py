"""Unit tests of kiln.space.molecules: SMILES parsing, descriptor and fingerprint tables (known values)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.space.features import reduce_features
from kiln.space.molecules import (
    descriptor_names,
    descriptor_table,
    fingerprint_table,
    is_molecule,
    molecule,
)

FIELD = "parameter 'base'"


# -------------------------------------------------------------------------------------------- parsing
def test_a_valid_smiles_gives_its_molecule() -> None:
    mol = molecule(FIELD, "CCO")
    assert mol.GetNumAtoms() == 3
    assert molecule(FIELD, "  c1ccccc1 ").GetNumAtoms() == 6


@pytest.mark.parametrize(
    ("smiles", "reason", "position"),
    [
        ("C1CC", "unclosed ring", None),
        ("c1ccccc", "unclosed ring", None),
        ("CC(C", "extra open parentheses", 3),
        ("Xx", "syntax error", 1),
        ("c1ccccc1C(", "syntax error", 10),
        ("c1cccc1", "kekulize", None),
        ("C(C)(C)(C)(C)C", "valence", None),
    ],
)
def test_an_invalid_smiles_names_the_field_rdkit_s_reason_and_position(
    smiles: str, reason: str, position: int | None
) -> None:
    with pytest.raises(ValidationError) as caught:
        molecule(FIELD, smiles)
    error = caught.value
    assert error.field == FIELD
    assert error.value == smiles
    assert error.allowed.startswith("allowed: a valid SMILES string; RDKit: ")
    assert reason in error.allowed
    message = str(error)
    assert message.startswith(f"{FIELD}: got {smiles!r}")
    if position is None:
        assert "position" not in message
    else:
        assert f"at position {position}" in error.allowed
        assert f"near position {position}" in (error.fix or "")
    assert "[" not in error.allowed.split("RDKit: ")[1] or "[" in smiles  # no log timestamps
    assert "~" not in message and "^" not in message  # nor the log's marker lines


@pytest.mark.parametrize(("smiles", "shown"), [("CC O", "'CC'"), ("CCO ethanol", "'CCO'")])
def test_a_space_inside_a_smiles_is_refused_not_cut(smiles: str, shown: str) -> None:
    with pytest.raises(ValidationError, match=f"would read only {shown}"):
        molecule(FIELD, smiles)


@pytest.mark.parametrize("value", ["", "   ", None, 3])
def test_empty_or_non_text_is_refused(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        molecule(FIELD, value)  # type: ignore[arg-type]
    assert caught.value.field == FIELD


def test_invalid_smiles_print_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    from rdkit import rdBase

    status = rdBase.LogStatus()
    for text in ("C1CC", "CC(C", "toluene", "c1cccc1", "[H]"):
        is_molecule(text)
    with pytest.raises(ValidationError):
        molecule(FIELD, "CC(C")
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert rdBase.LogStatus() == status  # the user's RDKit logging is left as it was


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toluene", False),
        ("Cc1ccccc1", True),
        ("DMF", False),
        ("CN(C)C=O", True),
        ("water", False),
        ("", False),
        ("CC(C", False),
        ("[Na+].[Cl-]", True),
        (None, False),
        (1.5, False),
    ],
)
def test_is_molecule(text: object, expected: bool) -> None:
    assert is_molecule(text) is expected


# -------------------------------------------------------------------------------------------- descriptors
def test_descriptor_table_has_known_values() -> None:
    features = descriptor_table(FIELD, ["CCO", "c1ccccc1", "CC(=O)O", "CN(C)C=O"])
    assert features.shape == (4, len(descriptor_names()))

    def column(name: str) -> np.ndarray:
        return features.rows[:, features.names.index(name)]

    assert column("MolWt") == pytest.approx([46.069, 78.114, 60.052, 73.095], abs=1e-3)
    assert column("TPSA") == pytest.approx([20.23, 0.0, 37.3, 20.31], abs=1e-2)
    assert column("HeavyAtomCount").tolist() == [3, 6, 4, 5]
    assert column("NumAromaticRings").tolist() == [0, 1, 0, 0]
    assert column("RingCount").tolist() == [0, 1, 0, 0]
    assert column("NumHDonors").tolist() == [1, 0, 1, 0]
    assert column("ExactMolWt")[0] == pytest.approx(46.041865, abs=1e-5)


def test_descriptor_columns_are_rdkit_s_descriptors_sorted_by_name() -> None:
    from rdkit.Chem import Descriptors

    names = descriptor_names()
    assert list(names) == sorted(names)
    assert set(names) == {name for name, _ in Descriptors.descList}
    assert len(names) > 150
    assert descriptor_table(FIELD, ["CCO"]).names == names


def test_descriptors_keep_the_choices_order_and_are_repeatable() -> None:
    forward = descriptor_table(FIELD, ["CCO", "c1ccccc1"])
    backward = descriptor_table(FIELD, ["c1ccccc1", "CCO"])
    assert np.array_equal(forward.rows, backward.rows[::-1], equal_nan=True)
    assert descriptor_table(FIELD, ["CCO", "c1ccccc1"]) == forward


def test_descriptors_rdkit_cannot_compute_are_nan_and_reduction_drops_them(capfd: pytest.CaptureFixture[str]) -> None:
    features = descriptor_table(FIELD, ["CCO", "CC(C)(C)O[K]", "c1ccccc1"])
    charge = features.rows[:, features.names.index("MaxPartialCharge")]
    assert np.isfinite(charge[0]) and np.isnan(charge[1])
    reduced = reduce_features(features)
    assert reduced.steps["non_finite"] >= 1
    assert "MaxPartialCharge" not in reduced.table.names
    assert np.isfinite(reduced.table.rows).all()
    json.dumps(reduced.table.to_dict())
    assert capfd.readouterr() == ("", "")


def test_descriptor_table_names_the_first_invalid_choice() -> None:
    with pytest.raises(ValidationError) as caught:
        descriptor_table(FIELD, ["CCO", "CC(C", "C1CC"])
    assert caught.value.field == FIELD
    assert caught.value.value == "CC(C"
    assert "position 3" in str(caught.value)


@pytest.mark.parametrize("smiles", [[], "CCO"])
def test_descriptor_table_needs_a_list_of_smiles(smiles: object) -> None:
    with pytest.raises(ValidationError, match="one or more SMILES"):
        descriptor_table(FIELD, smiles)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------- fingerprints
def test_fingerprints_of_one_molecule_are_equal_and_of_others_differ() -> None:
    features = fingerprint_table(FIELD, ["CCO", "OCC", "CO", "c1ccccc1", "Cc1ccccc1"])
    rows = features.rows
    assert features.shape == (5, 2048)
    assert features.names[0] == "ecfp4_bit0" and features.names[-1] == "ecfp4_bit2047"
    assert set(np.unique(rows)) <= {0.0, 1.0}
    assert np.array_equal(rows[0], rows[1])  # ethanol written two ways
    assert not np.array_equal(rows[0], rows[2])
    assert not np.array_equal(rows[3], rows[4])
    # benzene: every atom has the same environment at radius 0, 1 and 2, so 3 bits
    assert rows[3].sum() == 3
    # toluene shares benzene's ring environments but has more of its own
    assert 3 < rows[4].sum() < 30
    shared = np.minimum(rows[3], rows[4]).sum() / np.maximum(rows[3], rows[4]).sum()
    assert 0 < shared < 1


def test_count_fingerprints_count_environments() -> None:
    features = fingerprint_table(FIELD, ["c1ccccc1", "CCO"], counts=True)
    assert features.names[5] == "ecfp4_count5"
    benzene = features.rows[0]
    assert benzene.sum() == 18  # 6 atoms x 3 radii
    assert benzene.max() == 6
    bits = fingerprint_table(FIELD, ["c1ccccc1", "CCO"])
    assert np.array_equal(features.rows > 0, bits.rows > 0)


def test_fingerprint_radius_and_size_are_honoured() -> None:
    small = fingerprint_table(FIELD, ["CCCCCC"], radius=1, size=64)
    assert small.shape == (1, 64)
    assert small.names[0] == "ecfp2_bit0"
    assert fingerprint_table(FIELD, ["CCCCCC"], radius=0, size=64).rows.sum() < small.rows.sum()


@pytest.mark.parametrize(("option", "value"), [("radius", -1), ("radius", 2.5), ("size", 0), ("size", True)])
def test_bad_fingerprint_settings_are_refused(option: str, value: object) -> None:
    with pytest.raises(ValidationError, match=f"fingerprint {option}"):
        fingerprint_table(FIELD, ["CCO"], **{option: value})  # type: ignore[arg-type]


def test_fingerprint_table_refuses_an_invalid_choice() -> None:
    with pytest.raises(ValidationError, match="unclosed ring"):
        fingerprint_table(FIELD, ["CCO", "c1ccccc"])
