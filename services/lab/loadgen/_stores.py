"""Store wrappers for measuring the journal: one that counts operations by kind, one that makes
every operation a point where other tasks may run."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TypeVar

from services.store import DocumentStore, StoreWrapper

T = TypeVar("T")

OP_KINDS = ("get", "insert", "replace", "upsert", "remove")
"""The port's operations, in docs/protocol.md's order (``close`` is not counted)."""


class CountingStore(StoreWrapper):
    """Passes every operation to ``inner`` and counts it in ``ops`` by kind, whether it
    succeeds or raises (a failed insert still cost the store a round trip)."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.ops: Counter[str] = Counter()

    @property
    def total(self) -> int:
        return sum(self.ops.values())

    def reset(self) -> None:
        self.ops.clear()

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        self.ops[op] += 1
        return await call()


class YieldingStore(StoreWrapper):
    """Yields to the event loop before every operation of ``inner``.

    The memory adapter answers without ever suspending, so buyers sharing one event loop on it
    run each purchase start to finish and never race. Over this wrapper they interleave at
    every store operation, as they do over a store that really waits (sqlite, a network)."""

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        await asyncio.sleep(0)
        return await call()
