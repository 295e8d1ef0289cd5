"""The DocumentStore port as the simulation serves it: every call is a scheduler request."""

from __future__ import annotations

from typing import cast

from services.store import Document, Json

from ._scheduler import Op, Scheduler


class SimStore:
    def __init__(self, scheduler: Scheduler) -> None:
        self._sched = scheduler

    async def get(self, key: str) -> Document:
        return cast(Document, await self._sched.request(Op("get", key)))

    async def insert(self, key: str, value: Json) -> int:
        return cast(int, await self._sched.request(Op("insert", key, value)))

    async def replace(self, key: str, value: Json, cas: int) -> int:
        return cast(int, await self._sched.request(Op("replace", key, value, cas)))

    async def upsert(self, key: str, value: Json) -> int:
        return cast(int, await self._sched.request(Op("upsert", key, value)))

    async def remove(self, key: str, cas: int) -> None:
        await self._sched.request(Op("remove", key, None, cas))

    async def close(self) -> None:
        return None
