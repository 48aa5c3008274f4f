"""The KilnError hierarchy.

Every error a user can cause is a KilnError whose message names the field at fault, the value given, what is
allowed, and how to fix it. The command line prints the message and exits non-zero; nothing is changed.
"""

from __future__ import annotations

from typing import Any


class KilnError(Exception):
    """Base class of every error Kiln raises on purpose."""


class ValidationError(KilnError, ValueError):
    """A value that breaks a rule: names the field, the value, what is allowed and how to fix it."""

    def __init__(self, field: str, value: Any, allowed: str, fix: str | None = None) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.fix = fix
        message = f"{field}: got {value!r}; {allowed}"
        if fix:
            message += f"; {fix}"
        super().__init__(message)


class SpecError(ValidationError):
    """A malformed campaign specification (YAML or dict)."""


class NotFoundError(KilnError, KeyError):
    """A campaign, experiment or registry entry that does not exist."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CampaignNotFoundError(NotFoundError):
    """No campaign called ``name``; the message may list the store's other campaigns (a server does not pass it
    on: a token must not learn names beyond its campaigns)."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name


class StateError(KilnError):
    """An operation not allowed in the current state (e.g. telling an experiment that already finished)."""


class ConflictError(KilnError):
    """Something with this name or id exists already."""


class LeaseHeldError(ConflictError):
    """Another run holds the campaign's run lease; ``lease`` is its record (a ``kiln.core.records.LeaseRecord``)."""

    def __init__(self, message: str, lease: Any) -> None:
        super().__init__(message)
        self.lease = lease


class StaleHistoryError(ConflictError):
    """The campaign changed between reading its history and storing new experiments; retry with fresh data."""
