"""Running experiments: instruments, built-in emulators on real data, run specs and the closed loop.

The public names load on first use, so that a module of the package (``kiln.lab.lease``, which ``kiln show``
reads) comes without the emulators, the loop and the spec reader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'kiln.lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
