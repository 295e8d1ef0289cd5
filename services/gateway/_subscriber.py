"""One SSE client of the hub: a bounded queue of frames. A client whose queue is full (it
reads slower than fills come) is dropped: its queue is emptied and its stream told to end, so
it never holds more than ``size`` frames (shared bytes) however slow it is. A browser that was
dropped reconnects and resumes from its last slot like any other."""

from __future__ import annotations

import asyncio

from ._live_metrics import dropped_clients
from ._sse import Frame

QUEUE_SIZE = 64


class Subscriber:
    def __init__(self, cid: str, size: int = QUEUE_SIZE) -> None:
        self.cid = cid
        self._queue: asyncio.Queue[Frame | None] = asyncio.Queue(max(size, 1))
        self._closed = asyncio.Event()
        self.dropped = False

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def offer(self, frame: Frame) -> bool:
        """Queue ``frame`` without waiting; False (and the subscriber dropped) if its queue is
        full, or if it is closed."""
        if self.closed:
            return False
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.dropped = True
            dropped_clients.add(1)
            self.close()
            return False
        return True

    def close(self) -> None:
        """End the stream: whatever is queued is let go, and ``next`` answers None."""
        if self.closed:
            return
        self._closed.set()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self) -> Frame | None:
        frame = await self._queue.get()
        if frame is None:
            self._queue.put_nowait(None)  # for any later call too
        return frame

    async def wait_closed(self) -> None:
        await self._closed.wait()
