"""The DocumentStore port, its error tree and its adapters (memory, sqlite, couchbase)."""

from ._couchbase import DURABILITIES, CouchbaseSettings, CouchbaseStore
from ._errors import CasMismatch, Exists, InDoubt, NotFound, StoreError, Unavailable
from ._memory import MemoryState, MemoryStore
from ._port import Document, DocumentStore, Json
from ._sqlite import SqliteStore
from ._url import DEFAULT_STORE_URL, StoreUrlError, open_store, sqlite_path
from ._wrapper import StoreWrapper

__all__ = [
    "DEFAULT_STORE_URL",
    "DURABILITIES",
    "CasMismatch",
    "CouchbaseSettings",
    "CouchbaseStore",
    "Document",
    "DocumentStore",
    "Exists",
    "InDoubt",
    "Json",
    "MemoryState",
    "MemoryStore",
    "NotFound",
    "SqliteStore",
    "StoreError",
    "StoreUrlError",
    "StoreWrapper",
    "Unavailable",
    "open_store",
    "sqlite_path",
]
