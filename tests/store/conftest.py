"""The ``store`` fixture: the DocumentStore contract suite runs once per adapter.

Adding an adapter is one line in ``ADAPTERS``: its id, and a setup function that takes the
test's ``tmp_path`` and returns an *opener*, an ``async`` function that returns a ready store.
For example, once a couchbase adapter exists::

    ADAPTERS = {"memory": _memory, "sqlite": _sqlite, "couchbase": _couchbase}

The setup runs once per test and must give that test a store that starts empty (a fresh
file, a fresh ``MemoryState``, a fresh collection...). Every opener call opens a new handle
on that same store, so what one ``run`` wrote, the next ``run`` of the same test can read.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest

from services.store import DocumentStore, MemoryState, MemoryStore, SqliteStore

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


ADAPTERS: dict[str, Callable[[Path], Opener]] = {"memory": _memory, "sqlite": _sqlite}


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
