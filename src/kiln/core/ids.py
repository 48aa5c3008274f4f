"""Stable identifiers for experiments and campaigns."""

from __future__ import annotations

import secrets


def new_id(prefix: str = "exp") -> str:
    """A short random id such as ``exp-3f9c2a71d0``: 40 random bits, URL- and shell-safe."""
    return f"{prefix}-{secrets.token_hex(5)}"
