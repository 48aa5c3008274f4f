"""Molecules given as SMILES: parsing with RDKit's own diagnosis, descriptor and fingerprint tables.

RDKit is imported inside the functions, so ``import kiln`` stays light. RDKit reports why a SMILES string does not
parse on its log, not in an exception; ``molecule`` captures that log (``rdBase.CaptureErrorLog``) and puts the
reason and the character position RDKit names into a ``ValidationError``. Every RDKit call here runs under
``rdBase.BlockLogs``, so nothing is printed to the user's terminal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kiln.core.errors import ValidationError
from kiln.space.features import FeatureTable

if TYPE_CHECKING:
    from rdkit.Chem import Mol

#: What a valid choice is, as error messages say it.
ALLOWED = "a valid SMILES string"

_TIMESTAMP = re.compile(r"^\s*\[\d{2}:\d{2}:\d{2}\]\s?")
_PREFIX = re.compile(r"^SMILES Parse Error:\s*")
_POSITION = re.compile(r"check for mistakes around position (\d+)")
_INPUT = re.compile(r"\s+(?:for input|while parsing):.*$")


def molecule(field: str, smiles: str) -> Mol:
    """The RDKit molecule of a SMILES string (sanitised, as ``Chem.MolFromSmiles`` makes it).

    Args:
        field: what the string is, for the error message (e.g. "parameter 'ligand', choice 'BrettPhos'").
        smiles: the SMILES string; surrounding whitespace is ignored.

    Raises:
        ValidationError: when the string is not a SMILES string RDKit can read; the message gives RDKit's reason
            and, where RDKit reports one, the (1-based) character position at fault.
    """
    from rdkit import Chem, rdBase

    if not isinstance(smiles, str):
        raise ValidationError(field, smiles, f"allowed: {ALLOWED}", "write the molecule as a SMILES string")
    text = smiles.strip()
    if not text:
        raise ValidationError(field, smiles, f"allowed: {ALLOWED}; this one is empty", "give the molecule's SMILES")
    space = re.search(r"\s", text)
    if space is not None:
        at = space.start() + len(smiles) - len(smiles.lstrip()) + 1
        raise ValidationError(
            field,
            smiles,
            f"allowed: {ALLOWED} without spaces; RDKit would read only {text[: space.start()]!r} (space at "
            f"position {at})",
            "remove the space, or give the molecule's name a SMILES in a `smiles:` map",
        )
    with rdBase.BlockLogs(), rdBase.CaptureErrorLog() as capture:
        mol = Chem.MolFromSmiles(text)
    if mol is None:
        reason, position = _diagnosis(capture.messages)
        where = f" at position {position}" if position is not None else ""
        hint = f"check the SMILES near position {position}" if position is not None else "check the SMILES"
        raise ValidationError(
            field,
            smiles,
            f"allowed: {ALLOWED}; RDKit: {reason}{where}",
            f"{hint}, or give the name a SMILES in a `smiles:` map, or use `encoding: onehot`",
        )
    if mol.GetNumAtoms() == 0:
        raise ValidationError(field, smiles, f"allowed: {ALLOWED}; RDKit: no atoms", "give the molecule's SMILES")
    return mol


def is_molecule(text: object) -> bool:
    """True when ``text`` is a SMILES string RDKit reads (quietly: nothing is logged or printed)."""
    if not isinstance(text, str):
        return False
    try:
        molecule("text", text)
    except ValidationError:
        return False
    return True


def descriptor_names() -> tuple[str, ...]:
    """The names of RDKit's physico-chemical descriptors (``Descriptors.descList``), sorted."""
    from rdkit.Chem import Descriptors

    return tuple(sorted(name for name, _ in Descriptors.descList))


def descriptor_table(field: str, smiles: Sequence[str]) -> FeatureTable:
    """RDKit's physico-chemical descriptors of each molecule (``Descriptors.CalcMolDescriptors``).

    Args:
        field: what the molecules are, for error messages (e.g. "parameter 'ligand'").
        smiles: the choices' SMILES strings, in order.

    Returns:
        len(smiles) x len(descriptor_names()) table, columns sorted by name; NaN where RDKit cannot compute a
        descriptor for a molecule (``reduce_features`` drops such columns).

    Raises:
        ValidationError: for the first string that is not a valid SMILES (see ``molecule``); for no strings.
    """
    from rdkit import rdBase
    from rdkit.Chem import Descriptors

    mols = _molecules(field, smiles)
    names = descriptor_names()
    rows = np.empty((len(mols), len(names)))
    with rdBase.BlockLogs():
        for i, mol in enumerate(mols):
            values = Descriptors.CalcMolDescriptors(mol, missingVal=float("nan"), silent=True)
            rows[i] = [_number(values.get(name)) for name in names]
    return FeatureTable(names, rows)


def fingerprint_table(
    field: str, smiles: Sequence[str], *, radius: int = 2, size: int = 2048, counts: bool = False
) -> FeatureTable:
    """Morgan (ECFP-like) fingerprints of each molecule (``rdFingerprintGenerator.GetMorganGenerator``).

    Args:
        field: what the molecules are, for error messages.
        smiles: the choices' SMILES strings, in order.
        radius: the Morgan radius (2 gives ECFP4).
        size: the number of bits (fingerprint length).
        counts: count vectors (how often each hashed environment occurs) instead of 0/1 bits.

    Returns:
        len(smiles) x size table of non-negative whole numbers; columns named ``ecfp{2 * radius}_bit{i}``
        (or ``_count{i}``).

    Raises:
        ValidationError: for an invalid SMILES string, no strings, or a radius or size out of range.
    """
    from rdkit import rdBase
    from rdkit.Chem import rdFingerprintGenerator

    if isinstance(radius, bool) or not isinstance(radius, (int, np.integer)) or not 0 <= radius <= 10:
        raise ValidationError(f"{field}: fingerprint radius", radius, "allowed: a whole number from 0 to 10", "use 2")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= 65536:
        raise ValidationError(
            f"{field}: fingerprint size", size, "allowed: a whole number of bits, 1 to 65536", "use 2048"
        )
    mols = _molecules(field, smiles)
    with rdBase.BlockLogs():
        generator = rdFingerprintGenerator.GetMorganGenerator(radius=int(radius), fpSize=int(size))
        compute = generator.GetCountFingerprintAsNumPy if counts else generator.GetFingerprintAsNumPy
        rows = np.array([compute(mol) for mol in mols], dtype=np.float64)
    kind = "count" if counts else "bit"
    names = tuple(f"ecfp{2 * int(radius)}_{kind}{i}" for i in range(int(size)))
    return FeatureTable(names, rows)


def _molecules(field: str, smiles: Sequence[str]) -> list[Mol]:
    """The molecules of the strings, in order; a ValidationError for the first invalid one or for none."""
    if isinstance(smiles, str) or len(smiles) == 0:
        raise ValidationError(field, smiles, "allowed: a list of one or more SMILES strings", "list the choices")
    return [molecule(field, text) for text in smiles]


def _number(value: object) -> float:
    """A descriptor's value as a float (NaN when RDKit gave none or something that is not a number)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _diagnosis(log: str) -> tuple[str, int | None]:
    """RDKit's reason and 1-based position from its captured error log (reason "unknown" if it said nothing)."""
    lines = [_TIMESTAMP.sub("", line).strip() for line in log.splitlines()]
    position = None
    reasons: list[str] = []
    skip = 0
    for line in lines:
        if skip:  # the echoed input and the ~~^ marker under it
            skip -= 1
            continue
        found = _POSITION.search(line)
        if found:
            position = int(found.group(1)) if position is None else position
            skip = 2
            continue
        reason = " ".join(_INPUT.sub("", _PREFIX.sub("", line)).split())
        if reason and not reason.startswith("Failed parsing SMILES") and reason not in reasons:
            reasons.append(reason)
    return ("; ".join(reasons) if reasons else "unknown reason"), position
