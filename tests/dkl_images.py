"""A synthetic microscope image for the deep-kernel tests: bright discs (blobs) on a dark, noisy background, and a
reward that is high on the blobs' edges, a function of local structure that an (x, y) model cannot learn from a
few points. numpy only; reproducible from the seed."""

from __future__ import annotations

import numpy as np


def blob_image(size: int = 32, count: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(image, reward), each size x size: discs of radius 2.5 to 4 (soft edges, noise 0.05), reward =
    exp(-d^2 / 2) with d the distance in pixels to the nearest disc edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    image = np.zeros((size, size))
    distance = np.full((size, size), np.inf)
    for _ in range(count):
        cx, cy, radius = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(2.5, 4)
        centre = np.hypot(xx - cx, yy - cy)
        image = np.maximum(image, 1.0 / (1.0 + np.exp(-(radius - centre) / 0.7)))
        distance = np.minimum(distance, np.abs(centre - radius))
    return image + rng.normal(0.0, 0.05, image.shape), np.exp(-0.5 * distance**2)
