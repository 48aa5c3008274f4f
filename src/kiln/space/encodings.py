"""Encodings: how the choices of a categorical parameter (or a text column of a pool) reach the model.

- ``onehot``: one column per choice.
- ``descriptors``: RDKit's physico-chemical descriptors of each choice's molecule (SMILES), beside one column per
  choice.
- ``fingerprints``: Morgan fingerprint bits of each molecule, compared by a Tanimoto kernel.
- ``elements``: fraction-weighted elemental properties of each choice's chemical formula (Magpie-style), beside
  one column per choice.
- ``auto`` (the default): descriptors when every choice is a molecule, elements when every choice is a formula,
  otherwise one-hot.

A table is computed once, when the parameter is declared, reduced (``kiln.space.features``: non-finite, constant,
duplicate and strongly correlated columns dropped, then principal components), scaled into model coordinates and
kept as ``Encoding.rows``. Descriptor and elemental rows end with the choice's one-hot code: the features say which
choices are alike, the one-hot columns still tell apart two choices the features put close (on the reaction
benchmarks of docs/benchmarks.md the best reactions are found sooner than with either alone). ``to_config``
stores the table, so that a reopened campaign never recomputes it and a new RDKit or pymatgen cannot change an
old campaign. RDKit and pymatgen are imported only while computing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln.core.errors import ValidationError

ENCODINGS = ("auto", "onehot", "descriptors", "fingerprints", "elements")
"""What a user may ask for; every encoding but ``auto`` is also what a resolved one is."""

CORRELATION = 0.95
"""Descriptor columns correlated more strongly than this (|Pearson r|) with a kept one are dropped."""

EXPLAINED = 0.99
"""Principal components are kept until they explain this share of the reduced table's variance."""

FINGERPRINT_RADIUS, FINGERPRINT_BITS = 2, 2048
"""Morgan fingerprints (ECFP4): radius 2, folded to 2048 bits."""


@dataclass(frozen=True)
class Encoding:
    """A resolved encoding of a parameter's choices.

    Args:
        kind: "onehot", "descriptors", "fingerprints" or "elements".
        rows: choice -> its model coordinates (each in [0, 1]; one width for all); empty for one-hot.
        requested: what the user asked for ("auto" or a kind).
        raw: features computed per choice before reduction (0 for one-hot).
        source: where the features came from, e.g. "RDKit 2026.03.5".
        identity: whether each row ends with the choice's one-hot code (descriptors and elements).
    """

    kind: str
    rows: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    requested: str = "auto"
    raw: int = 0
    source: str = ""
    identity: bool = False

    def width(self, choices: int) -> int:
        """Model columns of a parameter with ``choices`` choices."""
        return len(next(iter(self.rows.values()))) if self.rows else choices

    @property
    def kernel(self) -> str | None:
        """ "tanimoto" for fingerprints (compared by Tanimoto similarity), else None (the shared kernel)."""
        return "tanimoto" if self.kind == "fingerprints" else None

    def describe(self, choices: int) -> str:
        """One line for ``kiln show`` and the dashboard, e.g. "descriptors from RDKit 2026.03.5: 217 features -> 6"."""
        if self.kind == "onehot":
            return f"one-hot: {choices} columns" + (
                " (auto: not all molecules or formulas)" if self.requested == "auto" else ""
            )
        chosen = f"{self.kind}, chosen by auto" if self.requested == "auto" else self.kind
        origin = f" from {self.source}" if self.source else ""
        if self.identity:
            features = self.width(choices) - choices
            return f"{chosen}{origin}: {self.raw} features -> {features}, beside {choices} one-hot columns"
        return f"{chosen}{origin}: {self.raw} features -> {self.width(choices)}"

    def to_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"kind": self.kind, "requested": self.requested}
        if self.rows:
            config.update(rows={k: list(v) for k, v in self.rows.items()}, raw=self.raw, source=self.source)
            if self.identity:
                config["identity"] = True
        return config

    @classmethod
    def from_config(cls, where: str, config: Any, choices: Sequence[str]) -> Encoding:
        """A stored encoding, checked against the parameter's choices (ValidationError naming ``where``)."""
        if not isinstance(config, Mapping) or config.get("kind") not in ENCODINGS[1:]:
            raise ValidationError(
                where, config, f"a stored encoding with kind one of {list(ENCODINGS[1:])}", "remove it to recompute"
            )
        rows = config.get("rows") or {}
        if config["kind"] != "onehot":
            if not isinstance(rows, Mapping) or sorted(map(str, rows)) != sorted(choices):
                raise ValidationError(
                    f"{where}: rows",
                    sorted(map(str, rows)) if isinstance(rows, Mapping) else rows,
                    f"one row per choice {list(choices)}",
                    "remove the encoding to recompute it",
                )
            widths = {len(v) if isinstance(v, list | tuple) else -1 for v in rows.values()}
            if len(widths) != 1 or widths == {0} or widths == {-1}:
                raise ValidationError(f"{where}: rows", sorted(widths), "rows of one non-zero width", "recompute it")
        elif rows:
            raise ValidationError(f"{where}: rows", "given", "no rows for a one-hot encoding", "remove them")
        checked = {str(k): tuple(_unit_float(f"{where}: rows[{k}]", x) for x in v) for k, v in dict(rows).items()}
        requested = config.get("requested", config["kind"])
        if requested not in ENCODINGS:
            raise ValidationError(f"{where}: requested", requested, f"one of {list(ENCODINGS)}", "recompute it")
        raw = config.get("raw", 0)
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise ValidationError(f"{where}: raw", raw, "a whole number of features >= 0", "recompute it")
        source = config.get("source", "")
        if not isinstance(source, str):
            raise ValidationError(f"{where}: source", source, "text naming the library", "recompute it")
        identity = config.get("identity") is True
        width = len(next(iter(checked.values()))) if checked else 0
        if identity and width <= len(choices):
            raise ValidationError(
                f"{where}: rows",
                width,
                f"features followed by each choice's one-hot code: more than {len(choices)} columns",
                "remove the encoding to recompute it",
            )
        return cls(str(config["kind"]), checked, str(requested), raw, source, identity)


def _unit_float(where: str, value: Any) -> float:
    """``value`` as a float in [0, 1] (NaN, text, true/false and huge integers refused)."""
    number = -1.0
    if not isinstance(value, bool) and isinstance(value, int | float):
        with contextlib.suppress(OverflowError):
            number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValidationError(where, value, "model coordinates in [0, 1]", "remove the encoding to recompute it")
    return number


def check_encoding(where: str, value: Any) -> str:
    """``value`` if it is a known encoding name, else ValidationError listing them."""
    if isinstance(value, bool):  # YAML reads an unquoted no, off or false as false
        raise ValidationError(
            where,
            value,
            f"known encodings are {list(ENCODINGS)}, not true/false (YAML reads an unquoted yes, no, on or off as "
            "true/false)",
            "write one of them, e.g. encoding: onehot",
        )
    if not isinstance(value, str) or value not in ENCODINGS:
        raise ValidationError(where, value, f"known encodings are {list(ENCODINGS)}", "use one of them, e.g. auto")
    return value


def resolve(
    where: str, choices: Sequence[str], requested: str = "auto", smiles: Mapping[str, str] | None = None
) -> Encoding:
    """The encoding of ``choices`` (text values) asked for by ``requested``; ``smiles`` maps choice names to the
    molecules they stand for (default: each choice is its own SMILES). ValidationError names ``where`` and the
    choice when a molecule or formula cannot be read, or when an asked-for encoding does not apply."""
    check_encoding(f"{where}: encoding", requested)
    molecules = [(smiles or {}).get(c, c) for c in choices]
    kind = requested
    if requested == "auto":
        kind = _automatic(choices, molecules, given_smiles=bool(smiles))
    if kind == "onehot" or len(choices) < 2:
        return Encoding("onehot", requested=requested)
    if kind in ("descriptors", "fingerprints"):
        table, source = _molecule_table(where, choices, molecules, kind)
    else:
        table, source = _formula_table(where, choices)
    rows, raw = _reduced_rows(table, kind)
    if not rows:  # nothing tells the choices apart: one-hot still does
        return Encoding("onehot", requested=requested)
    identity = kind != "fingerprints"
    if identity:
        rows = [(*row, *(1.0 if j == i else 0.0 for j in range(len(choices)))) for i, row in enumerate(rows)]
    return Encoding(kind, dict(zip(choices, rows, strict=True)), requested, raw, source, identity)


def _automatic(choices: Sequence[str], molecules: Sequence[str], *, given_smiles: bool) -> str:
    from kiln.space.elements import is_formula
    from kiln.space.molecules import is_molecule

    if given_smiles or all(is_molecule(m) for m in molecules):
        return "descriptors"
    if all(is_formula(c) for c in choices):
        return "elements"
    return "onehot"


def _molecule_table(where: str, choices: Sequence[str], molecules: Sequence[str], kind: str) -> tuple[Any, str]:
    import rdkit

    from kiln.space.molecules import descriptor_table, fingerprint_table, molecule

    for choice, text in zip(choices, molecules, strict=True):
        molecule(f"{where}: choice '{choice}'", text)  # names the choice whose SMILES does not parse
    if kind == "descriptors":
        return descriptor_table(where, molecules), f"RDKit {rdkit.__version__}"
    table = fingerprint_table(where, molecules, radius=FINGERPRINT_RADIUS, size=FINGERPRINT_BITS)
    return table, f"RDKit {rdkit.__version__} Morgan r={FINGERPRINT_RADIUS}, {FINGERPRINT_BITS} bits"


def _formula_table(where: str, choices: Sequence[str]) -> tuple[Any, str]:
    from importlib.metadata import version

    from kiln.space.elements import formula_table

    return formula_table(where, list(choices)), f"pymatgen-core {version('pymatgen-core')}"


def _reduced_rows(table: Any, kind: str) -> tuple[list[tuple[float, ...]], int]:
    """Reduced table rows in model coordinates, and the raw feature count.

    Fingerprint bits lose only constant and duplicate columns and stay 0/1 (for the Tanimoto kernel). Descriptor
    and elemental tables lose non-finite, constant, duplicate and correlated columns, become principal components
    (as many as explain EXPLAINED of the variance, at most choices - 1), and are scaled together into [0, 1]: one
    factor for all columns, so distances between choices keep their proportions."""
    import numpy as np

    from kiln.space.features import reduce_features

    raw = len(table.names)
    if kind == "fingerprints":
        reduced = reduce_features(table, correlation=1.0)
        values = np.asarray(reduced.table.rows, dtype=float)
        return [tuple(float(x) for x in row) for row in values], raw
    n = np.asarray(table.rows).shape[0]
    reduced = reduce_features(table, correlation=CORRELATION, components=max(n - 1, 1))
    values = np.asarray(reduced.table.rows, dtype=float)
    if values.size == 0 or values.shape[1] == 0:
        return [], raw
    variance = values.var(0)
    if variance.sum() <= 0:
        return [], raw
    order = np.argsort(-variance, kind="stable")
    share = np.cumsum(variance[order]) / variance.sum()
    keep = np.sort(order[: int(np.searchsorted(share, EXPLAINED - 1e-12)) + 1])
    values = values[:, keep]
    values = values - values.min(0)
    values = values / max(float(values.max()), 1e-300)
    return [tuple(float(min(max(x, 0.0), 1.0)) for x in row) for row in values], raw


def element_block_config(columns: Mapping[str, str]) -> dict[str, Any]:
    """The stored form of an elements block: columns, their element symbols, each element's properties scaled
    to [0, 1] over the block's elements (rows: columns; constant properties dropped), and their source."""
    from importlib.metadata import version

    import numpy as np

    from kiln.space.elements import PROPERTIES, element_properties

    symbols = list(columns.values())
    table = np.asarray(element_properties(symbols), dtype=float)
    low, span = table.min(0), np.ptp(table, 0)
    keep = span > 0
    scaled = (table[:, keep] - low[keep]) / span[keep]
    return {
        "columns": list(columns),
        "symbols": symbols,
        "properties": [[float(x) for x in row] for row in scaled],
        "names": [name for name, kept in zip(PROPERTIES, keep, strict=True) if kept],
        "source": f"pymatgen-core {version('pymatgen-core')}",
    }


def check_element_block(where: str, config: Any, columns: Sequence[str]) -> dict[str, Any]:
    """A stored elements block (``element_block_config``'s form) for ``columns``, checked: one symbol and one row
    of properties per column, rows of one positive width matching ``names``, each property in [0, 1] (the
    elemental kernel weighs non-negative properties), text source. ValidationError naming ``where`` otherwise."""
    fix = "remove it to recompute it"
    if not isinstance(config, Mapping):
        raise ValidationError(where, config, "a stored elements block (columns, symbols, properties, names)", fix)
    missing = [k for k in ("columns", "symbols", "properties", "names", "source") if k not in config]
    if missing:
        raise ValidationError(where, sorted(map(str, config)), f"the fields {missing} as well", fix)
    if not isinstance(config["columns"], list) or config["columns"] != list(columns):
        raise ValidationError(f"{where}: columns", config["columns"], f"the columns {list(columns)}", fix)
    symbols, properties, names = config["symbols"], config["properties"], config["names"]
    if not isinstance(symbols, list) or len(symbols) != len(columns) or not all(isinstance(s, str) for s in symbols):
        raise ValidationError(f"{where}: symbols", symbols, f"one element symbol per column {list(columns)}", fix)
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ValidationError(f"{where}: names", names, "the names of the elemental properties", fix)
    if (
        not isinstance(properties, list)
        or len(properties) != len(columns)
        or not all(isinstance(row, list) and len(row) == len(names) for row in properties)
    ):
        raise ValidationError(
            f"{where}: properties",
            properties
            if not isinstance(properties, list)
            else [len(r) if isinstance(r, list) else r for r in properties],
            f"one row of {len(names)} properties per column {list(columns)}",
            fix,
        )
    rows = [[_unit_float(f"{where}: properties[{i}]", x) for x in row] for i, row in enumerate(properties)]
    if not isinstance(config["source"], str):
        raise ValidationError(f"{where}: source", config["source"], "text naming the library", fix)
    return {**config, "columns": list(columns), "symbols": list(symbols), "properties": rows, "names": list(names)}


def element_symbols(where: str, names: Sequence[str]) -> dict[str, str]:
    """Name -> the element it names (``ni_load`` -> Ni) for every name, else ValidationError naming the others."""
    from kiln.space.elements import element_of

    symbols = {name: element_of(name) for name in names}
    unnamed = [name for name, symbol in symbols.items() if symbol is None]
    if unnamed:
        raise ValidationError(
            where,
            unnamed,
            "encoding 'elements' needs every part to be named after one element (Ni, ni_load, Fe (mg))",
            "rename the parts after their elements, or use encoding: fractions",
        )
    return {name: str(symbol) for name, symbol in symbols.items()}
