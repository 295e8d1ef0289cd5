"""The ``store`` fixture: the DocumentStore contract suite runs once per adapter.

Adding an adapter is one line in ``ADAPTERS``: its id, and a setup function that takes the
test's ``tmp_path`` and returns an *opener*, an ``async`` function that returns a ready store.
For example::

    ADAPTERS = {"memory": _memory, "sqlite": _sqlite, "couchbase": _couchbase}

The setup runs once per test and must give that test a store that starts empty (a fresh
file, a fresh ``MemoryState``, a fresh collection...). Every opener call opens a new handle
on that same store, so what one handle wrote, the next handle of the same test can read.

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

Tests are ``async def`` tests taking ``store``, a handle opened on the test's event loop
before it and closed after it (an adapter may use the running loop: ``SqliteStore`` uses
``run_in_executor``)::

    @pytest.mark.asyncio
    async def test_get_missing(store: DocumentStore) -> None:
        with pytest.raises(NotFound):
            await store.get("nope")

A hypothesis test can't be async: it takes ``opener`` and runs each example with
``tests._support.loop.run_blocking``, a handle of its own per example (``with_store``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio

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


@pytest.fixture(params=list(ADAPTERS))
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """The test's store (fresh, empty), for each adapter: each call opens a handle on it."""
    adapter: str = request.param
    return ADAPTERS[adapter](tmp_path)


@pytest_asyncio.fixture
async def store(opener: Opener) -> AsyncIterator[DocumentStore]:
    """A handle on the test's store, for each adapter; closed after the test."""
    opened = await opener()
    try:
        yield opened
    finally:
        await opened.close()


async def with_store(opener: Opener, body: Callable[[DocumentStore], Awaitable[T]]) -> T:
    """``body`` over a handle of its own on the opener's store, closed afterwards."""
    opened = await opener()
    try:
        return await body(opened)
    finally:
        await opened.close()
