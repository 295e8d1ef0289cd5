"""The ads of the slots this gateway shows, read once each from the purchase service
(``GetFiller``) and kept (fillers are immutable) in a cache bounded by bytes, least recently
used first out. Concurrent askers for one filler share one call."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2

if TYPE_CHECKING:  # the async stub exists in the generated .pyi only
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as PurchaseStub

log = logging.getLogger("abc.gateway")

CACHE_BYTES = 64 * 1024 * 1024
CALL_TIMEOUT_S = 3.0

Key = tuple[str, str]  # (user_id, filler_id)


class FillerCache:
    def __init__(self, purchase: Callable[[], PurchaseStub],
                 metadata: Sequence[tuple[str, str]] = (), max_bytes: int = CACHE_BYTES
                 ) -> None:
        self._purchase = purchase
        self._metadata = tuple(metadata)
        self._max_bytes = max_bytes
        self._bytes = 0
        self._kept: OrderedDict[Key, types_pb2.Filler] = OrderedDict()
        self._reading: dict[Key, asyncio.Future[types_pb2.Filler | None]] = {}
        self.reads = 0  # GetFiller calls made

    async def get(self, user_id: str, filler_id: str) -> types_pb2.Filler | None:
        """The filler, or None when it is missing or can't be read now (the ad is decoration:
        a slot is shown without it rather than not at all; a later ask tries again)."""
        key = (user_id, filler_id)
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
            return found
        reading = self._reading.get(key)
        if reading is None:
            reading = self._reading[key] = asyncio.ensure_future(self._read(key))
            reading.add_done_callback(lambda _: self._reading.pop(key, None))
        return await asyncio.shield(reading)

    async def _read(self, key: Key) -> types_pb2.Filler | None:
        self.reads += 1
        try:
            filler = await self._purchase().GetFiller(
                pb.GetFillerRequest(user_id=key[0], filler_id=key[1]),
                metadata=self._metadata, timeout=CALL_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            log.warning("filler %s/%s not read: %s %s", *key, exc.code().name, exc.details())
            return None
        self._keep(key, filler)
        return filler

    def _keep(self, key: Key, filler: types_pb2.Filler) -> None:
        self._kept[key] = filler
        self._bytes += filler.ByteSize()
        while self._bytes > self._max_bytes and len(self._kept) > 1:
            _, evicted = self._kept.popitem(last=False)
            self._bytes -= evicted.ByteSize()
