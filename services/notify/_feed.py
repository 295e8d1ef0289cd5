"""One campaign as notify knows it: its head, its recent fills, its watchers.

Every change goes through ``lock``, in slot order: an event for head+1 is applied; one at or
below head is a duplicate and dropped; one beyond head+1 is a gap and triggers a store read.
A store read (``sync``) is single-flight: at most one at a time per campaign, and none within
``min_interval_ms`` of the last unless forced (0)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Callable

from opentelemetry import metrics, trace

from services.api.abc.v1 import notify_pb2, types_pb2
from services.journal import (
    Campaign,
    campaign_key,
    price_at,
    showing,
    slot_from_json,
    slot_key,
)
from services.messages import campaign_message, filled_slot, price_curve, purchase_of
from services.store import DocumentStore

from ._watcher import Watcher

tracer = trace.get_tracer("abc.notify")
fanout = metrics.get_meter("abc.notify").create_counter(
    "abc.notify.fanout", description="fill updates queued to watchers")

HISTORY = 1024  # recent fills kept per campaign, for resuming watchers and "showing now"
MAX_CATCH_UP = 1000  # slots one store read will fetch to close a gap


class Feed:
    def __init__(self, cid: str, store: DocumentStore, clock: Callable[[], int]) -> None:
        self.cid = cid
        self._store = store
        self._clock = clock
        self.campaign: Campaign | None = None
        self.fills: deque[types_pb2.FilledSlot] = deque(maxlen=HISTORY)
        self.current: types_pb2.FilledSlot | None = None  # showing at the last sync
        # In the order they joined (a dict's keys): a fill goes out to a gateway's streams
        # one after the other, not interleaved with every other connection's by hash.
        self.watchers: dict[Watcher, None] = {}
        self.lock = asyncio.Lock()
        self.last_read_ms = -(10**18)  # when the last read began
        self.last_used_ms = clock()  # when a watcher or GetCampaign last asked for it
        self._reads_begun = 0

    @property
    def head(self) -> int:
        return 0 if self.campaign is None else self.campaign.head

    def age_ms(self) -> int:
        return self._clock() - self.last_read_ms

    async def apply_event(self, fill: types_pb2.FilledSlot) -> None:
        async with self.lock:
            if self.campaign is None or fill.slot <= self.head:
                return  # not loaded yet (the first read will have it), or a duplicate
            if fill.slot == self.head + 1:
                self._advance(fill, "event")
                return
        await self.sync(min_interval_ms=0)  # a gap: events were lost

    async def load(self) -> None:
        """The first read, once (concurrent first callers wait for the same one)."""
        if self.campaign is not None:
            return
        async with self.lock:
            if self.campaign is None:
                await self._read()

    async def sync(self, min_interval_ms: int) -> None:
        """Read the campaign (and any new slots) unless it was read within
        ``min_interval_ms``. Single flight: a caller waits out a read under way, and reads
        again only if none began after it asked (the one under way may predate what it
        asks about: the slot of a gap, a head announced)."""
        asked = self._reads_begun
        async with self.lock:
            if self.campaign is not None and (self._reads_begun > asked
                                              or self.age_ms() < min_interval_ms):
                return
            await self._read()

    async def _read(self) -> None:
        self.last_read_ms = self._clock()
        self._reads_begun += 1
        doc = await self._store.get(campaign_key(self.cid))
        fresh = Campaign.from_json(doc.value)
        if self.campaign is None:
            self.campaign = fresh
            self.current = await self._showing(fresh)
            return
        fills = await self.read_slots(self.head, fresh.head)
        skipped = bool(fills) and fills[0].slot > self.head + 1
        if skipped:  # too far behind to replay: jump, then give every watcher a snapshot
            self.campaign = dataclasses.replace(fresh, head=fills[0].slot - 1)
        for fill in fills:
            self._advance(fill, "poll")
        if skipped:
            snapshot = self.snapshot().SerializeToString()
            for watcher in self.watchers:
                watcher.offer(snapshot)

    def _advance(self, fill: types_pb2.FilledSlot, source: str) -> None:
        assert self.campaign is not None
        self.campaign = self.campaign.advanced(fill.slot, purchase_of(fill))
        self.fills.append(fill)
        update = notify_pb2.WatchUpdate(fill=fill, sent_at_ms=self._clock(),
                                        source=source).SerializeToString()  # once for all
        with tracer.start_as_current_span("notify.fanout", attributes={
                "abc.campaign": self.cid, "abc.slot": fill.slot,
                "abc.watchers": len(self.watchers), "abc.source": source}):
            for watcher in self.watchers:
                watcher.offer(update)
        fanout.add(len(self.watchers), {"source": source})

    async def _showing(self, campaign: Campaign) -> types_pb2.FilledSlot | None:
        found = await showing(self._store, self.cid, campaign, self._clock(),
                              with_filler=False)
        return None if found is None else filled_slot(self.cid, found.slot, found.fill)

    def showing_now(self, now: int) -> types_pb2.FilledSlot | None:
        """The slot covering ``now``, from the fills seen (or the last read's answer)."""
        for fill in reversed(self.fills):
            if fill.void:
                continue
            if fill.end_ms <= now:
                return None
            if fill.start_ms <= now:
                return fill
        current = self.current
        if current is not None and current.start_ms <= now < current.end_ms:
            return current
        return None

    def snapshot(self) -> notify_pb2.WatchUpdate:
        assert self.campaign is not None
        c, now = self.campaign, self._clock()
        snap = notify_pb2.CampaignSnapshot(
            campaign=campaign_message(self.cid, c), head=c.head, curve=price_curve(c),
            current_price=price_at(c, now), as_of_ms=now, current_slot=self.showing_now(now))
        return notify_pb2.WatchUpdate(snapshot=snap, sent_at_ms=now, source="snapshot")

    def missed_since(self, after: int) -> list[types_pb2.FilledSlot] | None:
        """Fills after slot ``after`` up to head from history; None if history is too short."""
        if after >= self.head:
            return []
        missed = [f for f in self.fills if f.slot > after]
        if missed and missed[0].slot == after + 1:
            return missed
        return None

    async def read_slots(self, after: int, head: int) -> list[types_pb2.FilledSlot]:
        """Fills after ``after`` up to ``head`` from the store: the last ``MAX_CATCH_UP`` of
        them at most (a resuming watcher's gap, or what events missed)."""
        fills = []
        for n in range(max(after + 1, head - MAX_CATCH_UP + 1), head + 1):
            slot = slot_from_json((await self._store.get(slot_key(self.cid, n))).value)
            fills.append(filled_slot(self.cid, n, slot))
        return fills

