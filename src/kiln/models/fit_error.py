"""How well predictions fit the truth: RMSE and R^2, the one definition every map error in Kiln uses."""

from __future__ import annotations

import numpy as np

from kiln.core.errors import ValidationError


def rmse_r2(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """(RMSE, R^2) of ``predicted`` against ``truth``, both (N,) in the same units (the RMSE is in them);
    R^2 = 1 - SSE / SST, 0 when the truth is flat (SST = 0)."""
    predicted, truth = np.asarray(predicted, dtype=float), np.asarray(truth, dtype=float)
    if predicted.shape != truth.shape:
        raise ValidationError("predicted values", predicted.shape, f"the truth's shape {truth.shape}", "one per row")
    residual = predicted - truth
    total = float(((truth - truth.mean()) ** 2).sum())
    r2 = 1.0 - float((residual**2).sum()) / total if total > 0 else 0.0
    return float(np.sqrt((residual**2).mean())), r2
