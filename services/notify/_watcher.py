"""One Watch stream's queue: bounded, so a slow gateway never slows the others nor grows
memory. A watcher that falls behind has its backlog replaced by one fresh snapshot; one that
falls behind again before catching up is closed (RESOURCE_EXHAUSTED) to reconnect.

A watcher queues updates already encoded (``WatchUpdate`` wire bytes): a fill is encoded once
for all its watchers, not once per stream (the Watch handler sends the bytes as they are)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.api.abc.v1 import notify_pb2

QUEUE_SIZE = 256

Encoded = bytes
"""A ``WatchUpdate``'s wire bytes."""

Snapshotter = Callable[[str], notify_pb2.WatchUpdate]
"""Builds a fresh snapshot update of a campaign (from notify's state, no store read)."""

_CLOSING = notify_pb2.WatchUpdate().SerializeToString()  # wakes a closed stream to end it


class FellBehind(Exception):
    pass


class Watcher:
    def __init__(self, campaigns: list[str], snapshot: Snapshotter,
                 queue_size: int = QUEUE_SIZE) -> None:
        self.campaigns = campaigns
        self._snapshot = snapshot
        self._queue: asyncio.Queue[Encoded] = asyncio.Queue(queue_size)
        self._resynced = False  # sent a catch-up snapshot and not yet drained
        self.closed: FellBehind | None = None
        self.resyncs = 0

    def offer(self, update: Encoded) -> None:
        """Queue ``update`` without waiting (the hub calls this for every watcher)."""
        if self.closed is not None:
            return
        try:
            self._queue.put_nowait(update)
        except asyncio.QueueFull:
            self._fall_behind()

    async def next(self) -> Encoded:
        """The next update; raises FellBehind once the watcher is closed."""
        update = await self._queue.get()
        if self.closed is not None:
            raise self.closed
        if self._queue.empty():
            self._resynced = False
        return update

    def _fall_behind(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        if self._resynced:
            self.closed = FellBehind("fell behind twice: reconnect with your last slot numbers")
            self._queue.put_nowait(_CLOSING)
            return
        for cid in self.campaigns:
            self._queue.put_nowait(self._snapshot(cid).SerializeToString())
        self._resynced = True
        self.resyncs += 1
