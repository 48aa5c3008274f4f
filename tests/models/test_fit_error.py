"""rmse_r2: RMSE and R^2 on known predictions, a flat truth, and a shape mismatch."""

from __future__ import annotations

import numpy as np
import pytest

from kiln.core.errors import ValidationError
from kiln.models.fit_error import rmse_r2


def test_rmse_r2_on_known_predictions() -> None:
    truth = np.array([0.0, 1.0, 2.0, 3.0])
    assert rmse_r2(truth, truth) == (0.0, 1.0)
    rmse, r2 = rmse_r2(np.full(4, 1.5), truth)  # the mean: R^2 0
    assert rmse == pytest.approx(np.sqrt(1.25)) and r2 == pytest.approx(0.0)
    rmse, r2 = rmse_r2(truth + 1.0, truth)
    assert rmse == pytest.approx(1.0) and r2 == pytest.approx(1 - 4 / 5)


def test_a_flat_truth_has_r2_zero_and_a_shape_mismatch_is_named() -> None:
    assert rmse_r2(np.ones(3), np.zeros(3))[1] == 0.0
    with pytest.raises(ValidationError, match="shape"):
        rmse_r2(np.ones(3), np.ones(4))
