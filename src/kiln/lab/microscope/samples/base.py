"""What a simulated sample is: an overview image, the local structure behind it, and a spectrum model.

Pixels are addressed as ``(x, y)``: ``x`` the column and ``y`` the row of a ``size x size`` image (arrays are
indexed ``image[y, x]``). Every map of a sample is ``size x size``; the spectrum axis has ``m`` points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kiln.core.errors import ValidationError

SpectrumModel = Callable[[Mapping[str, np.ndarray], np.ndarray], np.ndarray]
"""(spectrum parameters, each an array of n pixels' values; the axis, m) -> n x m spectra."""


@dataclass(frozen=True, eq=False)
class Sample:
    """A simulated sample (built by a sample kind from a seed and a size; see ``kiln.lab.microscope.samples``).

    Attributes:
        kind, seed, size: what built it (the sample is a deterministic function of them and ``options``).
        image: the noise-free overview image, size x size, in ``image_unit``.
        axis: the spectrum's axis (bias in V, Raman shift in cm^-1, ...), m points, in ``axis_unit``.
        maps: name -> size x size array: the local structure (e.g. distance to the nearest domain wall, in pixels)
            and the spectrum parameters at every pixel; ``parameters`` names those the model reads.
        model: the spectrum model (see ``SpectrumModel``): noise-free spectra from the parameters.
        options: the kind's options it was built with (e.g. the number of defects).
    """

    kind: str
    seed: int
    size: int
    image: np.ndarray
    image_name: str
    image_unit: str
    axis: np.ndarray
    axis_name: str
    axis_unit: str
    signal_name: str
    maps: Mapping[str, np.ndarray]
    parameters: tuple[str, ...]
    model: SpectrumModel
    options: Mapping[str, Any] = field(default_factory=dict)

    def check_pixel(self, x: Any, y: Any, where: str = "spectrum") -> tuple[int, int]:
        """``(x, y)`` as whole numbers inside the image; ValidationError naming the coordinate otherwise."""
        checked = []
        for name, value in (("x", x), ("y", y)):
            number = value
            if isinstance(value, float) and value.is_integer():
                number = int(value)
            if isinstance(number, np.integer):
                number = int(number)
            if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < self.size:
                raise ValidationError(
                    f"{where}: {name}",
                    value,
                    f"a whole pixel number from 0 to {self.size - 1} (the {self.kind} sample is {self.size} x "
                    f"{self.size} pixels)",
                    "use a pixel of the overview image",
                )
            checked.append(number)
        return checked[0], checked[1]

    def spectra(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Noise-free spectra at the pixels (xs[i], ys[i]) (whole numbers in the image): n x m."""
        rows, columns = np.asarray(ys, dtype=int), np.asarray(xs, dtype=int)
        values = {name: self.maps[name][rows, columns] for name in self.parameters}
        return np.asarray(self.model(values, self.axis), dtype=float)

    def spectrum(self, x: int, y: int) -> np.ndarray:
        """The noise-free spectrum at pixel (x, y): m values."""
        x, y = self.check_pixel(x, y)
        return self.spectra(np.array([x]), np.array([y]))[0]


def zero_crossings(field: np.ndarray) -> np.ndarray:
    """Pixels on the boundary between positive and negative regions of ``field`` (n x n -> n x n booleans): a
    pixel is on it when a neighbour (right or below) has the other sign; both pixels of a pair are marked."""
    positive = field > 0
    mask = np.zeros_like(positive)
    across_rows = positive[1:, :] != positive[:-1, :]
    across_columns = positive[:, 1:] != positive[:, :-1]
    mask[1:, :] |= across_rows
    mask[:-1, :] |= across_rows
    mask[:, 1:] |= across_columns
    mask[:, :-1] |= across_columns
    return mask


def distance_to(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distance (pixels) of every pixel to the nearest True pixel of ``mask`` (n x n), and the row and
    column of that pixel (2 x n x n); with no True pixel, every distance is the image's diagonal."""
    from scipy import ndimage

    if not mask.any():
        n = mask.shape[0]
        rows, columns = np.indices(mask.shape)
        return np.full(mask.shape, float(np.hypot(n, n))), np.stack([rows, columns])
    distance, indices = ndimage.distance_transform_edt(~mask, return_indices=True)
    return np.asarray(distance, dtype=float), np.asarray(indices)


def curvature(field: np.ndarray) -> np.ndarray:
    """Curvature (1/pixel) of the level lines of ``field`` (n x n): div(grad f / |grad f|), on a field smoothed
    over one pixel; positive where a level line bends around a positive region."""
    from scipy import ndimage

    smooth = ndimage.gaussian_filter(field, 1.0, mode="nearest")
    gy, gx = np.gradient(smooth)
    norm = np.hypot(gx, gy) + 1e-9
    return np.asarray(-(np.gradient(gx / norm, axis=1) + np.gradient(gy / norm, axis=0)), dtype=float)


def check_option(kind: str, name: str, value: Any, low: float, high: float, *, whole: bool = False) -> float:
    """A sample option as a number in [low, high] (a whole number where ``whole``); ValidationError otherwise."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
    if ok and whole and not float(value).is_integer():
        ok = False
    if not ok:
        what = "a whole number" if whole else "a number"
        raise ValidationError(f"sample: {name}", value, f"{what} from {low:g} to {high:g} for a {kind} sample", "")
    return float(value)
