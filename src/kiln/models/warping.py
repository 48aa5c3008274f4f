"""Output warping: a monotone transform of the observed utilities before a surrogate is fitted.

Measured objectives are often skewed (conductivities over orders of magnitude, yields piled up near zero), and a
GP with a stationary kernel and Gaussian noise fits such data badly: a few large values dominate the marginal
likelihood and the lengthscales. A Yeo-Johnson power transform, fitted to the utilities observed so far by maximum
likelihood (scikit-learn's PowerTransformer), makes them closer to Gaussian. It is monotone, so the order of the
utilities, and with it the incumbent, is unchanged.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from kiln.core.errors import SpecError

if TYPE_CHECKING:
    import numpy as np

TRANSFORMS = ("none", "power")
"""Output transforms: "none" (the utilities as they are) and "power" (Yeo-Johnson, then standardised)."""

MIN_POINTS = 3
"""Fewer observations than this are returned unchanged by the power transform (its exponent is not identified)."""


def check_transform(kind: str, field: str = "transform") -> str:
    """``kind`` if it is a known output transform, else SpecError naming ``field`` and listing the known ones."""
    if kind not in TRANSFORMS:
        raise SpecError(field, kind, f"known output transforms are {list(TRANSFORMS)}", "use one of them")
    return kind


def warp(y: np.ndarray, kind: str = "power") -> np.ndarray:
    """Utilities y (n,) -> transformed utilities (n,), same order; "none" returns y unchanged.

    The power transform standardises first (the Yeo-Johnson exponent depends on the scale), fits the exponent to
    y by maximum likelihood and standardises the result. Non-finite results (an extreme exponent) fall back to y.
    """
    import numpy as np
    from sklearn.preprocessing import PowerTransformer

    check_transform(kind)
    y = np.asarray(y, dtype=float).reshape(-1)
    if kind == "none" or len(y) < MIN_POINTS or float(np.ptp(y)) <= 0.0:
        return y
    z = (y - y.mean()) / y.std()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = PowerTransformer(method="yeo-johnson", standardize=True).fit_transform(z.reshape(-1, 1)).reshape(-1)
    if not np.isfinite(out).all() or float(np.ptp(out)) <= 0.0:
        return y
    return np.asarray(out)
