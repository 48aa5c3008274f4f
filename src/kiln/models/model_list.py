"""Independent GPs, one per measured quantity, combined into one multi-output BoTorch model.

Each quantity (a target, a constrained quantity, or a scalar utility) gets Kiln's fast GP (``fit_gp``), trained on
the experiments that have a value for it: an experiment measured in part teaches each quantity's GP what it has.
The GPs' public Model faces (``FittedGP.posterior_model``, exact joint posteriors) are combined through BoTorch's
``ModelList``, so stock multi-output acquisitions (qLogNEHVI, qLogNParEGO, constrained qLogNEI) work on them.

Each GP works in its own standardised units; ``FittedModelList.raw`` maps posterior samples back to lab units, where
the objective's ``Target.score`` and ``OutcomeConstraint.slack`` apply.

torch and BoTorch are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from kiln.core.errors import ValidationError
from kiln.models.gp import FittedGP, fit_gp
from kiln.models.joint_fit import fit_gps_jointly

if TYPE_CHECKING:
    import numpy as np
    from torch import Tensor

    from kiln.space.kernel_layout import KernelLayout


@dataclass(frozen=True)
class FittedModelList:
    """Fitted GPs of m quantities on the same d model coordinates, in a fixed order (``names``).

    Attributes:
        gps: one fitted GP per quantity (standardised outputs).
        names: the quantity of each GP.
    """

    gps: tuple[FittedGP, ...]
    names: tuple[str, ...]

    @property
    def dim(self) -> int:
        return self.gps[0].dim

    def column(self, name: str) -> int:
        """The output index of quantity ``name``."""
        return self.names.index(name)

    @cached_property
    def model(self) -> Any:
        """BoTorch ``ModelList`` of the GPs' exact-posterior faces: m outputs, standardised units, independent
        across outputs, joint across the q points of a batch."""
        from botorch.models.model import ModelList

        return ModelList(*(gp.posterior_model for gp in self.gps))

    def raw(self, samples: Tensor) -> Tensor:
        """Samples ``... x m`` in standardised units -> lab units (each output times its std plus its mean)."""
        import torch

        mean = torch.tensor([gp.y_mean for gp in self.gps], dtype=samples.dtype)
        std = torch.tensor([gp.y_std for gp in self.gps], dtype=samples.dtype)
        return samples * std + mean

    @property
    def stds(self) -> tuple[float, ...]:
        """The standard deviation of each quantity's training values (lab units)."""
        return tuple(gp.y_std for gp in self.gps)


def fit_model_list(
    columns: Sequence[tuple[np.ndarray, np.ndarray]],
    names: Sequence[str],
    *,
    kernel: str = "matern52",
    ard: bool = True,
    seed: int = 0,
    layout: KernelLayout | None = None,
) -> FittedModelList:
    """One GP per quantity: ``columns[i]`` is (X_i n_i x d, y_i (n_i,)), the experiments with a value of quantity
    ``names[i]``; each n_i >= 1. Deterministic for a given seed (quantity i is fitted with seed + i). Quantities
    measured on the same experiments are fitted side by side (``kiln.models.joint_fit``), each as it would be
    alone. ``layout``: the domain's kernel layout, shared by every GP (see ``fit_gp``)."""
    if len(columns) != len(names) or not columns:
        raise ValidationError("fit_model_list: columns", len(columns), f"one (X, y) per name of {list(names)}", "")
    for name, (X, _) in zip(names, columns, strict=True):
        if len(X) == 0:
            raise ValidationError(
                f"fit_model_list: quantity '{name}'", 0, "at least one observation per quantity", "measure it once"
            )
    gps: list[FittedGP | None] = [None] * len(columns)
    for group in same_inputs(columns):
        X = columns[group[0]][0]
        ys, seeds = [columns[i][1] for i in group], [seed + i for i in group]
        together = fit_gps_jointly(X, ys, seeds, kernel=kernel, ard=ard, layout=layout) if len(group) > 1 else None
        for i, y, s, fitted in zip(group, ys, seeds, together or [None] * len(group), strict=True):
            gps[i] = fitted if fitted is not None else fit_gp(X, y, kernel=kernel, ard=ard, seed=s, layout=layout)
    return FittedModelList(tuple(gp for gp in gps if gp is not None), tuple(names))


def same_inputs(columns: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[list[int]]:
    """Indices of ``columns`` grouped by equal inputs X (same rows in the same order), in order of first
    appearance: the quantities measured on the same experiments."""
    import numpy as np

    groups: list[list[int]] = []
    for i, (X, _) in enumerate(columns):
        for group in groups:
            first = columns[group[0]][0]
            if first.shape == X.shape and np.array_equal(first, X):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups
