"""The bucket's data and the KV commands on it: GET, SET (upsert), ADD (insert), REPLACE,
DELETE (remove), GET_META; one in-memory dict, one CAS counter.

CAS: every write gets the next value of one counter that never goes back (not even after
``flush``), so a cas is unique per write for the whole life of the server, as on the real
server (whose cas is a hybrid logical clock). A request cas of 0 means "no cas check".
Status codes as the real server answers them:

| op | absent | cas given and stale |
|---|---|---|
| GET, GET_META | 0x01 not found | - |
| ADD | (stores) | - (present: 0x02 exists) |
| SET | stores (0x01 if a cas was given) | 0x02 |
| REPLACE, DELETE | 0x01 | 0x02 |
"""

from __future__ import annotations

import struct
import threading
from dataclasses import dataclass

from .framing import Opcode, Request, Response, Status

OP_NAMES = {Opcode.GET: "get", Opcode.ADD: "insert", Opcode.SET: "upsert",
            Opcode.REPLACE: "replace", Opcode.DELETE: "remove", Opcode.GET_META: "get"}
WRITES = (Opcode.SET, Opcode.ADD, Opcode.REPLACE, Opcode.DELETE)


@dataclass(frozen=True, slots=True)
class Item:
    """A stored document: the value bytes as the client sent them, its flags and datatype."""

    value: bytes
    flags: int
    datatype: int
    cas: int


class Bucket:
    """The one bucket's documents; its lock makes each command atomic against the tests'
    reads and flushes from other threads."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._items: dict[str, Item] = {}
        self._cas = 0
        self._seqno = 0

    def flush(self) -> None:
        with self._lock:
            self._items.clear()

    def get(self, key: str) -> Item | None:
        with self._lock:
            return self._items.get(key)

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._items)

    def execute(self, request: Request, key: str, datatype_mask: int) -> Response:
        """Run one KV command on ``key`` (the document key, collection prefix removed)."""
        with self._lock:
            if request.opcode in WRITES:
                return self._write(request, key)
            item = self._items.get(key)
            if item is None:
                return Response(request.opcode, request.opaque, Status.KEY_NOT_FOUND)
            if request.opcode == Opcode.GET_META:
                # deleted, flags, expiry, seqno, datatype (cxx client cmd_get_meta)
                extras = struct.pack(">IIIQB", 0, item.flags, 0, self._seqno,
                                     item.datatype & datatype_mask)
                return Response(request.opcode, request.opaque, cas=item.cas, extras=extras)
            return Response(request.opcode, request.opaque, cas=item.cas,
                            extras=struct.pack(">I", item.flags), value=item.value,
                            datatype=item.datatype & datatype_mask)

    def _write(self, request: Request, key: str) -> Response:
        op, opaque = request.opcode, request.opaque
        current = self._items.get(key)
        if op == Opcode.ADD and current is not None:
            return Response(op, opaque, Status.KEY_EXISTS)
        if op in (Opcode.REPLACE, Opcode.DELETE) or (op == Opcode.SET and request.cas):
            if current is None:
                return Response(op, opaque, Status.KEY_NOT_FOUND)
            if request.cas and request.cas != current.cas:
                return Response(op, opaque, Status.KEY_EXISTS)
        self._cas += 1
        self._seqno += 1
        if op == Opcode.DELETE:
            del self._items[key]
        else:
            flags = struct.unpack_from(">I", request.extras)[0] if len(request.extras) >= 4 \
                else 0
            self._items[key] = Item(request.value, flags, request.datatype, self._cas)
        return Response(op, opaque, cas=self._cas)
