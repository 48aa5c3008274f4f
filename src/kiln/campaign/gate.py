"""A gate for writes that must end at a moment: once ``close`` has returned, no write it guards starts, and one
that was under way has finished (``close`` waits for it).

The first Ctrl-C of a run closes its gate: an ask or a dispatch running in a worker thread at that moment either
stored its record before ``close`` returned or stores nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    """Open until ``close``; thread-safe. Guard a write with ``with gate.admit() as open_: if open_: write()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close`` has been called."""
        return self._closed

    def close(self) -> None:
        """Close the gate; waits for a write admitted before (one store transaction: milliseconds)."""
        with self._lock:
            self._closed = True

    @contextmanager
    def admit(self) -> Iterator[bool]:
        """Yields whether the gate is open; while the block runs, ``close`` waits."""
        with self._lock:
            yield not self._closed
