"""A campaign over molecules and an alloy, from a YAML spec: encodings are computed once, stored, used by the
model's kernel, and reopened as stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiln import Campaign
from kiln.lab.spec import load_spec
from kiln.space.parameters import Categorical
from kiln.space.search_space import SearchSpace

SPEC = """
name: couplings
space:
  parameters:
    - name: ligand
      type: categorical
      choices: [PPh3, PCy3, PtBu3, XPhos]
      smiles:
        PPh3: "c1ccc(cc1)P(c1ccccc1)c1ccccc1"
        PCy3: "C1CCC(CC1)P(C1CCCCC1)C1CCCCC1"
        PtBu3: "CC(C)(C)P(C(C)(C)C)C(C)(C)C"
        XPhos: "CC(C)c1cc(C(C)C)c(-c2ccccc2P(C2CCCCC2)C2CCCCC2)c(C(C)C)c1"
      encoding: fingerprints
    - {name: solvent, type: categorical, choices: ["CC#N", "C1CCOC1", "Cc1ccccc1"]}
    - {name: temperature, type: continuous, low: 25, high: 100, unit: °C}
  compositions:
    - {name: alloy, parts: [Ni, Fe, Co], total: 1, bounds: {Ni: [0.1, 0.8]}, encoding: elements}
objective: {target: yield, direction: max}
strategy: {kind: default, initial: 3}
"""


def _truth(params: dict[str, object]) -> float:
    bonus = {"PCy3": 2.0, "PtBu3": 1.5, "PPh3": 0.2, "XPhos": 1.0}[str(params["ligand"])]
    return bonus + float(params["Ni"]) - abs(float(params["temperature"]) - 70) / 50  # type: ignore[arg-type]


def test_spec_campaign_learns_with_layout_kernels_and_reopens_as_stored(tmp_path: Path, store_url: str) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    spec = load_spec(tmp_path / "spec.yaml")
    space = spec.config.domain
    assert isinstance(space, SearchSpace)
    assert [b.kind for b in space.kernel_layout.blocks] == ["tanimoto", "elements"]
    lines = space.describe_encodings()
    assert lines["ligand"].startswith("fingerprints") and lines["solvent"].startswith("descriptors, chosen by auto")
    assert lines["alloy"].startswith("elements Ni, Fe, Co")
    config = spec.config
    campaign = Campaign.create(
        "couplings", space=space, objective=config.objective, strategy=config.strategy, store=store_url
    )
    for _ in range(5):
        (e,) = campaign.ask(1)
        assert abs(e.params["Ni"] + e.params["Fe"] + e.params["Co"] - 1.0) < 1e-6
        assert e.params["ligand"] in ("PPh3", "PCy3", "PtBu3", "XPhos")
        campaign.tell(e.id, {"yield": _truth(e.params)})
    stored = campaign.config.to_json()["space"]
    ligand = next(p for p in stored["parameters"] if p["name"] == "ligand")
    assert ligand["encoded"]["kind"] == "fingerprints" and set(ligand["encoded"]["rows"]) == set(ligand["choices"])
    reopened = Campaign.open("couplings", store=store_url)
    assert isinstance(reopened.domain, SearchSpace)
    assert reopened.domain.kernel_layout == space.kernel_layout
    again = reopened.domain.by_name["ligand"]
    assert isinstance(again, Categorical)
    np.testing.assert_array_equal(
        reopened.domain.encode([campaign.experiments()[0].params]), space.encode([campaign.experiments()[0].params])
    )
    (e,) = reopened.ask(1)  # BO on the layout kernel: a valid suggestion
    assert e.strategy and e.params["ligand"] in again.choices


def test_invalid_smiles_in_a_spec_names_the_choice_and_position(tmp_path: Path) -> None:
    from kiln.core.errors import SpecError, ValidationError

    (tmp_path / "spec.yaml").write_text(SPEC.replace('PtBu3: "CC(C)(C)P', 'PtBu3: "CC(C)(CP'), encoding="utf-8")
    with pytest.raises((SpecError, ValidationError)) as raised:
        load_spec(tmp_path / "spec.yaml")
    text = str(raised.value)
    assert "ligand" in text and "PtBu3" in text and "position" in text


def test_the_same_spec_resumes_its_campaign_when_the_encodings_would_now_be_computed_otherwise(
    tmp_path: Path, store_url: str
) -> None:
    """A new RDKit or pymatgen may compute other numbers for the same molecules and formulas: the spec still
    resumes its campaign, which keeps its stored tables; a changed request (another encoding) is still refused."""
    import json

    from kiln.campaign.config import CampaignConfig
    from kiln.core.errors import ConflictError

    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    config = load_spec(tmp_path / "spec.yaml").config
    Campaign.open_or_create("couplings", config, store=store_url)
    document = json.loads(json.dumps(config.to_json()))
    solvent = next(p for p in document["space"]["parameters"] if p["name"] == "solvent")
    solvent["encoded"]["rows"]["CC#N"][0] = 0.5 * solvent["encoded"]["rows"]["CC#N"][0] + 0.25  # other numbers
    solvent["encoded"]["source"] = "RDKit 2099.01.1"
    alloy = document["space"]["compositions"][0]
    alloy["elements"]["properties"][0][0] = 0.5
    later = CampaignConfig.from_json(document)
    reopened, created = Campaign.open_or_create("couplings", later, store=store_url)
    assert not created
    kept = reopened.domain.by_name["solvent"]  # type: ignore[union-attr]
    assert isinstance(kept, Categorical) and kept.encoded.source != "RDKit 2099.01.1"
    solvent["encoding"] = "onehot"
    del solvent["encoded"]
    with pytest.raises(ConflictError) as raised:
        Campaign.open_or_create("couplings", CampaignConfig.from_json(document), store=store_url)
    assert "encoding" in str(raised.value)


@pytest.mark.parametrize(
    "space",
    [
        {"kind": "pool", "columns": ["x", "y"], "rows": [[1.0, 2.0], [3.0, 4.0]]},
        {"kind": "pool", "columns": ["x", "solvent"], "rows": [[1.0, "water"], [3.0, "toluene"]]},
        {"kind": "space", "parameters": [{"name": "s", "type": "categorical", "choices": ["toluene", "water"]}]},
    ],
)
def test_a_campaign_stored_before_encodings_resumes_with_its_spec(store_url: str, space: dict[str, object]) -> None:
    """A schema-2 campaign reads one-hot; the same spec today asks for auto, which is one-hot for these: it
    resumes the campaign instead of a conflict over the word."""
    from kiln.campaign.config import CampaignConfig
    from kiln.objective import Objective, Target
    from kiln.space.config import space_from_config
    from kiln.store import open_store
    from kiln.strategies.default import DefaultStrategy

    config = CampaignConfig(space_from_config(space), Objective((Target("t"),)), DefaultStrategy())
    document = {**config.to_json(), "schema": 2, "space": space}
    open_store(store_url).create_campaign("old", document)
    campaign, created = Campaign.open_or_create("old", config, store=store_url)
    assert not created and campaign.config.to_json()["schema"] == 3


def test_a_campaign_stored_before_encodings_is_not_resumed_by_a_spec_now_read_as_molecules(store_url: str) -> None:
    """SMILES choices were one-hot then and are descriptors under auto now: another model, so a conflict that
    names the encoding (the fix: encoding: onehot in the spec)."""
    from kiln.campaign.config import CampaignConfig
    from kiln.core.errors import ConflictError
    from kiln.objective import Objective, Target
    from kiln.space.config import space_from_config
    from kiln.store import open_store
    from kiln.strategies.default import DefaultStrategy

    space = {"kind": "space", "parameters": [{"name": "s", "type": "categorical", "choices": ["CCO", "CCCO", "O"]}]}
    config = CampaignConfig(space_from_config(space), Objective((Target("t"),)), DefaultStrategy())
    open_store(store_url).create_campaign("old", {**config.to_json(), "schema": 2, "space": space})
    with pytest.raises(ConflictError) as raised:
        Campaign.open_or_create("old", config, store=store_url)
    assert "encoding: stored onehot, spec descriptors" in str(raised.value)
    onehot = {"kind": "space", "parameters": [{**space["parameters"][0], "encoding": "onehot"}]}  # type: ignore[index]
    again = CampaignConfig(space_from_config(onehot), Objective((Target("t"),)), DefaultStrategy())
    assert not Campaign.open_or_create("old", again, store=store_url)[1]
