"""A ferroelectric thin film: domains from a phase-field simulation, imaged by piezoresponse force microscopy (PFM),
with a piezoresponse hysteresis loop at every pixel whose shape follows the local domain structure.

Domains. The out-of-plane polarisation P(x, y) relaxes under time-dependent Ginzburg-Landau (Allen-Cahn) dynamics,
``dP/dt = P - P^3 + lap(P) + h(x, y)``: the Landau double well ``F = -P^2/2 + P^4/4`` with minima at P = +1 and -1,
the gradient (wall) energy ``|grad P|^2 / 2`` that sets the wall width to about one pixel, and ``h`` a quenched
random field of point defects (Gaussian bumps of 2 pixels and random sign, e.g. charged defect dipoles) that pin
the walls. From a smoothed random initial polarisation (a quench from the paraelectric phase, correlation 4
pixels), 300 explicit steps (dt 0.2, periodic edges) coarsen it into domains of either sign separated by walls,
the zero crossings of P; P is clipped to [-1, 1]. Seeds give different patterns; the same seed and size the same.

Overview. The PFM mixed signal ``A cos(phase)`` (amplitude times the cosine of the phase, in units of the bulk
response): +1 in up domains, -1 in down domains, passing through zero at a wall, where the responses of the two
domains under the tip cancel; the core of a defect (1.5 pixels) answers weaker (a partly non-switchable region:
the signal is scaled by ``1 - 0.6 exp(-r^2 / 4.5)``).

Hysteresis loops. Switching spectroscopy PFM sweeps the tip bias as a triangle from -10 V to +10 V and back
(64 points each way, so the spectrum has 128 points, up branch first) and records the piezoresponse. Each branch
is ``b tanh((V - V_switch) / w) + 0.02 V``: the up branch switches at ``V_c + V_i``, the down branch at
``-V_c + V_i``, so the loop's area is about ``4 b V_c``. Its parameters follow the local structure, as observed in
SS-PFM maps (Jesse et al., Nature Materials 7, 209 (2008); Kalinin et al., Reports on Progress in Physics 73,
056502 (2010); the active-learning experiments of Liu, Kelley, Vasudevan, Ziatdinov and Kalinin, Nature Machine
Intelligence 4, 341 (2022)); with ``near = exp(-d / 3)`` (d: distance to the nearest wall in pixels),
``bend = min(3 |kappa|, 1)`` (kappa: the curvature of that wall, 1/pixel) and ``pin = exp(-r^2 / 18)`` (r: distance
to the nearest defect):

- coercive bias ``V_c = 3 V (1 - 0.45 near - 0.25 near bend) (1 + 0.6 pin)``: a wall is a ready nucleation site,
  so switching needs less bias next to it, less still next to a curved (more mobile) wall; defects pin the walls
  and raise it;
- imprint ``V_i = 1.5 V q pin`` (q the sign of the nearest defect's field): the built-in field of a defect dipole
  shifts the loop along the bias axis;
- saturation response ``b = 1 - 0.5 near``: the tip field under a wall switches a smaller volume of a clamped
  region;
- switching width ``w = 0.5 V (1 + 1.5 near)``: nucleation sites of a spread of energies near a wall smear the
  switching out.

So loops are widest and tallest deep inside domains and near defects away from walls (the largest areas), and
narrow and slanted at walls. Maps kept with the sample: ``polarisation``, ``wall_distance`` (pixels),
``wall_curvature`` (1/pixel, of the nearest wall), ``defect_distance`` (pixels), ``defect_sign``, and the loop
parameters ``coercive``, ``imprint``, ``amplitude``, ``width``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kiln.lab.microscope.samples.base import Sample, check_option, curvature, distance_to, zero_crossings

KIND = "ferroelectric"
BIAS_MAX = 10.0
"""Volts at the ends of the bias sweep."""
POINTS = 64
"""Points per branch of the sweep."""
STEPS = 300
DT = 0.2
SLOPE = 0.02
"""Electrostatic background of the loop, per volt."""


def defaults(size: int) -> dict[str, float]:
    """The options' defaults: one defect per 2048 pixels (8 on 128 x 128), field strength 0.3."""
    return {"defects": float(max(1, round(size * size / 2048))), "defect_field": 0.3}


def bias_axis() -> np.ndarray:
    """The triangle sweep: -10 V to +10 V (64 points), then +10 V to -10 V (64 points): 128 volts."""
    up = np.linspace(-BIAS_MAX, BIAS_MAX, POINTS)
    return np.concatenate([up, up[::-1]])


def loops(parameters: Mapping[str, np.ndarray], axis: np.ndarray) -> np.ndarray:
    """Hysteresis loops (n x 128) from n pixels' ``coercive``, ``imprint``, ``amplitude`` and ``width``; ``axis``
    is ``bias_axis()`` (up branch, then down branch)."""
    coercive = parameters["coercive"][:, None]
    imprint = parameters["imprint"][:, None]
    amplitude = parameters["amplitude"][:, None]
    width = parameters["width"][:, None]
    half = axis.shape[0] // 2
    up, down = axis[None, :half], axis[None, half:]
    rising = amplitude * np.tanh((up - (coercive + imprint)) / width) + SLOPE * up
    falling = amplitude * np.tanh((down - (imprint - coercive)) / width) + SLOPE * down
    return np.concatenate([rising, falling], axis=1)


def build(seed: int, size: int, **options: float) -> Sample:
    """The ferroelectric sample of ``seed`` and ``size`` (see the module docstring). Options: ``defects`` (a whole
    number from 0 to 200), ``defect_field`` (0 to 2, the random field's peak)."""
    from scipy import ndimage

    settings = {**defaults(size), **options}
    defects = int(check_option(KIND, "defects", settings["defects"], 0, 200, whole=True))
    strength = check_option(KIND, "defect_field", settings["defect_field"], 0.0, 2.0)
    rng = np.random.default_rng([seed, size, 7411])
    rows, columns = np.indices((size, size), dtype=float)
    centres = rng.uniform(0, size, size=(defects, 2))
    signs = rng.choice([-1.0, 1.0], size=defects)
    field = np.zeros((size, size))
    defect_distance = np.full((size, size), float(np.hypot(size, size)))
    defect_sign = np.zeros((size, size))
    for (cy, cx), sign in zip(centres, signs, strict=True):
        dy = np.abs(rows - cy)
        dx = np.abs(columns - cx)
        periodic = np.minimum(dy, size - dy) ** 2 + np.minimum(dx, size - dx) ** 2
        field += sign * strength * np.exp(-periodic / (2 * 2.0**2))
        direct = np.hypot(dy, dx)
        closer = direct < defect_distance
        defect_distance = np.where(closer, direct, defect_distance)
        defect_sign = np.where(closer, sign, defect_sign)
    start = ndimage.gaussian_filter(rng.normal(0.0, 1.0, size=(size, size)), 4.0, mode="wrap")
    polarisation = 0.2 * start / (start.std() + 1e-12)
    for _ in range(STEPS):
        laplacian = (
            np.roll(polarisation, 1, 0)
            + np.roll(polarisation, -1, 0)
            + np.roll(polarisation, 1, 1)
            + np.roll(polarisation, -1, 1)
            - 4 * polarisation
        )
        polarisation = polarisation + DT * (polarisation - polarisation**3 + laplacian + field)
    polarisation = np.clip(polarisation, -1.0, 1.0)

    walls = zero_crossings(polarisation)
    wall_distance, nearest = distance_to(walls)
    wall_curvature = curvature(polarisation)[nearest[0], nearest[1]]
    near = np.exp(-wall_distance / 3.0)
    bend = np.minimum(3.0 * np.abs(wall_curvature), 1.0)
    pin = np.exp(-(defect_distance**2) / 18.0)
    core = np.exp(-(defect_distance**2) / 4.5)
    maps = {
        "polarisation": polarisation,
        "wall_distance": wall_distance,
        "wall_curvature": wall_curvature,
        "defect_distance": defect_distance,
        "defect_sign": defect_sign,
        "coercive": 3.0 * (1.0 - 0.45 * near - 0.25 * near * bend) * (1.0 + 0.6 * pin),
        "imprint": 1.5 * defect_sign * pin,
        "amplitude": 1.0 - 0.5 * near,
        "width": 0.5 * (1.0 + 1.5 * near),
    }
    return Sample(
        kind=KIND,
        seed=seed,
        size=size,
        image=polarisation * (1.0 - 0.6 * core),
        image_name="PFM response (A cos phase)",
        image_unit="bulk response",
        axis=bias_axis(),
        axis_name="bias",
        axis_unit="V",
        signal_name="piezoresponse",
        maps=maps,
        parameters=("coercive", "imprint", "amplitude", "width"),
        model=loops,
        options={"defects": defects, "defect_field": strength},
    )
