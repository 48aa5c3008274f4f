"""Durable storage of campaigns: the Store protocol and its SQLAlchemy implementation."""

from kiln.store.base import Store

DEFAULT_STORE_URL = "sqlite:///kiln.db"


def open_store(url: str = DEFAULT_STORE_URL) -> Store:
    """Open (and create or migrate) the store at a SQLAlchemy URL, e.g. ``sqlite:///kiln.db``."""
    from kiln.store.sql import SqlStore

    return SqlStore(url)


__all__ = ["DEFAULT_STORE_URL", "Store", "open_store"]
