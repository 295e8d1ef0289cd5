"""The in-memory adapter: a dict and a cas counter. First class: the simulation and the unit
tests run on it, and ``MemoryState`` is also what the simulation's store drives op by op."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator

from ._errors import CasMismatch, Exists, NotFound
from ._port import Document, Json


class MemoryState:
    """The synchronous core: ``key -> (value, cas)``; each write gets a fresh, never reused cas.

    Values are deep-copied in and out so a caller can never change a stored document by
    mutating what it passed or got back.
    """

    def __init__(self) -> None:
        self._docs: dict[str, tuple[Json, int]] = {}
        self._last_cas = 0

    def _next_cas(self) -> int:
        self._last_cas += 1
        return self._last_cas

    def get(self, key: str) -> Document:
        try:
            value, cas = self._docs[key]
        except KeyError:
            raise NotFound(key, "get") from None
        return Document(copy.deepcopy(value), cas)

    def insert(self, key: str, value: Json) -> int:
        if key in self._docs:
            raise Exists(key, "insert")
        return self._store(key, value)

    def replace(self, key: str, value: Json, cas: int) -> int:
        self._check_cas(key, cas, "replace")
        return self._store(key, value)

    def upsert(self, key: str, value: Json) -> int:
        return self._store(key, value)

    def remove(self, key: str, cas: int) -> None:
        self._check_cas(key, cas, "remove")
        del self._docs[key]

    def items(self) -> Iterator[tuple[str, Json, int]]:
        """Every document, for the simulation's checks (not part of the port)."""
        for key, (value, cas) in self._docs.items():
            yield key, value, cas

    def _check_cas(self, key: str, cas: int, op: str) -> None:
        current = self._docs.get(key)
        if current is None:
            raise NotFound(key, op)
        if current[1] != cas:
            raise CasMismatch(key, op)

    def _store(self, key: str, value: Json) -> int:
        # A round trip through JSON both copies and proves the value is storable anywhere.
        cas = self._next_cas()
        self._docs[key] = (json.loads(json.dumps(value)), cas)
        return cas


class MemoryStore:
    """The async port over a ``MemoryState`` (one process; nothing persists)."""

    def __init__(self, state: MemoryState | None = None) -> None:
        self.state = state if state is not None else MemoryState()

    async def get(self, key: str) -> Document:
        return self.state.get(key)

    async def insert(self, key: str, value: Json) -> int:
        return self.state.insert(key, value)

    async def replace(self, key: str, value: Json, cas: int) -> int:
        return self.state.replace(key, value, cas)

    async def upsert(self, key: str, value: Json) -> int:
        return self.state.upsert(key, value)

    async def remove(self, key: str, cas: int) -> None:
        self.state.remove(key, cas)

    async def close(self) -> None:
        return None
