"""Running experiments: instruments, built-in emulators on real data, run specs and the closed loop.

The public names load on first use, so that a module of the package (``kiln.lab.lease``, which ``kiln show``
reads) comes without the emulators, the loop and the spec reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiln.core.lazy_names import lazy_names

if TYPE_CHECKING:
    from kiln.lab.emulator import DatasetEmulator
    from kiln.lab.instrument import ExperimentFailed, Instrument
    from kiln.lab.loop import LoopResult, run_loop
    from kiln.lab.spec import RunSpec, load_spec, spec_from_dict

_HOMES = {
    "kiln.lab.emulator": ("DatasetEmulator",),
    "kiln.lab.instrument": ("ExperimentFailed", "Instrument"),
    "kiln.lab.loop": ("LoopResult", "run_loop"),
    "kiln.lab.spec": ("RunSpec", "load_spec", "spec_from_dict"),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())

__all__ = [
    "DatasetEmulator",
    "ExperimentFailed",
    "Instrument",
    "LoopResult",
    "RunSpec",
    "load_spec",
    "run_loop",
    "spec_from_dict",
]
