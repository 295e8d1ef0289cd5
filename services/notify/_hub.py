"""The hub: every campaign some watcher (or GetCampaign) asked about, kept current by NATS
fill events, and by reading the store whenever events can't be trusted.

- events trusted (NATS connected and subscribed): fills are applied as they arrive; a safety
  read of every feed runs every ``safety_ms`` anyway;
- not trusted (NATS down, not yet subscribed): every ``poll_ms`` each feed reads the store,
  single-flight, so a campaign costs at most one read per ``poll_ms`` per notify process
  however many watchers it has;
- a head event (a recovery replica saw the campaign's head move) above the head we know: the
  fill events in between never came (their publisher died or lost NATS), so read the store,
  after a short grace for events merely in flight;
- trusted again after an outage or a reconnect however short: every feed last read before
  the subscription was live again is read once at once (reconcile); a feed first read after
  that needs no reconcile, since every later fill reaches it as an event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind

from services.api.abc.v1 import events_pb2
from services.events import FILL_WILDCARD, HEAD_WILDCARD
from services.runtime import NatsLink
from services.store import DocumentStore, InDoubt, NotFound, Unavailable

from ._feed import Feed

log = logging.getLogger("abc.notify")
tracer = trace.get_tracer("abc.notify")
fallback_polls = metrics.get_meter("abc.notify").create_counter(
    "abc.notify.fallback_polls", description="rounds of store polling while events can't be "
                                             "trusted")

POLL_MS = 100
SAFETY_MS = 5000
IDLE_EVICT_MS = 60_000
SUBSCRIBE_FLUSH_S = 2
HEAD_GRACE_MS = 200  # a head event can beat the fill events it covers: wait before reading


class Hub:
    def __init__(self, store: DocumentStore, link: NatsLink | None, clock: Callable[[], int],
                 poll_ms: int = POLL_MS, safety_ms: int = SAFETY_MS) -> None:
        self.store = store
        self.link = link
        self.clock = clock
        self.poll_ms = poll_ms
        self.safety_ms = safety_ms
        self.feeds: dict[str, Feed] = {}
        self.subscribed = False
        self.events = 0
        self._live_since_ms: int | None = None  # when the subscription was last (re)made
        self._reconciled_since_ms: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._catching_up: dict[str, asyncio.Task[None]] = {}  # by campaign, after a head event
        self.head_events = 0  # head events of watched campaigns received
        self.head_reads = 0  # store reads a head event called for

    @property
    def events_trusted(self) -> bool:
        return self.subscribed and self.link is not None and self.link.connected

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._subscribe(), name="notify-subscribe"),
                       asyncio.create_task(self._poll_loop(), name="notify-poll"),
                       asyncio.create_task(self._safety_loop(), name="notify-safety")]

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._catching_up.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def feed(self, cid: str) -> Feed:
        """The feed of ``cid``, loaded from the store on first use; store NotFound if the
        campaign does not exist."""
        feed = self.feeds.get(cid)
        if feed is None:
            feed = self.feeds[cid] = Feed(cid, self.store, self.clock)
        feed.last_used_ms = self.clock()
        try:
            await feed.load()
        except (NotFound, Unavailable, InDoubt):
            if feed.campaign is None and not feed.watchers:
                self.feeds.pop(cid, None)
            raise
        return feed

    async def _subscribe(self) -> None:
        if self.link is None:
            return
        while not await self.link.wait_connected(3600):
            continue
        assert self.link.client is not None
        client = self.link.client
        await client.subscribe(FILL_WILDCARD, cb=self._on_fill)
        await client.subscribe(HEAD_WILDCARD, cb=self._on_head)
        # The client re-makes the subscription after every reconnect, then tells us.
        self.link.on_reconnect(self._subscription_live)
        try:
            await client.flush(SUBSCRIBE_FLUSH_S)  # the server has the subscription
        except (NatsError, OSError) as exc:  # NATS went away meanwhile: polls cover it
            log.warning("NATS did not confirm the subscriptions (%s)", exc or type(exc).__name__)
        self._subscription_live()
        self.subscribed = True
        log.info("subscribed to %s and %s", FILL_WILDCARD, HEAD_WILDCARD)

    def _subscription_live(self) -> None:
        self._live_since_ms = self.clock()

    async def _on_fill(self, msg: Msg) -> None:
        event = _decoded(msg, events_pb2.FillEvent())
        if event is None:
            return
        feed = self.feeds.get(event.slot.campaign_id)
        if feed is None:
            return
        self.events += 1
        with tracer.start_as_current_span(f"{msg.subject} receive", kind=SpanKind.CONSUMER,
                                          context=propagate.extract(dict(msg.headers or {})),
                                          attributes={"messaging.system": "nats",
                                                      "abc.slot": event.slot.slot}):
            try:
                await feed.apply_event(event.slot)
            except (Unavailable, InDoubt, NotFound) as exc:
                log.warning("reading campaign %s after a gap failed: %s", feed.cid, exc)

    async def _on_head(self, msg: Msg) -> None:
        event = _decoded(msg, events_pb2.HeadEvent())
        if event is None:
            return
        feed = self.feeds.get(event.campaign_id)
        if feed is None:
            return
        self.head_events += 1
        if event.head <= feed.head or feed.cid in self._catching_up:
            return
        self._catching_up[feed.cid] = asyncio.create_task(
            self._catch_up(feed, event.head), name=f"catch up {feed.cid}")

    async def _catch_up(self, feed: Feed, head: int) -> None:
        """Read ``feed``'s campaign unless the fills up to ``head`` arrive within the grace."""
        try:
            await asyncio.sleep(HEAD_GRACE_MS / 1000)
            if feed.head < head:
                self.head_reads += 1
                log.info("campaign %s: head %d announced, %d seen (fill events lost): reading "
                         "it", feed.cid, head, feed.head)
                await feed.sync(min_interval_ms=0)
        except (Unavailable, InDoubt, NotFound) as exc:
            log.warning("reading campaign %s after a head event failed: %s", feed.cid, exc)
        finally:
            self._catching_up.pop(feed.cid, None)

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_ms / 1000)
            if not self.events_trusted:
                fallback_polls.add(1)
                await self._read_all(self.poll_ms)
            elif self._live_since_ms != self._reconciled_since_ms:
                await self._reconcile()

    async def _reconcile(self) -> None:
        """Read every feed last read before the subscription was (re)made: events published
        while it was not live are lost to this process."""
        since = self._live_since_ms
        assert since is not None
        self._reconciled_since_ms = since
        stale = [f for f in self.feeds.values() if f.last_read_ms <= since]
        if stale:
            log.info("events flowing: reconciling %d campaigns from the store", len(stale))
            await self._sync(stale, 0)  # a read under way that began before is waited out

    async def _safety_loop(self) -> None:
        while True:
            await asyncio.sleep(self.safety_ms / 1000)
            self._evict_idle()
            await self._read_all(self.safety_ms)

    async def _read_all(self, min_interval_ms: int) -> None:
        await self._sync(list(self.feeds.values()), min_interval_ms)

    async def _sync(self, feeds: list[Feed], min_interval_ms: int) -> None:
        results = await asyncio.gather(*(f.sync(min_interval_ms) for f in feeds),
                                       return_exceptions=True)
        for feed, result in zip(feeds, results, strict=True):
            if isinstance(result, Unavailable | InDoubt | NotFound | NatsError):
                log.warning("reading campaign %s failed: %s", feed.cid, result)
            elif isinstance(result, BaseException):
                raise result

    def _evict_idle(self) -> None:
        now = self.clock()
        for cid, feed in list(self.feeds.items()):
            if not feed.watchers and now - feed.last_used_ms > IDLE_EVICT_MS:
                del self.feeds[cid]


E = TypeVar("E", events_pb2.FillEvent, events_pb2.HeadEvent)


def _decoded(msg: Msg, event: E) -> E | None:
    """``msg``'s payload parsed into ``event``; None (and a warning) if it does not parse."""
    try:
        event.ParseFromString(msg.data)
    except DecodeError:
        log.warning("undecodable %s on %s", type(event).__name__, msg.subject)
        return None
    return event
