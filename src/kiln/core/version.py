"""Kiln's version (as in pyproject.toml), importable without loading the rest of the package."""

VERSION = "0.1.0"
