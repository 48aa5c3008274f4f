"""The Instrument protocol: what runs an experiment and reports its results."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from kiln.core.errors import KilnError


class ExperimentFailed(KilnError):
    """Raised by an instrument when an experiment ran and failed (the reason is stored with it)."""


@runtime_checkable
class Instrument(Protocol):
    """Runs one experiment at a time.

    Contract: ``measure`` gets parameters in lab units and returns quantity name -> value (every target and
    constrained quantity of the objective; other names are kept as outputs), or raises
    ExperimentFailed with a reason. It may be called again with the same parameters after a crash (an experiment
    whose result was never stored); it must not keep state that breaks when that happens.
    """

    name: str

    def measure(self, params: Mapping[str, Any]) -> Mapping[str, float]: ...
