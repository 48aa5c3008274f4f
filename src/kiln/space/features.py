"""Feature tables of categorical choices and their hygiene before modelling.

A categorical parameter whose choices are molecules (or formulas) is modelled through a *feature table*: one row
of numbers per choice (descriptors, fingerprint bits, elemental statistics). Raw tables have hundreds of columns,
many of them useless to a GP on a handful of choices: undefined values, constants, copies and near copies.
``reduce_features`` removes those and may project what is left on a few principal components. It sees only the
choices' own table (never measured results), so the same choices always give the same reduced table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError

#: Relative spread below which a column counts as constant (float round-off, not information).
CONSTANT_TOLERANCE = 1e-12
#: Share of the first principal component's variance below which a component counts as round-off.
RANK_TOLERANCE = 1e-10


@dataclass(frozen=True, eq=False)
class FeatureTable:
    """Numbers that describe each choice of a categorical parameter.

    Args:
        names: the column (feature) names, unique, in order.
        rows: len(choices) x len(names) floats, one row per choice in the choices' order; stored as a read-only
            float64 copy. NaN or inf mark values that could not be computed (``reduce_features`` drops them).
    """

    names: tuple[str, ...]
    rows: np.ndarray

    def __post_init__(self) -> None:
        names = tuple(str(name) for name in self.names)
        rows = np.array(self.rows, dtype=np.float64, copy=True)
        if rows.ndim != 2:
            raise ValueError(f"a feature table's rows must be choices x features, got an array of shape {rows.shape}")
        if rows.shape[0] < 1:
            raise ValueError("a feature table needs at least one choice (row)")
        if rows.shape[1] != len(names):
            raise ValueError(f"a feature table has {len(names)} names for {rows.shape[1]} columns")
        if len(set(names)) != len(names):
            repeated = sorted(name for name, count in Counter(names).items() if count > 1)
            raise ValueError(f"feature names must be unique; repeated: {', '.join(repeated)}")
        rows.setflags(write=False)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "rows", rows)

    @property
    def shape(self) -> tuple[int, int]:
        """(choices, features)."""
        return (int(self.rows.shape[0]), int(self.rows.shape[1]))

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureTable):
            return NotImplemented
        return self.names == other.names and bool(np.array_equal(self.rows, other.rows, equal_nan=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: {"names": [...], "rows": [[float, ...], ...]}; floats round-trip exactly.

        Raises:
            ValueError: when a value is NaN or infinite (JSON has no such numbers; reduce the table first).
        """
        if not np.isfinite(self.rows).all():
            raise ValueError("a feature table with NaN or infinite values cannot be written as JSON; reduce it first")
        return {"names": list(self.names), "rows": [[float(v) for v in row] for row in self.rows]}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> FeatureTable:
        """The table written by ``to_dict``."""
        names = tuple(record["names"])
        rows = np.array(record["rows"], dtype=np.float64).reshape(len(record["rows"]), len(names))
        return cls(names, rows)


@dataclass(frozen=True)
class ReducedFeatures:
    """The result of ``reduce_features``.

    Args:
        table: the reduced table (choices x kept features, or choices x principal components named pc1, pc2, ...).
        raw: the number of columns before reduction.
        steps: what each step did: "non_finite", "constant", "duplicate", "correlated" (columns dropped by each,
            in that order) and "components" (principal components kept; 0 when no projection was asked).
        kept: names of the raw columns that survived the hygiene steps (the PCA's inputs when one was asked).
    """

    table: FeatureTable
    raw: int
    steps: dict[str, int]
    kept: tuple[str, ...] = field(default=())


def reduce_features(
    table: FeatureTable, *, correlation: float = 0.95, components: int | None = None
) -> ReducedFeatures:
    """Drop useless columns of a feature table and optionally project it on principal components.

    Steps, in order, each keeping the columns' order: drop columns with any NaN or infinite value; drop constant
    columns; drop exact copies of an earlier column; drop each column whose |Pearson r| with an earlier kept
    column exceeds ``correlation`` (the first of a correlated group stays). Then, when ``components`` is given,
    standardise the kept columns (mean 0, standard deviation 1 over the choices) and keep the first principal
    components: at most ``components``, never more than choices - 1 nor the number of kept columns.

    Args:
        table: choices x raw features.
        correlation: |r| above which a later column is dropped as a near copy; in (0, 1].
        components: the number of principal components wanted, or None for no projection.

    Returns:
        ReducedFeatures; its table has the same choices, in the same order. Deterministic: the same table and
        settings always give the same result.
    """
    if isinstance(correlation, bool) or not isinstance(correlation, (int, float)) or not 0 < correlation <= 1:
        raise ValidationError(
            "correlation", correlation, "allowed: a number in (0, 1]", "use e.g. 0.95 (1 keeps near copies)"
        )
    if components is not None and (
        isinstance(components, bool) or not isinstance(components, (int, np.integer)) or components < 1
    ):
        raise ValidationError(
            "components", components, "allowed: a whole number of principal components, 1 or more", "or leave it out"
        )
    rows = table.rows
    columns = list(range(rows.shape[1]))
    steps: dict[str, int] = {}

    finite = [j for j in columns if np.isfinite(rows[:, j]).all()]
    steps["non_finite"] = len(columns) - len(finite)

    varying = [j for j in finite if not _constant(rows[:, j])]
    steps["constant"] = len(finite) - len(varying)

    distinct: list[int] = []
    seen: set[bytes] = set()
    for j in varying:
        key = (rows[:, j] + 0.0).tobytes()  # + 0.0 makes -0.0 equal to 0.0
        if key not in seen:
            seen.add(key)
            distinct.append(j)
    steps["duplicate"] = len(varying) - len(distinct)

    kept = _uncorrelated(rows[:, distinct], correlation)
    chosen = [distinct[k] for k in kept]
    steps["correlated"] = len(distinct) - len(chosen)

    kept_names = tuple(table.names[j] for j in chosen)
    reduced = FeatureTable(kept_names, rows[:, chosen])
    steps["components"] = 0
    if components is not None:
        scores = _principal_components(reduced.rows, min(int(components), rows.shape[0] - 1, len(chosen)))
        reduced = FeatureTable(tuple(f"pc{i + 1}" for i in range(scores.shape[1])), scores)
        steps["components"] = scores.shape[1]
    return ReducedFeatures(table=reduced, raw=rows.shape[1], steps=steps, kept=kept_names)


def _constant(column: np.ndarray) -> bool:
    """True when the column's spread is round-off of its magnitude."""
    spread = float(column.max() - column.min())
    return spread <= CONSTANT_TOLERANCE * float(np.abs(column).max())


def _unit_columns(rows: np.ndarray) -> np.ndarray:
    """Each (non-constant) column centred and scaled to unit Euclidean norm, safe for huge values."""
    centred = rows - rows.mean(axis=0)
    centred = centred / np.abs(centred).max(axis=0)
    return np.asarray(centred / np.linalg.norm(centred, axis=0))


def _uncorrelated(rows: np.ndarray, correlation: float) -> list[int]:
    """Indices of the columns kept greedily, in order, so that no kept pair has |r| above ``correlation``."""
    if rows.shape[1] == 0:
        return []
    unit = _unit_columns(rows)
    r = np.abs(unit.T @ unit)
    kept: list[int] = []
    for j in range(rows.shape[1]):
        if not kept or float(r[j, kept].max()) <= correlation:
            kept.append(j)
    return kept


def _principal_components(rows: np.ndarray, count: int) -> np.ndarray:
    """choices x k scores of the standardised rows on their first k <= ``count`` principal components.

    Components whose variance is round-off (columns that are linear combinations of others) are left out: scaled
    to [0, 1] for a model they would be pure noise.
    """
    if count <= 0:
        return np.zeros((rows.shape[0], 0))
    from sklearn.decomposition import PCA

    unit = _unit_columns(rows)
    standard = unit / unit.std(axis=0)
    pca = PCA(n_components=count, svd_solver="full")
    scores = np.asarray(pca.fit_transform(standard), dtype=np.float64)
    variance = np.asarray(pca.explained_variance_, dtype=np.float64)
    real = int(np.count_nonzero(variance > RANK_TOLERANCE * variance[0])) if variance[0] > 0 else 0
    return scores[:, :real]
