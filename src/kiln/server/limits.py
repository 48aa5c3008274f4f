"""The bounds a server keeps to, whatever its clients send: one frozen options object for ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from kiln.core.errors import ValidationError

MIB = 1024 * 1024
IMPORT_ROWS = 10_000
"""Rows of one import, as JSON rows or as CSV lines: one write transaction holds the store's write lock for about
1.5 s at this size (SQLite, 2 cores), far below the 30 s other writers wait for it."""


@dataclass(frozen=True)
class ServerLimits:
    """Bounds on the work one request, or many, can make a server do.

    Attributes:
        max_body: bytes of one request body (413 beyond); an import of IMPORT_ROWS rows fits with room to spare.
        open_asks: asks queued or running at once (429 with Retry-After beyond).
        retry_after: seconds a client refused with 429 is told to wait.
        jobs_kept: finished ask jobs kept to be polled; older ones are dropped first.
        job_seconds: seconds a finished ask job is kept to be polled.
        model_cache: fitted model slices (``GET .../model``) kept, least recently used dropped first.
        model_points: completed experiments the model of ``GET .../model`` is fitted on at most (the best and the
            most recent).
        encoded_choices: distinct molecules or formulas one ``POST /campaigns`` may ask the server to encode
            (RDKit descriptors cost about 20 ms a molecule; 422 beyond, before any is computed).
        report_cache: report pages (``GET .../report``, about 5 MB each) kept, least recently used dropped first.
        open_reports: different report pages being made or waiting at once (429 with Retry-After beyond); they
            are made one at a time.
    """

    max_body: int = 8 * MIB
    open_asks: int = 64
    retry_after: int = 5
    jobs_kept: int = 1000
    job_seconds: float = 600.0
    model_cache: int = 32
    model_points: int = 1000
    encoded_choices: int = 2000
    report_cache: int = 8
    open_reports: int = 4

    def __post_init__(self) -> None:
        names = (
            "max_body",
            "open_asks",
            "retry_after",
            "jobs_kept",
            "model_cache",
            "model_points",
            "encoded_choices",
            "report_cache",
            "open_reports",
        )
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValidationError(name, value, "a whole number of at least 1", f"e.g. {name}=10")
        if not self.job_seconds > 0:
            raise ValidationError("job_seconds", self.job_seconds, "a number of seconds > 0", "e.g. 600")
