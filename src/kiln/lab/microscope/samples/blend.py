"""A spinodally decomposed polymer blend (or alloy film): two phases from a Cahn-Hilliard simulation, imaged in
topography, with a Raman-like band at every pixel whose position follows the local composition and whose width
grows near the interfaces.

Phases. The order parameter c(x, y) (c = -1: pure A, c = +1: pure B; composition phi = (1 + c) / 2, the fraction of
B) follows Cahn-Hilliard dynamics, ``dc/dt = lap(c^3 - c - 4 lap(c))``: a quench into the spinodal region of the
double-well free energy ``(c^2 - 1)^2 / 4`` with gradient energy ``2 |grad c|^2`` (interfaces about two pixels
wide), which conserves the mean composition. From ``mean`` (default 0: a bicontinuous pattern; off zero, droplets
of the minority phase) plus small random fluctuations, 300 stabilised semi-implicit spectral steps (dt 10,
periodic edges; Zhu, Chen, Shen and Tikare, Phys. Rev. E 60, 3564 (1999)) coarsen it into domains of the two
phases. The same seed and size give the same pattern.

Overview. AFM topography in nm: the B-rich phase stands 4 nm higher (it swelled, or the A phase was partly
dissolved), the tip rounds the steps (a blur of 0.7 pixels), and the film has a static roughness of 0.2 nm (part
of the sample, the same on every scan).

Spectra. A Lorentzian band on a weak sloping fluorescence background, over a Raman shift of 380 to 620 cm^-1 (128
points). With ``phi_s`` the composition averaged over the probe spot (a Gaussian of one pixel) and
``near = exp(-d / 2)`` (d: distance to the nearest interface, pixels):

- position ``450 + 100 phi_s`` cm^-1: the mode shifts linearly with composition between the pure phases (as a
  Raman mode of a mixed crystal or the band gap of an alloy does, Vegard-like);
- half width ``8 + 20 near (1 + bend)`` cm^-1, with ``bend = min(3 |kappa|, 1)`` (kappa: the curvature of the
  nearest interface, 1/pixel): the disorder and the mixture of compositions within the spot at an interface broaden
  the band, most at strongly curved interfaces (necks and small droplets, where the curvature raises the interface's
  excess free energy and its strain, cf. the Gibbs-Thomson effect), so the broadest bands sit at the necks;
- peak height ``(1 + 0.6 phi_s) 8 / width``: B scatters 1.6 times as strongly as A, and a broader band of the same
  integrated intensity is lower.

Maps kept with the sample: ``composition`` (phi), ``spot_composition``, ``interface_distance`` (pixels),
``interface_curvature`` (1/pixel, of the nearest interface), and the band's ``position``, ``width`` (half width at
half maximum) and ``height``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kiln.lab.microscope.samples.base import Sample, check_option, curvature, distance_to, zero_crossings

KIND = "blend"
STEPS = 300
DT = 10.0
GRADIENT = 4.0
STABILISER = 2.0
SHIFT_LOW, SHIFT_HIGH, POINTS = 380.0, 620.0, 128


def defaults(size: int) -> dict[str, float]:
    """The options' defaults: a symmetric blend (mean order parameter 0)."""
    return {"mean": 0.0}


def shift_axis() -> np.ndarray:
    """Raman shift, 380 to 620 cm^-1 in 128 points."""
    return np.linspace(SHIFT_LOW, SHIFT_HIGH, POINTS)


def bands(parameters: Mapping[str, np.ndarray], axis: np.ndarray) -> np.ndarray:
    """Spectra (n x 128) from n pixels' band ``position``, ``width`` (HWHM) and ``height``, on the background."""
    position = parameters["position"][:, None]
    width = parameters["width"][:, None]
    height = parameters["height"][:, None]
    shift = axis[None, :]
    background = 0.05 + 2e-4 * (shift - SHIFT_LOW)
    return height * width**2 / ((shift - position) ** 2 + width**2) + background


def build(seed: int, size: int, **options: float) -> Sample:
    """The blend sample of ``seed`` and ``size`` (see the module docstring). Option: ``mean`` (-0.5 to 0.5, the mean
    order parameter; phi = 0.25 to 0.75)."""
    from scipy import ndimage

    settings = {**defaults(size), **options}
    mean = check_option(KIND, "mean", settings["mean"], -0.5, 0.5)
    rng = np.random.default_rng([seed, size, 2718])
    order = mean + 0.05 * rng.normal(size=(size, size))
    k = 2 * np.pi * np.fft.fftfreq(size)
    k_half = 2 * np.pi * np.fft.rfftfreq(size)
    k2 = k[:, None] ** 2 + k_half[None, :] ** 2
    denominator = 1.0 + DT * STABILISER * k2 + DT * GRADIENT * k2**2
    spectrum = np.fft.rfft2(order)
    for _ in range(STEPS):
        order = np.fft.irfft2(spectrum, s=(size, size))
        spectrum = (spectrum * (1.0 + DT * STABILISER * k2) - DT * k2 * np.fft.rfft2(order**3 - order)) / denominator
    order = np.clip(np.fft.irfft2(spectrum, s=(size, size)), -1.0, 1.0)
    composition = (1.0 + order) / 2.0

    roughness = ndimage.gaussian_filter(rng.normal(size=(size, size)), 1.0, mode="wrap")
    roughness *= 0.2 / (roughness.std() + 1e-12)
    height_map = 4.0 * ndimage.gaussian_filter(composition, 0.7, mode="wrap") + roughness
    spot = ndimage.gaussian_filter(composition, 1.0, mode="wrap")
    interface_distance, nearest = distance_to(zero_crossings(order))
    interface_curvature = curvature(order)[nearest[0], nearest[1]]
    near = np.exp(-interface_distance / 2.0)
    width = 8.0 + 20.0 * near * (1.0 + np.minimum(3.0 * np.abs(interface_curvature), 1.0))
    maps = {
        "composition": composition,
        "spot_composition": spot,
        "interface_distance": interface_distance,
        "interface_curvature": interface_curvature,
        "position": 450.0 + 100.0 * spot,
        "width": width,
        "height": (1.0 + 0.6 * spot) * 8.0 / width,
    }
    return Sample(
        kind=KIND,
        seed=seed,
        size=size,
        image=height_map,
        image_name="topography",
        image_unit="nm",
        axis=shift_axis(),
        axis_name="Raman shift",
        axis_unit="cm^-1",
        signal_name="intensity",
        maps=maps,
        parameters=("position", "width", "height"),
        model=bands,
        options={"mean": mean},
    )
