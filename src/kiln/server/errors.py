"""Kiln's error answer: JSON ``{"detail": {"message", "field", "value", "allowed", "fix"}}``."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from kiln.core.errors import KilnError, ValidationError


def error_response(status: int, error: KilnError, field: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``error`` as Kiln's JSON error answer; a ValidationError names its own field, value, rule and fix."""
    detail: dict[str, Any] = {"message": str(error), "field": field}
    if isinstance(error, ValidationError):
        detail.update(field=error.field, value=repr(error.value)[:500], allowed=error.allowed, fix=error.fix)
    return JSONResponse(status_code=status, content={"detail": detail}, headers=headers)
