"""KernelLayout: which model columns of a domain need a kernel of their own.

Most model columns are ordinary coordinates in [0, 1] and share one stationary kernel (Matern 5/2 or RBF). Two
encodings need another: a molecule's fingerprint bits are compared by Tanimoto similarity, and the element parts
of a composition (``encoding: elements``) are compared through the elemental properties their fractions imply.
A domain describes such blocks here; the surrogate (``kiln.models``) builds the kernel from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["tanimoto", "elements"]


@dataclass(frozen=True)
class FeatureBlock:
    """Model columns with a kernel of their own.

    Args:
        kind: "tanimoto" (non-negative fingerprint columns, MinMax/Tanimoto similarity) or "elements" (composition
            parts, one column per element, turned into fraction-weighted elemental properties).
        columns: the model columns of the block, in order.
        properties: for "elements" only: one row per column, the element's properties (each property scaled to
            [0, 1] over the block's elements), so rows x properties.
        name: the parameter or composition the block encodes (shown to users).
        low, span: for "elements" only: the amount of each element is ``low + span * z`` for the model coordinate
            z of its column (lab units; any common unit, only the proportions matter). Default: z itself.
    """

    kind: BlockKind
    columns: tuple[int, ...]
    properties: tuple[tuple[float, ...], ...] = ()
    name: str = ""
    low: tuple[float, ...] = ()
    span: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not self.columns:
            raise ValueError("a feature block needs at least one column")
        if self.kind == "elements" and len(self.properties) != len(self.columns):
            raise ValueError("an elements block needs one property row per column")
        if self.kind == "elements":
            if not self.low:
                object.__setattr__(self, "low", (0.0,) * len(self.columns))
            if not self.span:
                object.__setattr__(self, "span", (1.0,) * len(self.columns))
            if len(self.low) != len(self.columns) or len(self.span) != len(self.columns):
                raise ValueError("an elements block needs one low and one span per column")


@dataclass(frozen=True)
class KernelLayout:
    """The blocks of a domain's ``dim`` model columns that need their own kernel (none: one kernel on all).

    Columns of a "tanimoto" block are left out of the shared kernel; the fraction columns of an "elements" block
    stay in it (the composition is seen through its fractions and through its elemental properties).
    """

    dim: int
    blocks: tuple[FeatureBlock, ...] = field(default=())

    @property
    def plain(self) -> bool:
        """True when every column shares one kernel."""
        return not self.blocks

    @property
    def shared_columns(self) -> tuple[int, ...]:
        """Columns of the shared stationary kernel, in order."""
        own = {c for b in self.blocks if b.kind == "tanimoto" for c in b.columns}
        return tuple(c for c in range(self.dim) if c not in own)
