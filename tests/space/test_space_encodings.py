"""Encodings of categorical parameters and pool text columns: resolution, storage, reopening, kernel layouts."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from kiln.campaign.config import CampaignConfig, onehot_as_before
from kiln.core.errors import ValidationError
from kiln.objective import Objective, Target
from kiln.space.config import space_from_config
from kiln.space.constraints import Composition
from kiln.space.encodings import Encoding, resolve
from kiln.space.parameters import Categorical
from kiln.space.pool import CandidatePool
from kiln.space.search_space import SearchSpace
from kiln.strategies.default import DefaultStrategy

LIGANDS = {
    "PPh3": "c1ccc(cc1)P(c1ccccc1)c1ccccc1",
    "PCy3": "C1CCC(CC1)P(C1CCCCC1)C1CCCCC1",
    "PtBu3": "CC(C)(C)P(C(C)(C)C)C(C)(C)C",
    "dppf": "c1ccc(cc1)P(c1ccccc1)[C-]1C=CC=C1.[C-]1(C=CC=C1)P(c1ccccc1)c1ccccc1.[Fe+2]",
    "XPhos": "CC(C)c1cc(C(C)C)c(-c2ccccc2P(C2CCCCC2)C2CCCCC2)c(C(C)C)c1",
}
SOLVENTS = ["CC#N", "C1CCOC1", "CN(C)C=O", "Cc1ccccc1"]


def test_auto_gives_descriptors_for_smiles_and_onehot_for_names() -> None:
    molecules = Categorical("solvent", tuple(SOLVENTS))
    assert molecules.resolved_encoding == "descriptors"
    assert molecules.encoded.requested == "auto" and molecules.encoded.raw > 100
    features = molecules.width - len(SOLVENTS)  # the reduced descriptors, then one column per choice
    assert 1 <= features <= len(SOLVENTS) - 1 and molecules.encoded.identity
    rows = np.array([molecules.encoded.rows[c] for c in SOLVENTS])
    np.testing.assert_array_equal(rows[:, features:], np.eye(len(SOLVENTS)))
    assert molecules.describe_encoding().endswith(f"-> {features}, beside 4 one-hot columns")
    names = Categorical("solvent", ("toluene", "water", "DMF"))
    assert names.resolved_encoding == "onehot" and names.width == 3


def test_smiles_map_names_the_choices() -> None:
    ligand = Categorical("ligand", tuple(LIGANDS), smiles=LIGANDS)
    assert ligand.resolved_encoding == "descriptors"
    rows = np.array([ligand.encoded.rows[c] for c in LIGANDS])
    assert rows.min() >= 0 and rows.max() == pytest.approx(1.0)
    assert len({tuple(r) for r in rows}) == len(LIGANDS)  # every ligand keeps a row of its own


def test_descriptors_keep_the_proportions_of_distances() -> None:
    """One factor scales every component: the two molecules alike (propanol, butanol) are closer than either is to
    benzene, as in the standardised descriptor table."""
    solvent = Categorical("solvent", ("CCCO", "CCCCO", "c1ccccc1", "CC(C)=O"))
    rows = {c: np.array(v) for c, v in solvent.encoded.rows.items()}
    near = np.linalg.norm(rows["CCCO"] - rows["CCCCO"])
    assert near < np.linalg.norm(rows["CCCO"] - rows["c1ccccc1"])
    assert near < np.linalg.norm(rows["CCCCO"] - rows["c1ccccc1"])


def test_fingerprints_are_bits_with_a_tanimoto_block() -> None:
    space = SearchSpace(
        [
            Categorical("ligand", tuple(LIGANDS), smiles=LIGANDS, encoding="fingerprints"),
            Categorical("base", ("K2CO3", "Cs2CO3")),
        ]
    )
    ligand = space.by_name["ligand"]
    assert isinstance(ligand, Categorical) and ligand.resolved_encoding == "fingerprints"
    values = np.array(list(ligand.encoded.rows.values()))
    assert set(np.unique(values)) <= {0.0, 1.0}
    layout = space.kernel_layout
    assert [b.kind for b in layout.blocks] == ["tanimoto"]
    assert layout.blocks[0].columns == tuple(range(ligand.width))
    assert set(layout.shared_columns) == set(range(ligand.width, space.dim))


def test_formulas_get_elemental_properties() -> None:
    salt = Categorical("salt", ("NaCl", "KCl", "CsBr", "LiF"))
    assert salt.resolved_encoding == "elements"
    assert "pymatgen" in salt.encoded.source


def test_asked_for_encoding_that_does_not_apply_is_refused_with_the_choice() -> None:
    with pytest.raises(ValidationError) as raised:
        Categorical("solvent", ("CC#N", "toluene"), encoding="descriptors")
    assert "toluene" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        Categorical("solvent", ("CC#N", "CCO"), encoding="smiles")
    assert "known encodings" in str(raised.value)


def test_stored_encoding_is_used_as_it_is_on_reopening() -> None:
    """The stored config carries the table: rebuilding the space neither recomputes it nor imports RDKit."""
    space = SearchSpace([Categorical("solvent", tuple(SOLVENTS))])
    config = json.loads(json.dumps(space.to_config()))
    stored = config["parameters"][0]["encoded"]
    stored["rows"]["CC#N"] = [0.5] * len(stored["rows"]["CC#N"])  # a value RDKit would not give
    again = space_from_config(config)
    parameter = again.by_name["solvent"]
    assert isinstance(parameter, Categorical)
    assert parameter.encoded.rows["CC#N"] == (0.5,) * parameter.width
    code = (
        "import json, sys; from kiln.space.config import space_from_config; "
        f"space_from_config(json.loads({json.dumps(json.dumps(config))})); "
        "print('rdkit' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


def test_a_stored_table_that_does_not_fit_the_choices_is_refused() -> None:
    space = SearchSpace([Categorical("solvent", tuple(SOLVENTS))])
    config = space.to_config()
    del config["parameters"][0]["encoded"]["rows"]["CC#N"]
    with pytest.raises(ValidationError) as raised:
        space_from_config(config)
    assert "solvent" in str(raised.value) and "rows" in str(raised.value)


def test_campaigns_stored_before_encodings_stay_onehot() -> None:
    space = {"kind": "space", "parameters": [{"name": "solvent", "type": "categorical", "choices": SOLVENTS}]}
    pool = {"kind": "pool", "columns": ["s"], "rows": [[s] for s in SOLVENTS]}
    assert onehot_as_before(space)["parameters"][0]["encoding"] == "onehot"
    assert onehot_as_before(pool)["encoding"] == "onehot"
    config = CampaignConfig(space_from_config(space), Objective((Target("y"),)), DefaultStrategy()).to_json()
    config["schema"] = 2
    config["space"] = space
    reopened = CampaignConfig.from_json(config)
    parameter = reopened.domain.by_name["solvent"]  # type: ignore[union-attr]
    assert parameter.resolved_encoding == "onehot"
    fresh = CampaignConfig.from_json({**config, "schema": 3})
    assert fresh.domain.by_name["solvent"].resolved_encoding == "descriptors"  # type: ignore[union-attr]


def test_pool_text_columns_are_encoded_and_stored() -> None:
    rows = [[s, t] for s in SOLVENTS for t in (20.0, 40.0)]
    pool = CandidatePool(["solvent", "T"], rows)
    assert pool.encodings["solvent"].kind == "descriptors"
    assert pool.dim == 1 + pool.encodings["solvent"].width(4)
    X = pool.encoded
    assert X.shape == (8, pool.dim) and X.min() >= 0 and X.max() <= 1
    again = space_from_config(json.loads(json.dumps(pool.to_config())))
    assert isinstance(again, CandidatePool)
    np.testing.assert_array_equal(again.encoded, X)
    onehot = CandidatePool(["solvent", "T"], rows, encoding="onehot")
    assert onehot.dim == 5 and onehot.describe_encodings()["solvent"].startswith("one-hot")
    fingerprints = CandidatePool(["solvent", "T"], rows, encoding={"solvent": "fingerprints"})
    assert [b.kind for b in fingerprints.kernel_layout.blocks] == ["tanimoto"]


def test_pool_elements_of_numeric_columns() -> None:
    rows = [[a, 1.0 - a, 20.0] for a in (0.0, 0.25, 0.5, 1.0)]
    pool = CandidatePool(["ni_load", "fe_load", "T"], rows, encoding="elements")
    (block,) = pool.kernel_layout.blocks
    assert block.kind == "elements" and block.columns == (0, 1)
    assert block.low == (0.0, 0.0) and block.span == (1.0, 1.0)
    assert len(block.properties) == 2 and all(0 <= x <= 1 for row in block.properties for x in row)
    assert "Ni" in pool.describe_encodings()["ni_load"]
    with pytest.raises(ValidationError) as raised:
        CandidatePool(["ni_load", "fe_load", "T"], rows, encoding={"T": "elements"})
    assert "T" in str(raised.value)
    with pytest.raises(ValidationError):
        CandidatePool(["ni_load", "fe_load", "T"], rows, encoding={"T": "descriptors"})


def test_composition_of_elements() -> None:
    group = Composition("metals", ("Ni", "Fe", "Co"), total=1.0, bounds={"Ni": (0.1, 0.8)}, encoding="elements")
    space = SearchSpace([], compositions=[group])
    (block,) = space.kernel_layout.blocks
    assert block.kind == "elements" and block.columns == (0, 1, 2)
    assert block.low[0] == pytest.approx(0.1) and block.span[0] == pytest.approx(0.7)
    again = space_from_config(json.loads(json.dumps(space.to_config())))
    assert again.kernel_layout == space.kernel_layout
    with pytest.raises(ValidationError) as raised:
        Composition("mix", ("A", "Fe"), total=1.0, encoding="elements")
    assert "A" in str(raised.value)


def test_resolve_single_distinct_table_falls_back_to_onehot() -> None:
    """Two names for one molecule cannot be told apart by descriptors: one-hot still can."""
    encoding = resolve("parameter 'x'", ["ethanol", "EtOH"], "descriptors", {"ethanol": "CCO", "EtOH": "OCC"})
    assert isinstance(encoding, Encoding) and encoding.kind == "onehot"


def test_thompson_sampling_on_fingerprints_is_refused_when_the_campaign_is_made() -> None:
    from kiln.core.errors import SpecError

    space = SearchSpace([Categorical("ligand", tuple(LIGANDS), smiles=LIGANDS, encoding="fingerprints")])
    with pytest.raises(SpecError) as raised:
        CampaignConfig(space, Objective((Target("y"),)), DefaultStrategy(acquisition="ts"))
    assert "ligand" in str(raised.value)
    CampaignConfig(space, Objective((Target("y"),)), DefaultStrategy())  # the default acquisition models it


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda e: e.update(kind="onehot"), "rows"),  # rows that a one-hot encoding cannot have
        (lambda e: e.update(raw="many"), "raw"),
        (lambda e: e.update(raw=None), "raw"),
        (lambda e: e.update(requested="smiles"), "requested"),
        (lambda e: e.update(source=["RDKit"]), "source"),
        (lambda e: e["rows"].update({k: v[-2:] for k, v in e["rows"].items()}), "one-hot code"),
        (lambda e: e["rows"].update(CCO=[10**400] * len(e["rows"]["CCO"])), "CCO"),
    ],
)
def test_a_malformed_stored_encoding_is_a_validation_error(change: Any, named: str) -> None:
    """Whatever a stored ``encoded`` document holds, reopening it names the field instead of a traceback."""
    space = SearchSpace([Categorical("solvent", ("CCO", "CCCO", "c1ccccc1"))])
    config = json.loads(json.dumps(space.to_config()))
    change(config["parameters"][0]["encoded"])
    with pytest.raises(ValidationError) as raised:
        space_from_config(config)
    assert "solvent" in str(raised.value) and named in str(raised.value)


def test_onehot_rows_that_are_not_a_map_are_a_validation_error() -> None:
    with pytest.raises(ValidationError) as raised:
        Categorical("x", ("a", "b"), encoded={"kind": "onehot", "rows": [1, 2]})
    assert "rows" in str(raised.value)


ELEMENT_BLOCK_CHANGES = [
    (lambda e: e.update(properties=e["properties"][:1]), "properties"),
    (lambda e: e.update(properties=[[math.nan] * len(r) for r in e["properties"]]), "properties"),
    (lambda e: e.update(properties=[[-5.0] * len(r) for r in e["properties"]]), "properties"),
    (lambda e: e.update(properties=[[0.5], [0.5, 0.5], *e["properties"][2:]]), "properties"),
    (lambda e: e.update(properties="abc"), "properties"),
    (lambda e: e.update(symbols=e["symbols"][:1]), "symbols"),
    (lambda e: e.pop("source"), "source"),
    (lambda e: e.pop("names"), "names"),
    (lambda e: e.pop("properties"), "properties"),
]


@pytest.mark.parametrize(("change", "named"), ELEMENT_BLOCK_CHANGES)
def test_a_malformed_stored_elements_block_of_a_pool_is_a_validation_error(change: Any, named: str) -> None:
    rows = [[a, 1.0 - a, 20.0] for a in (0.0, 0.25, 0.5, 1.0)]
    config = json.loads(json.dumps(CandidatePool(["ni_load", "fe_load", "T"], rows, encoding="elements").to_config()))
    change(config["encodings"]["(elements)"])
    with pytest.raises(ValidationError) as raised:
        space_from_config(config)
    assert "(elements)" in str(raised.value) and named in str(raised.value)


@pytest.mark.parametrize(("change", "named"), ELEMENT_BLOCK_CHANGES)
def test_a_malformed_stored_elements_block_of_a_composition_is_a_validation_error(change: Any, named: str) -> None:
    space = SearchSpace([], compositions=[Composition("metals", ("Ni", "Fe", "Co"), total=1.0, encoding="elements")])
    config = json.loads(json.dumps(space.to_config()))
    change(config["compositions"][0]["elements"])
    with pytest.raises(ValidationError) as raised:
        space_from_config(config)
    assert "metals" in str(raised.value) and named in str(raised.value)


@pytest.mark.parametrize("columns", [["ni_load"], ["ni_load", "ni_load"], ["ni_load", "co_load"], "ni_load"])
def test_a_stored_elements_block_naming_wrong_columns_is_a_validation_error(columns: list[str]) -> None:
    rows = [[a, 1.0 - a, 20.0] for a in (0.0, 0.25, 0.5, 1.0)]
    config = json.loads(json.dumps(CandidatePool(["ni_load", "fe_load", "T"], rows, encoding="elements").to_config()))
    config["encodings"]["(elements)"]["columns"] = columns
    with pytest.raises(ValidationError) as raised:
        space_from_config(config)
    assert "columns" in str(raised.value)


def test_a_stored_pool_without_a_text_column_s_encoding_is_refused_not_made_onehot() -> None:
    """A stored document that leaves a column out would reopen it one-hot: other coordinates than the original."""
    rows = [[s, t] for s in SOLVENTS for t in (20.0, 40.0)]
    config = json.loads(json.dumps(CandidatePool(["solvent", "T"], rows).to_config()))
    del config["encodings"]["solvent"]
    with pytest.raises(ValidationError) as raised:
        space_from_config(config)
    assert "solvent" in str(raised.value) and "encodings" in str(raised.value)


def test_negative_element_amounts_are_refused() -> None:
    """The elemental kernel weighs elements by their amounts: a negative one is refused when the pool is made and
    when a point is checked, not when the model is fitted."""
    rows = [[a, 1.0 - a, 20.0] for a in (0.0, 0.25, 0.5, 1.0)]
    with pytest.raises(ValidationError) as raised:
        CandidatePool(["ni_load", "fe_load", "T"], [*rows, [-0.5, 1.5, 20.0]], encoding="elements")
    assert "ni_load" in str(raised.value) and ">= 0" in str(raised.value)
    pool = CandidatePool(["ni_load", "fe_load", "T"], rows, encoding="elements")
    with pytest.raises(ValidationError) as raised:
        pool.validate({"ni_load": -0.1, "fe_load": 1.1, "T": 20.0})
    assert "ni_load" in str(raised.value)
    assert pool.validate({"ni_load": 0.1, "fe_load": 0.9, "T": -5.0})["T"] == -5.0  # not an element: as before


def test_elements_of_one_element_only_are_refused_when_declared() -> None:
    """Two names for one element leave no property that varies: refused when declared, not when fitted."""
    with pytest.raises(ValidationError) as raised:
        Composition("metals", ("Ni", "ni_load"), total=1.0, encoding="elements")
    assert "metals" in str(raised.value) and "two different elements" in str(raised.value)
    rows = [[a, 1.0 - a] for a in (0.0, 0.5, 1.0)]
    with pytest.raises(ValidationError) as raised:
        CandidatePool(["Ni", "ni_load"], rows, encoding={"Ni": "elements", "ni_load": "elements"})
    assert "two different elements" in str(raised.value)
    assert CandidatePool(["Ni", "ni_load"], rows, encoding="elements").elements == {}  # one name for all: not here


def test_yaml_booleans_in_encoding_fields_say_to_quote() -> None:
    """An unquoted ``encoding: off`` or a SMILES map key ``no:`` arrives as true/false: the message says why."""
    from kiln.lab.spec import spec_from_dict

    with pytest.raises(ValidationError) as raised:
        Categorical("x", ("C", "O"), encoding=False)  # type: ignore[arg-type]
    assert "true/false" in str(raised.value) and "onehot" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        CandidatePool(["s"], [["C"], ["O"]], encoding={"s": False})  # type: ignore[dict-item]
    assert "true/false" in str(raised.value)
    with pytest.raises(ValidationError) as raised:
        Categorical("x", ("yes", "no"), smiles={True: "C", False: "O"})  # type: ignore[dict-item]
    assert "true/false" in str(raised.value) and "smiles" in str(raised.value)
    spec = {
        "name": "c",
        "space": {"parameters": [{"name": "x", "type": "categorical", "choices": ["C", "O"], "encoding": False}]},
        "objective": {"target": "y"},
    }
    with pytest.raises(ValidationError) as raised:
        spec_from_dict(spec)
    assert "true/false" in str(raised.value)


def test_smiles_with_encoding_elements_is_refused() -> None:
    """``elements`` would read the choice names as formulas and ignore the molecules given: refused, not ignored
    (one-hot with smiles stays allowed: switching a spec to one-hot changes one line)."""
    smiles = {"Ni": "[Ni]", "Fe": "[Fe]"}
    with pytest.raises(ValidationError) as raised:
        Categorical("metal", ("Ni", "Fe"), smiles=smiles, encoding="elements")
    assert "smiles" in str(raised.value) and "elements" in str(raised.value)
    assert Categorical("metal", ("Ni", "Fe"), smiles=smiles, encoding="onehot").width == 2


def test_an_encoding_object_that_does_not_fit_the_choices_is_refused() -> None:
    """An Encoding given in Python is checked like a stored one (it failed later, with a KeyError, when encoding)."""
    with pytest.raises(ValidationError) as raised:
        Categorical("x", ("a", "b"), encoded=Encoding("descriptors", {"a": (0.1,)}, raw=1))
    assert "rows" in str(raised.value) and "'b'" in str(raised.value)
    kept = Categorical("x", ("a", "b"), encoded=Encoding("descriptors", {"a": (0.1,), "b": (0.9,)}, raw=1))
    assert kept.encoded.rows == {"a": (0.1,), "b": (0.9,)} and kept.width == 1
