"""The Couchbase adapter, on the official SDK's async API (``acouchbase``).

URL: ``couchbase://host[:port]/bucket`` (``couchbases://`` for TLS). Credentials never go in
the URL (which gets logged): they come from ``ABC_COUCHBASE_USERNAME`` and
``ABC_COUCHBASE_PASSWORD``. Documents live in the bucket's default collection.

Durability (``ABC_COUCHBASE_DURABILITY``: none, majority, majority_and_persist_to_active,
persist_to_majority; default majority): with ``none`` Couchbase acknowledges a write from the
active node's memory, and a failover right after can lose it, a committed slot or debit
included. The journal's correctness assumes an acknowledged write stays written.

Timeouts: ``connect_timeout_s`` bounds ``open()`` (the SDK's bootstrap timeout, not only one
TCP connect); ``kv_timeout_s`` bounds reads and non-durable writes; every durable write gets
``kv_durable_timeout_s`` explicitly. (Left to itself, the SDK 4.6 gives a durable insert, upsert
and remove a fixed 10 s whatever the cluster options say, but a durable replace the plain KV
timeout; the C++ core never goes below 1.5 s for a durable write.)

Errors: DocumentNotFound, DocumentExists and CasMismatch map to ours; an *ambiguous* timeout
(or an ambiguous sync write) on a write is ``InDoubt``; an unambiguous one, a temporary
failure or a refused connection is ``Unavailable``; any other SDK error on a write is
``InDoubt`` (the journal settles that safely; claiming it did not happen might not be true).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from ._errors import CasMismatch, Exists, InDoubt, NotFound, StoreError, Unavailable
from ._port import Document, Json

DURABILITIES = ("none", "majority", "majority_and_persist_to_active", "persist_to_majority")


class CouchbaseUrlError(ValueError):
    pass


@dataclass(frozen=True)
class CouchbaseSettings:
    """Where and how to connect; ``from_url`` reads the rest from the environment."""

    connection: str  # couchbase://host[:port], no credentials
    bucket: str
    username: str
    password: str
    durability: str = "majority"
    kv_timeout_s: float = 2.5
    kv_durable_timeout_s: float = 10.0  # durable writes (the SDK's own default)
    connect_timeout_s: float = 10.0

    @classmethod
    def from_url(cls, url: str, env: Mapping[str, str] = os.environ) -> CouchbaseSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("couchbase", "couchbases"):
            raise CouchbaseUrlError(f"not a couchbase URL: {url!r}")
        if parts.username or parts.password:
            raise CouchbaseUrlError("no credentials in the store URL (it gets logged): set "
                                    "ABC_COUCHBASE_USERNAME and ABC_COUCHBASE_PASSWORD")
        bucket = parts.path.strip("/")
        if not parts.hostname or not bucket or "/" in bucket:
            raise CouchbaseUrlError(f"want couchbase://host[:port]/bucket, got {url!r}")
        durability = env.get("ABC_COUCHBASE_DURABILITY", "majority")
        if durability not in DURABILITIES:
            raise CouchbaseUrlError(f"ABC_COUCHBASE_DURABILITY={durability!r}: one of "
                                    f"{', '.join(DURABILITIES)}")
        username, password = env.get("ABC_COUCHBASE_USERNAME"), env.get("ABC_COUCHBASE_PASSWORD")
        if not username or not password:
            raise CouchbaseUrlError("set ABC_COUCHBASE_USERNAME and ABC_COUCHBASE_PASSWORD")
        return cls(f"{parts.scheme}://{parts.netloc}", bucket, username, password, durability)


class CouchbaseStore:
    """The port over one bucket's default collection."""

    def __init__(self, settings: CouchbaseSettings) -> None:
        self.settings = settings
        self._cluster: Any = None
        self._collection: Any = None
        self._durability: Any = None  # the SDK's ServerDurability; None for "none"
        self._durable_timeout = timedelta(seconds=settings.kv_durable_timeout_s)

    async def open(self) -> CouchbaseStore:
        from acouchbase.cluster import Cluster  # the SDK is heavy: load it only when used
        from couchbase.auth import PasswordAuthenticator
        from couchbase.durability import DurabilityLevel, ServerDurability
        from couchbase.exceptions import CouchbaseException
        from couchbase.options import ClusterOptions, ClusterTimeoutOptions

        s = self.settings
        connect = timedelta(seconds=s.connect_timeout_s)
        # connect_timeout bounds one TCP connect; bootstrap_timeout the whole open()
        timeouts = ClusterTimeoutOptions(kv_timeout=timedelta(seconds=s.kv_timeout_s),
                                         connect_timeout=connect, bootstrap_timeout=connect)
        options = ClusterOptions(PasswordAuthenticator(s.username, s.password),
                                 timeout_options=timeouts)
        try:
            self._cluster = await Cluster.connect(s.connection, options)
            bucket = self._cluster.bucket(s.bucket)
            await bucket.on_connect()
        except CouchbaseException as exc:
            with contextlib.suppress(CouchbaseException):
                await self.close()  # a cluster connected before the bucket failed: no leak
            raise Unavailable(s.connection, "open", _describe(exc)) from exc
        self._collection = bucket.default_collection()
        level = DurabilityLevel[s.durability.upper()]
        self._durability = None if level == DurabilityLevel.NONE else ServerDurability(level)
        return self

    async def get(self, key: str) -> Document:
        result = await self._call("get", key, lambda c: c.get(key))
        return Document(result.content_as[dict], int(result.cas))

    async def insert(self, key: str, value: Json) -> int:
        from couchbase.options import InsertOptions

        options = InsertOptions(**self._durable())
        result = await self._call("insert", key, lambda c: c.insert(key, value, options))
        return int(result.cas)

    async def replace(self, key: str, value: Json, cas: int) -> int:
        from couchbase.options import ReplaceOptions

        options = ReplaceOptions(cas=cas, **self._durable())
        result = await self._call("replace", key, lambda c: c.replace(key, value, options))
        return int(result.cas)

    async def upsert(self, key: str, value: Json) -> int:
        from couchbase.options import UpsertOptions

        options = UpsertOptions(**self._durable())
        result = await self._call("upsert", key, lambda c: c.upsert(key, value, options))
        return int(result.cas)

    async def remove(self, key: str, cas: int) -> None:
        from couchbase.options import RemoveOptions

        options = RemoveOptions(cas=cas, **self._durable())
        await self._call("remove", key, lambda c: c.remove(key, options))

    def _durable(self) -> dict[str, Any]:
        """A write's durability options: the level and its explicit timeout (see module doc)."""
        if self._durability is None:
            return {}
        return {"durability": self._durability, "timeout": self._durable_timeout}

    async def close(self) -> None:
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            await cluster.close()

    async def _call(self, op: str, key: str, call: Any) -> Any:
        if self._collection is None:
            raise Unavailable(key, op, "store is not open (call open() first)")
        from couchbase.exceptions import CouchbaseException

        try:
            return await call(self._collection)
        except CouchbaseException as exc:
            raise translate(exc, op, key) from exc


def translate(exc: Exception, op: str, key: str) -> StoreError:
    """The SDK's exception as one of ours (see the module docstring)."""
    from couchbase import exceptions as cb

    detail = _describe(exc)
    if isinstance(exc, cb.DocumentNotFoundException):
        return NotFound(key, op)
    if isinstance(exc, cb.DocumentExistsException):
        return Exists(key, op)
    if isinstance(exc, cb.CasMismatchException):
        return CasMismatch(key, op)
    unambiguous = (cb.UnAmbiguousTimeoutException, cb.TemporaryFailException,
                   cb.DurabilityImpossibleException, cb.DurabilityInvalidLevelException,
                   cb.AuthenticationException, cb.BucketNotFoundException,
                   cb.ServiceUnavailableException)
    if op == "get" or isinstance(exc, unambiguous):
        return Unavailable(key, op, detail)
    return InDoubt(key, op, detail)


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:300]
