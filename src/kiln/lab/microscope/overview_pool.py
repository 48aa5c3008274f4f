"""A spec's pool taken from a microscope's overview scan: ``pool: {overview: INSTRUMENT, stride: 2, patch: 9}``.

When the spec is read, the named microscope instrument loads its sample and scans the overview (both logged with
their cost and simulated seconds); the pool is every ``stride``-th pixel of that image with the image attached
(``kiln.space.pool_image.pixel_pool``: columns x and y, patches of ``patch`` pixels), so the campaign stores the
image with its pool. The scan is a function of the instrument's seed (the spec's seed plus the instrument's
index, as ``kiln run`` seeds it), so reading the spec again gives the same pool and the campaign resumes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kiln.core.errors import SpecError, ValidationError
from kiln.space.pool import CandidatePool

FIELDS = {"overview", "stride", "patch", "allow_repeats"}


def overview_pool(
    pool: Mapping[str, Any], instruments: Sequence[Mapping[str, Any]], *, seed: int, base: Path = Path()
) -> tuple[CandidatePool, dict[str, Any]]:
    """(the pool of the overview's pixels, what the scan did: instrument, shape, stride, patch, cost, seconds)."""
    from kiln.lab.instrument_config import instrument_from_spec
    from kiln.lab.microscope.instrument import MicroscopeInstrument
    from kiln.space.pool_image import pixel_pool

    unknown = sorted(map(str, set(pool) - FIELDS))
    if unknown:
        raise SpecError("pool", unknown, f"fields of an overview pool are {sorted(FIELDS)}", "remove the others")
    name = pool["overview"]
    names = [str(config.get("name", config.get("kind", "emulator"))) for config in instruments]
    microscopes = [n for n, c in zip(names, instruments, strict=True) if c.get("kind") == "microscope"]
    if name not in names or name not in microscopes:
        raise SpecError(
            "pool.overview",
            name,
            f"the name of one of the spec's microscope instruments {microscopes}",
            "add an instrument {kind: microscope, name: ...} and name it here",
        )
    index = names.index(name)
    where = f"instruments[{index}]" if len(instruments) > 1 else "instrument"
    microscope, _, _ = instrument_from_spec(instruments[index], seed=seed + index, base=base, where=where)
    assert isinstance(microscope, MicroscopeInstrument)
    image = microscope.overview_scan_now()  # loads the sample first
    stride, patch = pool.get("stride", 1), pool.get("patch", 9)
    try:
        candidates = pixel_pool(image, stride=stride, patch=patch, allow_repeats=pool.get("allow_repeats", False))
    except ValidationError as error:
        field = error.field.removeprefix("pixel pool: ").removeprefix("pool image: ")
        raise SpecError(f"pool.{field}", error.value, error.allowed, error.fix) from None
    record = {
        "instrument": name,
        "shape": list(image.shape),
        "stride": stride,
        "patch": patch,
        "cost": microscope.spent,
        "seconds": microscope.simulated_seconds,
    }
    return candidates, record


def check_rewards(objective_quantities: Sequence[str], instruments: Sequence[Mapping[str, Any]]) -> None:
    """SpecError when a microscope reports none of the objective's quantities: its values are its rewards' names
    (``reward: loop_area`` reports ``loop_area``), so the target must be one of them."""
    from kiln.lab.microscope.rewards import resolve_rewards

    for index, config in enumerate(instruments):
        if config.get("kind") != "microscope" or "reward" not in config:
            continue
        where = f"instruments[{index}]" if len(instruments) > 1 else "instrument"
        reported = list(resolve_rewards(config["reward"], f"{where}.reward"))
        if not set(reported) & set(objective_quantities):
            raise SpecError(
                f"{where}.reward",
                config["reward"],
                f"the microscope reports {reported} and the objective needs {list(objective_quantities)}",
                f"name the objective's target {reported[0]!r}, or give the reward as a map "
                f"{{{objective_quantities[0]}: {config['reward']}}}",
            )
