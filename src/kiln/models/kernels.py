"""Kernels for model columns that are not ordinary coordinates: molecular fingerprints and element compositions.

- ``TanimotoKernel``: MinMax similarity ``sum_i min(x_i, y_i) / sum_i max(x_i, y_i)`` of non-negative vectors
  (the Tanimoto/Jaccard similarity on bit vectors; 1 for two all-zero vectors). No hyperparameters.
- ``ElementsKernel``: a composition's fraction columns x (parts) are mapped to the fraction-weighted mean and
  standard deviation of each elemental property, phi(x), and compared by a Matern 5/2 kernel on phi.
- ``layout_kernel``: the covariance module of a GP on a domain's model columns, from its ``KernelLayout``.

Both classes are GPyTorch kernels (``gpytorch.kernels.Kernel``), defined on first use so that importing this module
stays cheap: ``from kiln.models.kernels import TanimotoKernel`` loads torch then.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.models.gp import BASE_KERNELS, KERNELS, check_kernel, matern52_base, scaled

if TYPE_CHECKING:
    import numpy as np

    from kiln.space.kernel_layout import FeatureBlock, KernelLayout

STD_EPS = 1e-6
"""Added to the fraction-weighted variance of a property before its square root (property units squared, the
properties being scaled to [0, 1]): the standard deviation stays differentiable where it is 0 (a pure element)."""

_TINY = 1e-12
"""Denominators below this are treated as 0 (two all-zero vectors; an empty composition)."""


def __getattr__(name: str) -> Any:
    """``TanimotoKernel`` and ``ElementsKernel``, built (and torch imported) on first access."""
    if name in ("TanimotoKernel", "ElementsKernel"):
        return _kernel_classes()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def tanimoto(x1: Any, x2: Any) -> Any:
    """MinMax (Tanimoto) similarity of every row of x1 (... x n x d) with every row of x2 (... x m x d), both
    non-negative: ... x n x m. With s = sum(x) + sum(y) and l1 = sum|x - y|, sum(min) = (s - l1) / 2 and
    sum(max) = (s + l1) / 2, so no n x m x d tensor is formed; two all-zero rows have similarity 1.

    Bit vectors without gradients (scoring a pool of fingerprints) take one matrix product instead: sum(min) is
    x . y and sum(max) is s - x . y, the same values (exact integers) about ten times faster than the L1
    distances."""
    import torch

    total = x1.sum(-1).unsqueeze(-1) + x2.sum(-1).unsqueeze(-2)
    if not (x1.requires_grad or x2.requires_grad) and _bits(x1) and _bits(x2):
        both = x1 @ x2.transpose(-1, -2)
        return _ratio(both, total - both)
    l1 = torch.cdist(x1, x2, p=1.0)
    return _ratio((total - l1).clamp_min(0.0), total + l1)


def _bits(x: Any) -> bool:
    """Whether every value of x is 0 or 1."""
    return bool(((x == 0) | (x == 1)).all())


def tanimoto_diag(x1: Any, x2: Any) -> Any:
    """The similarity of each row of x1 with the same row of x2 (both ... x n x d): ... x n."""
    import torch

    return _ratio(torch.minimum(x1, x2).sum(-1), torch.maximum(x1, x2).sum(-1))


def _ratio(low: Any, high: Any) -> Any:
    """low / high, and 1 where high is 0 (then low is 0 too: two all-zero vectors are identical)."""
    import torch

    return torch.where(high > _TINY, low / high.clamp_min(_TINY), torch.ones_like(high))


def element_features(x: Any, properties: Any) -> Any:
    """phi(x): fraction columns x (... x n x parts, non-negative, any total) and the parts' properties
    (parts x p) -> the fraction-weighted mean and standard deviation of each property, ... x n x 2p (means
    first). Weights are x / sum(x) (0 where the sum is 0); the deviation is sqrt(variance + ``STD_EPS``)."""
    import torch

    total = x.sum(-1, keepdim=True)
    weights = x / torch.where(total > _TINY, total, torch.ones_like(total))
    mean = weights @ properties  # ... x n x p
    spread = (properties - mean.unsqueeze(-2)).square()  # ... x n x parts x p
    variance = (weights.unsqueeze(-1) * spread).sum(-2)
    return torch.cat([mean, (variance + STD_EPS).sqrt()], dim=-1)


@cache
def _kernel_classes() -> dict[str, type]:
    """The kernel classes, defined on first use so that GPyTorch loads lazily."""
    from gpytorch.kernels import Kernel

    class TanimotoKernel(Kernel):  # type: ignore[misc]
        """MinMax/Tanimoto similarity of non-negative inputs (... x n x d): k(x, y) = sum(min) / sum(max).

        Positive semi-definite on non-negative vectors; values in [0, 1], 1 on the diagonal. Differentiable in
        the inputs wherever no coordinate of x equals the same coordinate of y (the optimiser's relaxed points).
        No hyperparameters (wrap it in a ScaleKernel for an outputscale).

        Args:
            columns: the input columns compared (None: all). Like GPyTorch's ``active_dims``, but a run of
                consecutive columns (a fingerprint) is read as a view: ``active_dims`` copies them with
                ``index_select``, which cost more than the similarity itself on thousands of 2048-bit rows.
            **kwargs: GPyTorch's Kernel arguments.
        """

        has_lengthscale = False
        is_stationary = False

        def __init__(self, columns: tuple[int, ...] | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.columns = None if columns is None else tuple(int(c) for c in columns)

        def _select(self, x: Any) -> Any:
            columns = self.columns
            if columns is None:
                return x
            start = columns[0]
            if columns == tuple(range(start, start + len(columns))):
                return x[..., start : start + len(columns)]
            return x[..., list(columns)]

        def forward(self, x1: Any, x2: Any, diag: bool = False, last_dim_is_batch: bool = False, **params: Any) -> Any:
            x1, x2 = self._select(x1), self._select(x2)
            if last_dim_is_batch:  # each input column on its own: ... x d x n x 1
                x1, x2 = x1.transpose(-1, -2).unsqueeze(-1), x2.transpose(-1, -2).unsqueeze(-1)
            return tanimoto_diag(x1, x2) if diag else tanimoto(x1, x2)

    class ElementsKernel(Kernel):  # type: ignore[misc]
        """Matern 5/2 (ARD, dimension-scaled LogNormal lengthscale prior) on ``element_features``: two
        compositions are as alike as the fraction-weighted means and deviations of their elements' properties.

        Args:
            properties: parts x p tensor, one row per input column (element), properties scaled to [0, 1].
            low, span: (parts,) tensors: the amount of each element is ``low + span * z`` for its input z
                (None: z itself); only the proportions of the amounts matter.
            ard: one lengthscale per feature (2p of them), else one shared.
            active_dims: the fraction columns of the model inputs (GPyTorch's argument).
        """

        has_lengthscale = False
        is_stationary = False

        def __init__(self, properties: Any, low: Any = None, span: Any = None, ard: bool = True, **kwargs: Any) -> None:
            import torch

            super().__init__(**kwargs)
            parts = int(properties.shape[-2])
            self.register_buffer("properties", properties)
            self.register_buffer("low", torch.zeros(parts, dtype=properties.dtype) if low is None else low)
            self.register_buffer("span", torch.ones(parts, dtype=properties.dtype) if span is None else span)
            self.features_kernel = matern52_base(2 * int(properties.shape[-1]), ard)

        def features(self, x: Any) -> Any:
            """x (... x n x parts, model coordinates) -> phi(x) (... x n x 2p)."""
            amounts = self.low.to(x) + self.span.to(x) * x
            return element_features(amounts, self.properties.to(x))

        def forward(self, x1: Any, x2: Any, diag: bool = False, last_dim_is_batch: bool = False, **params: Any) -> Any:
            if last_dim_is_batch:
                raise NotImplementedError("ElementsKernel compares whole compositions, not single columns")
            return self.features_kernel.forward(self.features(x1), self.features(x2), diag=diag, **params)

    for cls in (TanimotoKernel, ElementsKernel):
        cls.__module__, cls.__qualname__ = __name__, cls.__name__
    return {"TanimotoKernel": TanimotoKernel, "ElementsKernel": ElementsKernel}


def layout_kernel(layout: KernelLayout, kind: str = "matern52", ard: bool = True) -> Any:
    """The covariance module of a GP on ``layout.dim`` model columns.

    A plain layout (no blocks) gives ``KERNELS[kind](dim, ard)``, today's kernel, unchanged. Otherwise
    ScaleKernel(product of the stationary kernel ``kind`` on ``layout.shared_columns`` (when there are any) and
    one kernel per block on the block's columns: ``TanimotoKernel`` for "tanimoto", ``ElementsKernel`` for
    "elements"), with the outputscale prior of Kiln's Matern kernel.
    """
    import torch
    from gpytorch.kernels import ProductKernel

    check_kernel(kind)
    check_layout(layout)
    if layout.plain:
        return KERNELS[kind](layout.dim, ard=ard)
    classes = _kernel_classes()
    parts = []
    shared = layout.shared_columns
    if shared:
        parts.append(BASE_KERNELS[kind](len(shared), ard, active_dims=shared))
    for block in layout.blocks:
        if block.kind == "tanimoto":
            parts.append(classes["TanimotoKernel"](columns=block.columns))
        else:
            properties, low, span = (
                torch.tensor(values, dtype=torch.float64) for values in (block.properties, block.low, block.span)
            )
            parts.append(classes["ElementsKernel"](properties, low, span, ard=ard, active_dims=block.columns))
    return scaled(parts[0] if len(parts) == 1 else ProductKernel(*parts))


def check_layout(layout: KernelLayout, X: np.ndarray | None = None, where: str = "kernel layout") -> None:
    """Raise ValidationError unless every block's columns lie in 0..dim-1, no column is in two blocks, each
    elements block has finite property rows of one positive length and non-negative amounts over [0, 1], and
    (given the inputs X, n x dim) X has ``layout.dim`` columns and every block's values (a tanimoto block's
    coordinates, an elements block's amounts) are non-negative."""
    import numpy as np

    if X is not None and (np.ndim(X) != 2 or np.shape(X)[1] != layout.dim):
        raise ValidationError(
            f"{where}: X", np.shape(X), f"n x {layout.dim} model coordinates (the layout's dim)", "encode the points"
        )
    seen: set[int] = set()
    for block in layout.blocks:
        name = f"{where}: block {block.name or block.kind!r}"
        bad = [c for c in block.columns if not 0 <= c < layout.dim]
        if bad:
            raise ValidationError(f"{name} columns", bad, f"columns 0 to {layout.dim - 1}", "fix the layout")
        if seen & set(block.columns) or len(set(block.columns)) != len(block.columns):
            raise ValidationError(f"{name} columns", block.columns, "each column in one block only", "")
        seen |= set(block.columns)
        _check_properties(name, block)
        if X is not None and len(X) and float(np.min(_values(block, np.asarray(X)))) < 0.0:
            raise ValidationError(
                f"{name} values", "negative", f"non-negative values in a {block.kind} block", "check the encoding"
            )


def _values(block: FeatureBlock, X: np.ndarray) -> np.ndarray:
    """What the block's kernel compares of X (n x dim): the coordinates, or an elements block's amounts."""
    import numpy as np

    z = X[:, list(block.columns)]
    return z if block.kind != "elements" else np.asarray(block.low) + np.asarray(block.span) * z


def _check_properties(name: str, block: FeatureBlock) -> None:
    import numpy as np

    if block.kind != "elements":
        return
    low, high = np.asarray(block.low, dtype=float), np.asarray(block.low) + np.asarray(block.span, dtype=float)
    if not (np.isfinite(high).all() and min(low.min(), high.min()) >= 0.0):
        raise ValidationError(
            f"{name} amounts", (block.low, block.span), "non-negative finite amounts low + span * z", ""
        )
    lengths = {len(row) for row in block.properties}
    if len(lengths) != 1 or 0 in lengths:
        raise ValidationError(f"{name} properties", sorted(lengths), "rows of one positive length", "")
    if not np.isfinite(np.asarray(block.properties, dtype=float)).all():
        raise ValidationError(f"{name} properties", "non-finite", "finite property values", "")
