"""A store URL picks the adapter: ``memory://``, ``sqlite:///relative.db``,
``sqlite:////abs.db``, ``couchbase://host[:port]/bucket``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from ._couchbase import CouchbaseSettings, CouchbaseStore, CouchbaseUrlError
from ._memory import MemoryStore
from ._port import DocumentStore
from ._sqlite import SqliteStore

DEFAULT_STORE_URL = "sqlite:///.abc/abc.db"


class StoreUrlError(ValueError):
    """The URL names no adapter we have, or is malformed for the one it names."""


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite://`` URL, as SQLAlchemy reads it: three slashes then a relative
    path (``sqlite:///data/abc.db``), four for an absolute one (``sqlite:////var/abc.db``)."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or not parts.path.startswith("/"):
        raise StoreUrlError(f"not a sqlite URL: {url!r} (want sqlite:///path/to/abc.db)")
    path = parts.path[1:]
    if not path or path.endswith("/"):
        raise StoreUrlError(f"sqlite URL names no file: {url!r}")
    return Path(path)


async def open_store(url: str) -> DocumentStore:
    """Open the store a URL names; raises StoreUrlError for a URL we can't use."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        return await SqliteStore(sqlite_path(url)).open()
    if scheme in ("couchbase", "couchbases"):
        try:
            settings = CouchbaseSettings.from_url(url)
        except CouchbaseUrlError as exc:
            raise StoreUrlError(str(exc)) from exc
        return await CouchbaseStore(settings).open()
    raise StoreUrlError(f"unknown store URL scheme {scheme!r} in {url!r}; use memory://, "
                        "sqlite:///path or couchbase://host/bucket")
