"""The DocumentStore port: the five single-document operations of docs/protocol.md, nothing more.

Values are JSON objects (``dict`` of JSON types). A ``cas`` is an opaque positive integer that
changes on every write of a key; the only thing a caller may do with it is hand it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Document:
    """A value as read, with the cas to write it back conditionally."""

    value: Json
    cas: int


class DocumentStore(Protocol):
    """Atomic single-document operations; errors from ``services.store`` error tree only.

    - ``get``: NotFound.
    - ``insert``: create only if absent; Exists otherwise.
    - ``replace``: write only if the current cas is ``cas``; CasMismatch or NotFound.
    - ``upsert``: write unconditionally.
    - ``remove``: delete only if the current cas is ``cas``; CasMismatch or NotFound.

    Any operation may raise Unavailable (nothing happened); a write may raise InDoubt.
    """

    async def get(self, key: str) -> Document: ...

    async def insert(self, key: str, value: Json) -> int: ...

    async def replace(self, key: str, value: Json, cas: int) -> int: ...

    async def upsert(self, key: str, value: Json) -> int: ...

    async def remove(self, key: str, cas: int) -> None: ...

    async def close(self) -> None: ...
