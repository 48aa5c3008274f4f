"""Durable storage of campaigns: the Store protocol and its SQLAlchemy implementation."""

import re

from kiln.store.base import Store

DEFAULT_STORE_URL = "sqlite:///kiln.db"


def open_store(url: str = DEFAULT_STORE_URL) -> Store:
    """Open (and create or migrate) the store at a SQLAlchemy URL, e.g. ``sqlite:///kiln.db``."""
    from kiln.store.sql import SqlStore

    return SqlStore(url)


_USERINFO = re.compile(r"^([^:/?#]+://[^:/?#@]*):[^/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def display_url(url: str) -> str:
    """``url`` as it may be shown (messages, reprs, answers): a password in it, before the host or as a
    ``password=`` query parameter, becomes ``***``."""
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO.sub(r"\1:***@", str(url)))


__all__ = ["DEFAULT_STORE_URL", "Store", "display_url", "open_store"]
