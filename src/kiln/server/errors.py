"""Kiln's error answer: JSON ``{"detail": {"message", "field", "type", "value", "allowed", "fix"}}``.

``type`` is the name of the ``kiln.core.errors`` class raised (``StateError``, ``ConflictError``, ...), so that a
client raises the same class a local campaign would.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from kiln.core.errors import KilnError, ValidationError


def error_response(status: int, error: KilnError, field: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``error`` as Kiln's JSON error answer; a ValidationError names its own field, value, rule and fix."""
    detail: dict[str, Any] = {"message": str(error), "field": field, "type": type(error).__name__}
    if isinstance(error, ValidationError):
        detail.update(field=error.field, value=repr(error.value)[:500], allowed=error.allowed, fix=error.fix)
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)
