"""``StoreWrapper``: a DocumentStore over another that passes every operation through one
hook, for wrappers that count, trace, delay, rename or fail operations without restating
the port five times."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from ._port import Document, DocumentStore, Json

T = TypeVar("T")


class StoreWrapper:
    def __init__(self, inner: DocumentStore) -> None:
        self.inner = inner

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """Runs every operation; ``call()`` performs it on ``inner``. Override to act
        before, after or instead."""
        return await call()

    def inner_key(self, key: str) -> str:
        """The key in ``inner`` for the caller's ``key`` (override to rename)."""
        return key

    async def get(self, key: str) -> Document:
        return await self.around("get", key, lambda: self.inner.get(self.inner_key(key)))

    async def insert(self, key: str, value: Json) -> int:
        return await self.around("insert", key,
                                 lambda: self.inner.insert(self.inner_key(key), value))

    async def replace(self, key: str, value: Json, cas: int) -> int:
        return await self.around("replace", key,
                                 lambda: self.inner.replace(self.inner_key(key), value, cas))

    async def upsert(self, key: str, value: Json) -> int:
        return await self.around("upsert", key,
                                 lambda: self.inner.upsert(self.inner_key(key), value))

    async def remove(self, key: str, cas: int) -> None:
        await self.around("remove", key, lambda: self.inner.remove(self.inner_key(key), cas))

    async def close(self) -> None:
        await self.inner.close()
