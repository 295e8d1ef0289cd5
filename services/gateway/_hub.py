"""``LiveHub``: this gateway process's live view of the campaigns anyone is looking at.

One notify Watch per campaign with any SSE subscriber or publisher request (``_watch``),
however many there are: the Watch starts with the first, and is stopped ``linger_s`` after the
last subscriber left and the last publisher request came. Each fill is encoded once and
offered to every subscriber's bounded queue (``_subscriber``); a heartbeat goes the same way
every ``heartbeat_s``, so proxies keep idle streams open and a client that stopped reading
is found even on a quiet campaign. Publishers read the same state (``view``, ``image``): no
API call per request once a campaign is watched and its ads are cached.

The app builds the hub with stub factories (the channels open when the app starts), calls
``start()`` and ``close()`` from its lifespan, and mounts ``live_routes(hub)`` and
``publisher_routes(hub)``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._fillers import CACHE_BYTES, FillerCache
from ._live_state import RING, CampaignState
from ._sse import HEARTBEAT
from ._subscriber import QUEUE_SIZE, Subscriber
from ._watch import CampaignWatch, LiveUnavailable

if TYPE_CHECKING:  # the async stubs exist in the generated .pyi only
    from services.api.abc.v1.notify_pb2_grpc import NotifyServiceAsyncStub as NotifyStub
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as PurchaseStub
    from services.api.abc.v1.types_pb2 import Filler


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """The hub's bounds. Defaults suit a deployed gateway; tests shorten the times."""

    queue_size: int = QUEUE_SIZE  # frames a subscriber may have waiting before it is dropped
    ring: int = RING  # recent fills kept per campaign, for reconnecting browsers
    linger_s: float = 30.0  # a Watch nobody uses any more is stopped after this
    heartbeat_s: float = 15.0
    first_snapshot_s: float = 5.0  # how long a first viewer waits for notify's snapshot
    backoff_s: tuple[float, float] = (0.1, 5.0)  # the first and the longest wait to resume
    max_failures: int = 20  # Watch attempts in a row without progress before giving up
    max_watches: int = 1000  # campaigns watched at once by this process
    filler_cache_bytes: int = CACHE_BYTES


class LiveHub:
    def __init__(self, notify: Callable[[], NotifyStub], purchase: Callable[[], PurchaseStub],
                 metadata: Sequence[tuple[str, str]] = (),
                 settings: LiveSettings = LiveSettings()) -> None:
        self.notify = notify
        self.metadata = tuple(metadata)
        self.settings = settings
        self.fillers = FillerCache(purchase, self.metadata, settings.filler_cache_bytes)
        self._watches: dict[str, CampaignWatch] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._sweep(), name="live-hub sweep"),
                       asyncio.create_task(self._heartbeat(), name="live-hub heartbeat")]

    async def close(self) -> None:
        """Stop every Watch and end every stream."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(w.stop() for w in list(self._watches.values())))

    @property
    def watched(self) -> dict[str, int]:
        """Subscribers per watched campaign (one Watch each)."""
        return {cid: len(w.subscribers) for cid, w in self._watches.items()}

    def watch_of(self, cid: str) -> CampaignWatch | None:
        return self._watches.get(cid)

    async def subscribe(self, cid: str, after: int | None = None, snapshot: bool = True
                        ) -> Subscriber:
        """A subscriber of ``cid`` with its first frames queued: a snapshot (unless not
        ``snapshot``: a browser reconnecting with Last-Event-ID), then the fills after slot
        ``after`` if this hub still has them all (if not, the snapshot stands for them).
        Raises CampaignNotFound or LiveUnavailable."""
        watch = self._watch(cid)
        await watch.ready(self.settings.first_snapshot_s)
        subscriber = Subscriber(cid, self.settings.queue_size)
        watch.join(subscriber, after, snapshot)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.close()
        watch = self._watches.get(subscriber.cid)
        if watch is not None:
            watch.subscribers.discard(subscriber)
            watch.last_used = time.monotonic()

    async def view(self, cid: str) -> CampaignState:
        """``cid``'s live state (watching it from now on if nobody was). Raises
        CampaignNotFound or LiveUnavailable."""
        return await self._watch(cid).ready(self.settings.first_snapshot_s)

    async def filler(self, user_id: str, filler_id: str) -> Filler | None:
        return await self.fillers.get(user_id, filler_id)

    def forget(self, watch: CampaignWatch) -> None:
        """Called by a watch that ended: a later viewer starts a new one."""
        if self._watches.get(watch.cid) is watch:
            del self._watches[watch.cid]

    def _watch(self, cid: str) -> CampaignWatch:
        watch = self._watches.get(cid)
        if watch is None:
            if len(self._watches) >= self.settings.max_watches:
                raise LiveUnavailable(f"watching {len(self._watches)} campaigns already")
            watch = self._watches[cid] = CampaignWatch(cid, self)
            watch.start()
        return watch

    async def _sweep(self) -> None:
        linger = self.settings.linger_s
        while True:
            await asyncio.sleep(max(linger / 4, 0.05))
            idle_since = time.monotonic() - linger
            idle = [w for w in self._watches.values()
                    if not w.subscribers and w.last_used < idle_since]
            await asyncio.gather(*(w.stop() for w in idle))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_s)
            for watch in list(self._watches.values()):
                watch.broadcast(HEARTBEAT)
