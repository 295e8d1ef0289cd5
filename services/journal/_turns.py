"""``Turns``: one process's purchases of a campaign take turns.

Two purchases of one campaign that overlap in one process race for the same next slot: both
read the campaign's head, both lock their buyer, and the one whose fill comes second finds
the slot taken. It loses (``LostRace``) after three writes of its own (intent, roll back, and
helping finish the winner's slot, docs/protocol.md section 4), and a buyer who would have
paid the next price is turned away. A journal with turns queues its purchases per campaign
instead: the second starts once the first is done, reads the head the first advanced and
buys the slot after it (or is priced out, as it would be one purchase later). Purchases of
different campaigns never wait for each other; purchases in other processes still race, and
the protocol settles those races as before. The queue lives only in this process: nothing
about it is stored, and a process that dies takes its queue with it.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Turns:
    """Per-campaign queues of purchases (``async with turns.of(cid): ...``), kept only while
    a purchase of the campaign runs or waits: a campaign nobody is buying costs nothing."""

    __slots__ = ("_queues",)

    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}

    def of(self, cid: str) -> _Turn:
        """A turn at campaign ``cid``: entered when every purchase of it queued before has
        ended, however it ended (returned, raised or cancelled)."""
        return _Turn(self._queues, cid)

    def __len__(self) -> int:
        """Campaigns with a purchase running or waiting."""
        return len(self._queues)


class _Queue:
    __slots__ = ("lock", "members")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # FIFO: a waiting purchase is not overtaken
        self.members = 0  # the purchase holding the lock and those waiting for it


class _Turn:
    __slots__ = ("_cid", "_queue", "_queues")

    def __init__(self, queues: dict[str, _Queue], cid: str) -> None:
        self._queues, self._cid = queues, cid

    async def __aenter__(self) -> None:
        queue = self._queues.get(self._cid)
        if queue is None:
            queue = self._queues[self._cid] = _Queue()
        queue.members += 1
        self._queue = queue
        try:
            await queue.lock.acquire()
        except BaseException:  # cancelled while waiting: leave the queue, re-raise
            self._leave()
            raise

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._queue.lock.release()
        self._leave()

    def _leave(self) -> None:
        queue = self._queue
        queue.members -= 1
        if not queue.members:
            del self._queues[self._cid]
