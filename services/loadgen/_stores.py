"""Store wrappers for measuring the journal: one that counts operations by kind, one that makes
every operation a point where other tasks may run."""

from __future__ import annotations

import asyncio
from collections import Counter

from services.store import Document, DocumentStore, Json

OP_KINDS = ("get", "insert", "replace", "upsert", "remove")
"""The port's operations, in PROTOCOL.md's order (``close`` is not counted)."""


class CountingStore:
    """Passes every operation to ``inner`` and counts it in ``ops`` by kind, whether it
    succeeds or raises (a failed insert still cost the store a round trip)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner
        self.ops: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    def reset(self) -> None:
        self.ops.clear()

    async def get(self, key: str) -> Document:
        self.ops["get"] += 1
        return await self.inner.get(key)

    async def insert(self, key: str, value: Json) -> int:
        self.ops["insert"] += 1
        return await self.inner.insert(key, value)

    async def replace(self, key: str, value: Json, cas: int) -> int:
        self.ops["replace"] += 1
        return await self.inner.replace(key, value, cas)

    async def upsert(self, key: str, value: Json) -> int:
        self.ops["upsert"] += 1
        return await self.inner.upsert(key, value)

    async def remove(self, key: str, cas: int) -> None:
        self.ops["remove"] += 1
        await self.inner.remove(key, cas)

    async def close(self) -> None:
        await self.inner.close()


class YieldingStore:
    """Yields to the event loop before every operation of ``inner``.

    The memory adapter answers without ever suspending, so buyers sharing one event loop on it
    run each purchase start to finish and never race. Over this wrapper they interleave at
    every store operation, as they do over a store that really waits (sqlite, a network)."""

    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    async def get(self, key: str) -> Document:
        await asyncio.sleep(0)
        return await self.inner.get(key)

    async def insert(self, key: str, value: Json) -> int:
        await asyncio.sleep(0)
        return await self.inner.insert(key, value)

    async def replace(self, key: str, value: Json, cas: int) -> int:
        await asyncio.sleep(0)
        return await self.inner.replace(key, value, cas)

    async def upsert(self, key: str, value: Json) -> int:
        await asyncio.sleep(0)
        return await self.inner.upsert(key, value)

    async def remove(self, key: str, cas: int) -> None:
        await asyncio.sleep(0)
        await self.inner.remove(key, cas)

    async def close(self) -> None:
        await self.inner.close()
