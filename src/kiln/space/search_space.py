"""SearchSpace: parameters plus constraints, and the map between lab units and model coordinates.

Model coordinates are floats in [0, 1]: continuous and integer parameters are min-max scaled (log-scaled first
when ``log``), discrete levels are scaled by value, categorical choices are one-hot (or their min-max scaled
descriptors), composition parts are scaled within their own bounds. Constraints become linear constraints on
those coordinates in BoTorch's convention ``sum(coefficients * x[indices]) >= rhs`` (or ``== rhs``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.space.constraints import Composition, LinearConstraint
from kiln.space.kernel_layout import FeatureBlock, KernelLayout
from kiln.space.parameters import Categorical, Continuous, Discrete, Integer, Parameter, check_point_keys
from kiln.space.rounding import snap_point

if TYPE_CHECKING:
    import numpy as np

LinearForm = tuple[list[int], list[float], float]
"""(column indices, coefficients, rhs) of a linear constraint in model coordinates."""


@dataclass(frozen=True)
class Block:
    """The model columns [start, stop) that encode one parameter."""

    parameter: Parameter
    start: int
    stop: int


class SearchSpace:
    """A design space: parameters, composition groups and linear constraints.

    Args:
        parameters: the free parameters (composition parts are added from ``compositions``).
        compositions: groups of parts that sum to a total.
        constraints: linear inequalities over continuous parameters or composition parts.
    """

    def __init__(
        self,
        parameters: Sequence[Parameter] = (),
        *,
        compositions: Sequence[Composition] = (),
        constraints: Sequence[LinearConstraint] = (),
    ) -> None:
        self.compositions = tuple(compositions)
        self.constraints = tuple(constraints)
        parts = [
            Continuous(part, *group.bounds[part], unit=group.unit, precision=group.precision)
            for group in self.compositions
            for part in group.parts
        ]
        self.parameters: tuple[Parameter, ...] = (*parameters, *parts)
        if not self.parameters:
            raise ValidationError("space: parameters", [], "at least one parameter is required", "declare parameters")
        names = [p.name for p in self.parameters]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValidationError("space: parameters", duplicated, "each name may be used once", "rename them")
        self.by_name = {p.name: p for p in self.parameters}
        self._check_constraint_names()
        self.blocks = self._layout()
        self.dim = self.blocks[-1].stop
        if self.constraints:
            self._check_feasible()

    def _check_constraint_names(self) -> None:
        for constraint in self.constraints:
            for name in constraint.coefficients:
                parameter = self.by_name.get(name)
                if not isinstance(parameter, Continuous) or parameter.log:
                    raise ValidationError(
                        f"constraint '{constraint.description}'",
                        name,
                        "linear constraints may name only continuous linear-scale parameters or composition parts",
                        "name continuous parameters only, or model this one as continuous",
                    )

    def _check_feasible(self) -> None:
        """Raise ValidationError when no point satisfies the bounds, compositions and linear constraints together."""
        import numpy as np
        from scipy.optimize import linprog

        inequalities, equalities = self.inequality_constraints(), self.equality_constraints()

        def dense(forms: list[LinearForm]) -> tuple[np.ndarray | None, np.ndarray | None]:
            if not forms:
                return None, None
            A = np.zeros((len(forms), self.dim))
            for row, (indices, coefficients, _) in enumerate(forms):
                A[row, indices] = coefficients
            return A, np.array([rhs for *_, rhs in forms])

        A_ub, b_ub = dense(inequalities)
        A_eq, b_eq = dense(equalities)
        result = linprog(
            np.zeros(self.dim),
            A_ub=None if A_ub is None else -A_ub,  # BoTorch's >= form to linprog's <= form
            b_ub=None if b_ub is None else -b_ub,
            A_eq=A_eq,
            b_eq=b_eq,
            bounds=[(0.0, 1.0)] * self.dim,
            method="highs",
        )
        if result.status == 2:
            raise ValidationError(
                "space: constraints",
                [c.description for c in self.constraints],
                "no point satisfies the bounds, compositions and constraints together",
                "loosen a constraint or widen the bounds",
            )

    def _layout(self) -> list[Block]:
        blocks, start = [], 0
        for parameter in self.parameters:
            width = parameter.width if isinstance(parameter, Categorical) else 1
            blocks.append(Block(parameter, start, start + width))
            start += width
        return blocks

    # ----------------------------------------------------------------------------------------------- properties
    @property
    def names(self) -> list[str]:
        """Parameter names in order, composition parts last."""
        return [p.name for p in self.parameters]

    @property
    def is_continuous(self) -> bool:
        """True when every parameter is continuous (no rounding needed after optimisation)."""
        return all(isinstance(p, Continuous) for p in self.parameters)

    @property
    def constrained_names(self) -> list[str]:
        """Parameters tied by a composition or a linear constraint."""
        tied = {part for group in self.compositions for part in group.parts}
        tied |= {name for c in self.constraints for name in c.coefficients}
        return [n for n in self.names if n in tied]

    @property
    def kernel_layout(self) -> KernelLayout:
        """The model columns that need a kernel of their own (fingerprints, element compositions)."""
        blocks = [
            FeatureBlock("tanimoto", tuple(range(b.start, b.stop)), name=b.parameter.name)
            for b in self.blocks
            if isinstance(b.parameter, Categorical) and b.parameter.descriptors is None and b.parameter.encoded.kernel
        ]
        for group in self.compositions:
            if group.elements is None:
                continue
            index = [self.names.index(part) for part in group.parts]
            parts = [self.blocks[i] for i in index]
            bounds = [group.bounds[part] for part in group.parts]
            blocks.append(
                FeatureBlock(
                    "elements",
                    tuple(b.start for b in parts),
                    tuple(tuple(row) for row in group.elements["properties"]),
                    name=group.name,
                    low=tuple(float(low) for low, _ in bounds),
                    span=tuple(float(high - low) for low, high in bounds),
                )
            )
        return KernelLayout(self.dim, tuple(blocks))

    def describe_encodings(self) -> dict[str, str]:
        """Parameter or composition -> one line on how the model sees it (categoricals and element compositions)."""
        lines = {p.name: p.describe_encoding() for p in self.parameters if isinstance(p, Categorical)}
        for group in self.compositions:
            if group.elements is not None:
                symbols = ", ".join(group.elements["symbols"])
                lines[group.name] = (
                    f"elements {symbols}: fractions, and {len(group.elements['names'])} elemental properties "
                    f"({group.elements['source']})"
                )
        return lines

    @property
    def units(self) -> dict[str, str]:
        """Parameter name -> unit label, for the parameters that declare one."""
        return {p.name: p.unit for p in self.parameters if not isinstance(p, Categorical) and p.unit}

    @property
    def has_precision(self) -> bool:
        """True when some parameter or composition declares a precision (suggestions are rounded)."""
        return any(isinstance(p, Continuous) and p.precision is not None for p in self.parameters)

    def snap(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A point rounded to the declared precisions, still inside the bounds, compositions summing to their
        totals and linear constraints holding (``kiln.space.rounding``); unchanged without precisions."""
        if not self.has_precision:
            return dict(params)
        return snap_point(params, self.parameters, self.compositions, self.constraints)

    # ----------------------------------------------------------------------------------------------- validation
    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a point given in lab units; return it with canonical types. Raises ValidationError."""
        check_point_keys(params, self.names, "space parameter")
        clean = {p.name: p.validate(params[p.name]) for p in self.parameters}
        for group in self.compositions:
            group.check(clean)
        for constraint in self.constraints:
            constraint.check(clean)
        return clean

    # ------------------------------------------------------------------------------------------------- encoding
    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Points in lab units -> model coordinates, shape n x dim (rows are assumed valid)."""
        import numpy as np

        X = np.zeros((len(rows), self.dim))
        for block in self.blocks:
            X[:, block.start : block.stop] = _encode_column(block.parameter, [r[block.parameter.name] for r in rows])
        return X

    def decode(self, X: np.ndarray) -> list[dict[str, Any]]:
        """Model coordinates (n x dim) -> valid points in lab units (rounded, snapped, re-normalised, and rounded
        to the declared precisions)."""
        import numpy as np

        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and X.shape[0] == self.dim:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"decode needs an n x {self.dim} array of model coordinates, got shape {X.shape}")
        X = np.clip(X, 0.0, 1.0)
        columns = {b.parameter.name: _decode_column(b.parameter, X[:, b.start : b.stop]) for b in self.blocks}
        rows = [{name: columns[name][i] for name in self.names} for i in range(X.shape[0])]
        for row in rows:
            for group in self.compositions:
                _renormalise(group, row)
        return [self.snap(row) for row in rows] if self.has_precision else rows

    def inequality_constraints(self) -> list[LinearForm]:
        """Linear constraints in model coordinates, as ``sum(coefficients * x[indices]) >= rhs``."""
        forms = []
        for constraint in self.constraints:
            indices, coefficients, rhs = self._to_model(constraint.coefficients, constraint.rhs)
            if constraint.op == "<=":
                coefficients, rhs = [-c for c in coefficients], -rhs
            forms.append((indices, coefficients, rhs))
        return forms

    def equality_constraints(self) -> list[LinearForm]:
        """Composition sums in model coordinates, as ``sum(coefficients * x[indices]) == rhs``."""
        return [self._to_model(dict.fromkeys(group.parts, 1.0), group.total) for group in self.compositions]

    def _to_model(self, coefficients: Mapping[str, float], rhs: float) -> LinearForm:
        """Rewrite sum(c_i * x_i) (op) rhs in lab units for x_i = low_i + (high_i - low_i) * z_i, scaled to O(1)."""
        indices, scaled, shift = [], [], 0.0
        for block in self.blocks:
            name = block.parameter.name
            if name in coefficients:
                assert isinstance(block.parameter, Continuous)
                span = block.parameter.high - block.parameter.low
                indices.append(block.start)
                scaled.append(coefficients[name] * span)
                shift += coefficients[name] * block.parameter.low
        scale = max(abs(c) for c in scaled) or 1.0
        return indices, [c / scale for c in scaled], (rhs - shift) / scale

    # ------------------------------------------------------------------------------------------- serialisation
    def to_config(self) -> dict[str, Any]:
        """A JSON-able description that ``kiln.space.spec.space_from_config`` turns back into this space."""
        composition_parts = {p for g in self.compositions for p in g.parts}
        return {
            "kind": "space",
            "parameters": [p.to_config() for p in self.parameters if p.name not in composition_parts],
            "compositions": [g.to_config() for g in self.compositions],
            "constraints": [c.to_config() for c in self.constraints],
        }

    def __repr__(self) -> str:
        return f"SearchSpace({self.names}, dim={self.dim})"


def _encode_column(parameter: Parameter, values: list[Any]) -> np.ndarray:
    """One parameter's values -> its model columns, shape n x width."""
    import numpy as np

    if isinstance(parameter, Categorical):
        table = model_table(parameter)
        if table is not None:
            rows = [table[parameter.choices.index(v)] for v in values]
            return np.array(rows, dtype=float).reshape(len(values), table.shape[1])
        onehot = np.zeros((len(values), len(parameter.choices)))
        for i, v in enumerate(values):
            onehot[i, parameter.choices.index(v)] = 1.0
        return onehot
    x = np.asarray(values, dtype=float)
    low, high = _numeric_range(parameter)
    if isinstance(parameter, Continuous) and parameter.log:
        x, low, high = np.log(x), math.log(low), math.log(high)
    return ((x - low) / (high - low)).reshape(-1, 1)


def _decode_column(parameter: Parameter, Z: np.ndarray) -> list[Any]:
    """Model columns (n x width) -> one parameter's values in lab units."""
    import numpy as np

    if isinstance(parameter, Categorical):
        table = model_table(parameter)
        nearest = Z.argmax(1) if table is None else ((Z[:, None, :] - table[None, :, :]) ** 2).sum(-1).argmin(1)
        return [parameter.choices[int(i)] for i in nearest]
    z = Z[:, 0]
    low, high = _numeric_range(parameter)
    if isinstance(parameter, Continuous) and parameter.log:
        values = np.exp(math.log(low) + z * (math.log(high) - math.log(low)))
        return [float(min(max(v, low), high)) for v in values]
    values = low + z * (high - low)
    if isinstance(parameter, Integer):
        return [int(min(max(round(v), parameter.low), parameter.high)) for v in values]
    if isinstance(parameter, Discrete):
        levels = np.asarray(parameter.values)
        return [float(levels[np.abs(levels - v).argmin()]) for v in values]
    return [float(v) for v in values]


def _numeric_range(parameter: Continuous | Integer | Discrete) -> tuple[float, float]:
    if isinstance(parameter, Discrete):
        return parameter.values[0], parameter.values[-1]
    return float(parameter.low), float(parameter.high)


def model_table(parameter: Categorical) -> np.ndarray | None:
    """A categorical's model coordinates, choices x width in [0, 1], or None for one-hot: a descriptor table of
    the user's own with each column min-max scaled (constant columns -> 0), or the stored computed encoding."""
    import numpy as np

    if parameter.descriptors is not None:
        table = np.array([parameter.descriptors[c] for c in parameter.choices], dtype=float)
        low, span = table.min(0), np.ptp(table, 0)
        return (table - low) / np.where(span > 0, span, 1.0)
    encoded = parameter.encoded
    if not encoded.rows:
        return None
    return np.array([encoded.rows[c] for c in parameter.choices], dtype=float)


def _renormalise(group: Composition, row: dict[str, Any]) -> None:
    """Move a decoded composition onto its simplex: parts within bounds and summing exactly to the total."""
    values = {p: min(max(float(row[p]), group.bounds[p][0]), group.bounds[p][1]) for p in group.parts}
    for _ in range(20):
        excess = sum(values.values()) - group.total
        if abs(excess) <= 1e-12 * group.total:
            break
        room = {
            p: (values[p] - group.bounds[p][0]) if excess > 0 else (group.bounds[p][1] - values[p]) for p in group.parts
        }
        total_room = sum(room.values())
        if total_room <= 0:
            break
        for p in group.parts:
            values[p] = min(max(values[p] - excess * room[p] / total_room, group.bounds[p][0]), group.bounds[p][1])
    row.update(values)
