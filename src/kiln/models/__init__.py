"""Surrogate models of the utility on model coordinates in [0, 1]^d: Gaussian processes and random forests."""

from kiln.models.base import Surrogate
from kiln.models.forest import FittedForest, fit_forest
from kiln.models.gp import KERNELS, FittedGP, fit_gp

__all__ = ["KERNELS", "FittedForest", "FittedGP", "Surrogate", "fit_forest", "fit_gp"]
