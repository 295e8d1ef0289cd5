"""The ``store`` fixture: the DocumentStore contract suite runs once per adapter.

Adding an adapter is one line in ``ADAPTERS``: its id, and a setup function that takes the
test's ``tmp_path`` and returns an *opener*, an ``async`` function that returns a ready store.
For example::

    ADAPTERS = {"memory": _memory, "sqlite": _sqlite, "couchbase": _couchbase}

The setup runs once per test and must give that test a store that starts empty (a fresh
file, a fresh ``MemoryState``, a fresh collection...). Every opener call opens a new handle
on that same store, so what one ``run`` wrote, the next ``run`` of the same test can read.

The couchbase adapters:

- ``couchbase``: the real SDK over TCP to ``tests.couchbase_wire.WireServer``, a test server
  speaking Couchbase's KV protocol. One server for the session (started on first use, stopped
  at the end); each test flushes its bucket (and its faults), so every test starts empty.
  Credentials reach ``CouchbaseSettings.from_url`` through its ``env`` argument, never through
  ``os.environ``.
- ``couchbase-real``: a real Couchbase Server, only when ``ABC_TEST_COUCHBASE_URL`` is set
  (with ``ABC_COUCHBASE_USERNAME``/``ABC_COUCHBASE_PASSWORD``, and optionally
  ``ABC_COUCHBASE_DURABILITY``; use a scratch bucket); skipped otherwise. A real bucket is not
  emptied between tests: each test's keys get a prefix of their own (``PrefixedStore``), so a
  test sees only its own documents. Those documents are left in the bucket.

Tests stay plain synchronous functions (no pytest-asyncio): they hand an ``async`` body to
``store.run``, which opens a handle, awaits the body with it and closes the handle, all inside
one ``asyncio.run`` -- so an adapter that uses the running loop (``SqliteStore`` uses
``run_in_executor``) is opened, used and closed on the same event loop::

    def test_get_missing(store: StoreRunner) -> None:
        async def body(s: DocumentStore) -> None:
            with pytest.raises(NotFound):
                await s.get("nope")

        store.run(body)
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from services.store import (
    CouchbaseSettings,
    CouchbaseStore,
    DocumentStore,
    MemoryState,
    MemoryStore,
    SqliteStore,
    StoreError,
    StoreWrapper,
)
from tests.couchbase_wire import WireServer

T = TypeVar("T")

Opener = Callable[[], Awaitable[DocumentStore]]


def _memory(tmp_path: Path) -> Opener:
    state = MemoryState()

    async def open_store() -> DocumentStore:
        return MemoryStore(state)

    return open_store


def _sqlite(tmp_path: Path) -> Opener:
    path = tmp_path / "store.db"

    async def open_store() -> DocumentStore:
        return await SqliteStore(path).open()

    return open_store


_wire: WireServer | None = None


def wire_server() -> WireServer:
    """The session's wire server (started on first use; ``_stop_wire_server`` stops it)."""
    global _wire
    if _wire is None:
        _wire = WireServer().start()
    return _wire


@pytest.fixture(scope="session", autouse=True)
def _stop_wire_server() -> Iterator[None]:
    yield
    global _wire
    if _wire is not None:
        _wire.stop()
        _wire = None


def _couchbase(tmp_path: Path) -> Opener:
    server = wire_server()
    server.flush()
    settings = CouchbaseSettings.from_url(server.url, env=server.env)

    async def open_store() -> DocumentStore:
        return await CouchbaseStore(settings).open()

    return open_store


REAL_COUCHBASE_URL = "ABC_TEST_COUCHBASE_URL"


def _couchbase_real(tmp_path: Path) -> Opener:
    url = os.environ.get(REAL_COUCHBASE_URL)
    if not url:
        pytest.skip(f"set {REAL_COUCHBASE_URL} to run against a real Couchbase Server")
    settings = CouchbaseSettings.from_url(url)  # credentials from the environment, read only
    prefix = f"abc-test-{uuid.uuid4().hex[:12]}:"

    async def open_store() -> DocumentStore:
        return PrefixedStore(await CouchbaseStore(settings).open(), prefix)

    return open_store


class PrefixedStore(StoreWrapper):
    """Every key under ``prefix`` in the store; errors name the caller's key, unprefixed."""

    def __init__(self, inner: DocumentStore, prefix: str) -> None:
        super().__init__(inner)
        self.prefix = prefix

    def inner_key(self, key: str) -> str:
        return self.prefix + key

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await call()
        except StoreError as exc:
            raise type(exc)(key, exc.op, exc.detail) from exc


ADAPTERS: dict[str, Callable[[Path], Opener]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "couchbase": _couchbase,
    "couchbase-real": _couchbase_real,
}


@dataclass(frozen=True)
class StoreRunner:
    """One adapter's store for one test; ``run(body)`` awaits ``body(store)`` on a new loop."""

    adapter: str
    opener: Opener

    def run(self, body: Callable[[DocumentStore], Awaitable[T]]) -> T:
        async def main() -> T:
            store = await self.opener()
            try:
                return await body(store)
            finally:
                await store.close()

        return asyncio.run(main())


@pytest.fixture(params=list(ADAPTERS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreRunner:
    adapter: str = request.param
    return StoreRunner(adapter, ADAPTERS[adapter](tmp_path))
