"""Surrogate models of the utility: Gaussian processes on model coordinates in [0, 1]^d."""

from kiln.models.gp import KERNELS, FittedGP, fit_gp

__all__ = ["KERNELS", "FittedGP", "fit_gp"]
