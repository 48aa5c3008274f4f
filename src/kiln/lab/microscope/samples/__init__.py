"""Simulated samples by stable kind name, each a deterministic function of (seed, size, options).

``ferroelectric`` (``kiln.lab.microscope.samples.ferroelectric``): PFM domains from a Ginzburg-Landau simulation,
with piezoresponse hysteresis loops. ``blend`` (``kiln.lab.microscope.samples.blend``): a Cahn-Hilliard blend in
topography, with a Raman-like band. ``make_sample`` builds one, or returns it from an in-memory cache.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kiln.core.errors import NotFoundError, ValidationError
from kiln.lab.microscope.samples import blend, ferroelectric
from kiln.lab.microscope.samples.base import Sample

MIN_SIZE, MAX_SIZE = 16, 512


@dataclass(frozen=True)
class SampleKind:
    """A registered sample kind: ``build(seed, size, **options) -> Sample``, its options' ``defaults(size)``, and
    one line about it."""

    name: str
    build: Callable[..., Sample]
    defaults: Callable[[int], Mapping[str, float]]
    about: str


SAMPLE_KINDS: dict[str, SampleKind] = {
    "ferroelectric": SampleKind(
        "ferroelectric",
        ferroelectric.build,
        ferroelectric.defaults,
        "PFM domains (Ginzburg-Landau) with piezoresponse hysteresis loops",
    ),
    "blend": SampleKind(
        "blend", blend.build, blend.defaults, "a Cahn-Hilliard blend in topography with a Raman-like band"
    ),
}


def sample_kind(name: Any) -> SampleKind:
    """The registered kind ``name``; NotFoundError listing the known ones."""
    if not isinstance(name, str) or name not in SAMPLE_KINDS:
        raise NotFoundError(
            f"unknown sample kind {name!r}; known kinds are {sorted(SAMPLE_KINDS)} (to add one, register a "
            "SampleKind in kiln.lab.microscope.samples.SAMPLE_KINDS)"
        )
    return SAMPLE_KINDS[name]


def make_sample(kind: str, seed: int = 0, size: int = 128, **options: float) -> Sample:
    """The sample of ``kind`` for ``seed`` and ``size`` (pixels per side, 16 to 512), with the kind's options
    (unknown ones refused); built once per (kind, seed, size, options) in this process and cached."""
    registered = sample_kind(kind)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError("sample: seed", seed, "a whole number >= 0", "e.g. seed: 0")
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValidationError("sample: size", size, f"a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}", "")
    known = registered.defaults(size)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValidationError(
            "sample", unknown, f"options of a {kind} sample are {sorted(known)} (besides kind, seed, size)", ""
        )
    settings = {**known, **options}
    return _cached(kind, seed, size, tuple(sorted(settings.items())))


@functools.lru_cache(maxsize=16)
def _cached(kind: str, seed: int, size: int, options: tuple[tuple[str, Any], ...]) -> Sample:
    return SAMPLE_KINDS[kind].build(seed, size, **dict(options))


__all__ = ["SAMPLE_KINDS", "Sample", "SampleKind", "make_sample", "sample_kind"]
