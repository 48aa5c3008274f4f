"""Durable storage of campaigns: the Store protocol and its SQLAlchemy implementation."""

import os
import re

from kiln.store.base import Store

DEFAULT_STORE_URL = "sqlite:///kiln.db"


def store_url(location: str | os.PathLike[str]) -> str:
    """A store's SQLAlchemy URL: a URL as it is, a file path (``r.db``, ``Path("lab/r.db")``) as a SQLite file."""
    text = os.fspath(location)
    return text if "://" in text else f"sqlite:///{text}"


def open_store(url: str | os.PathLike[str] = DEFAULT_STORE_URL) -> Store:
    """Open (and create or migrate) the store at a SQLAlchemy URL, e.g. ``sqlite:///kiln.db``, or at the path of a
    SQLite file, e.g. ``kiln.db``, as ``kiln --store`` takes it."""
    from kiln.store.sql import SqlStore

    return SqlStore(store_url(url))


_USERINFO = re.compile(r"^([^:/?#]+://[^:/?#@]*):[^/?#]*@")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def display_url(url: str) -> str:
    """``url`` as it may be shown (messages, reprs, answers): a password in it, before the host or as a
    ``password=`` query parameter, becomes ``***``."""
    return _QUERY_PASSWORD.sub(r"\1***", _USERINFO.sub(r"\1:***@", str(url)))


__all__ = ["DEFAULT_STORE_URL", "Store", "display_url", "open_store", "store_url"]
