"""One Watch stream's queue: bounded, so a slow gateway never slows the others nor grows
memory. A watcher that falls behind has its backlog replaced by one fresh snapshot; one that
falls behind again before catching up is closed (RESOURCE_EXHAUSTED) to reconnect.

A watcher queues updates already encoded (``WatchUpdate`` wire bytes): a fill is encoded once
for all its watchers, not once per stream (the Watch handler sends the bytes as they are).

The queue is a deque and at most one waiting future, not an ``asyncio.Queue``: a fill is
offered to every watcher of its campaign in one loop, so what an offer and a take cost is
paid once per watcher per fill: an offer and its take cost ~5 us of CPU this way, ~8 us with
an asyncio.Queue (10,000 watchers in one process, on the 2-CPU VM of bench/README.md)."""

from __future__ import annotations

import asyncio
from collections import deque
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
        self._queue: deque[Encoded] = deque()
        self._queue_size = queue_size
        self._waiting: asyncio.Future[None] | None = None  # next() waits for an offer
        self._resynced = False  # sent a catch-up snapshot and not yet drained
        self.closed: FellBehind | None = None
        self.resyncs = 0

    @property
    def backlog(self) -> int:
        """Updates queued and not yet taken."""
        return len(self._queue)

    def offer(self, update: Encoded) -> None:
        """Queue ``update`` without waiting (the hub calls this for every watcher)."""
        if self.closed is not None:
            return
        if len(self._queue) >= self._queue_size:
            self._fall_behind()
            return
        self._put(update)

    def _put(self, update: Encoded) -> None:
        self._queue.append(update)
        waiting = self._waiting
        if waiting is not None:
            self._waiting = None
            if not waiting.done():  # not cancelled with its stream
                waiting.set_result(None)

    async def next(self) -> Encoded:
        """The next update; raises FellBehind once the watcher is closed."""
        while not self._queue:
            self._waiting = asyncio.get_running_loop().create_future()
            await self._waiting
        update = self._queue.popleft()
        if self.closed is not None:
            raise self.closed
        if not self._queue:
            self._resynced = False
        return update

    def _fall_behind(self) -> None:
        self._queue.clear()
        if self._resynced:
            self.closed = FellBehind("fell behind twice: reconnect with your last slot numbers")
            self._put(_CLOSING)
            return
        for cid in self.campaigns:
            self._put(self._snapshot(cid).SerializeToString())
        self._resynced = True
        self.resyncs += 1
