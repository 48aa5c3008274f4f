"""Running experiments: instruments, built-in emulators on real data, run specs and the closed loop."""

from kiln.lab.emulator import DatasetEmulator
from kiln.lab.instrument import ExperimentFailed, Instrument
from kiln.lab.loop import LoopResult, run_loop
from kiln.lab.spec import RunSpec, load_spec, spec_from_dict

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
