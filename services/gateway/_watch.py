"""One campaign's notify Watch, shared by every subscriber of this gateway process.

The Watch's first snapshot makes the campaign's state (when slots are queued behind the one
showing, the Watch is remade at once with ``resume_after_slot`` = the showing slot, so the
queued ones arrive as fills and a publisher's embed knows when each begins). Each fill then
gets its ad (one GetFiller per filler, cached), advances the state, and its frame, encoded
once, is offered to every subscriber.

A Watch that breaks (notify restarted, UNAVAILABLE, RESOURCE_EXHAUSTED for falling behind, a
stream that just ends) is remade with ``resume_after_slot`` = the last slot seen: notify
replays what came meanwhile (protos/abc/v1/notify.proto), so nothing is missed. Remaking
backs off exponentially (``backoff_s``, with jitter) while attempts make no progress, and
gives up after ``max_failures`` of them in a row: its subscribers' streams end and the
browsers' reconnects start a new one. NOT_FOUND (or INVALID_ARGUMENT) ends it at once, and so
does a refusal (a bad gateway token: logged as an error)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import TYPE_CHECKING

import grpc

from services.api.abc.v1 import notify_pb2, types_pb2

from ._live_metrics import watch_resumes, watches
from ._live_state import CampaignState, SlotView, ad_view
from ._sse import Frame, wall_ms
from ._subscriber import Subscriber

if TYPE_CHECKING:
    from ._hub import LiveHub

log = logging.getLogger("abc.gateway")
REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
           grpc.StatusCode.UNIMPLEMENTED)


class LiveError(Exception):
    """A live view the hub can't give (base of the two below)."""


class CampaignNotFound(LiveError):
    pass


class LiveUnavailable(LiveError):
    """notify can't be reached (or this process watches too many campaigns): try later."""


class _Remake(Exception):
    """The stream lost fills this gateway needs (a snapshot in place of fills): remake it
    resuming from the last slot seen."""


class CampaignWatch:
    def __init__(self, cid: str, hub: LiveHub) -> None:
        self.cid = cid
        self.hub = hub
        self.state: CampaignState | None = None
        self.subscribers: set[Subscriber] = set()
        self.failure: LiveError | None = None
        self.last_used = time.monotonic()
        self.attempts = 0  # Watch calls made
        self._ready = asyncio.Event()
        self._target_head = 0  # the head to reach before subscribers may join
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        watches.add(1)
        self._task = asyncio.create_task(self._run(), name=f"watch {self.cid}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def ready(self, timeout_s: float) -> CampaignState:
        """The state once the first snapshot is in; raises the watch's failure, or
        LiveUnavailable after ``timeout_s``."""
        self.last_used = time.monotonic()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            raise LiveUnavailable(f"no snapshot of campaign {self.cid} from notify within "
                                  f"{timeout_s:g} s") from None
        if self.failure is not None:
            raise self.failure
        assert self.state is not None
        return self.state

    def join(self, subscriber: Subscriber, after: int | None, snapshot: bool) -> None:
        """Queue what ``subscriber`` starts from and add it (no await: no fill slips
        between): a snapshot if ``snapshot``, then the fills after slot ``after`` when the
        ring has them all and they fit in half its queue; a snapshot alone when not."""
        assert self.state is not None
        missed = None if after is None else self.state.missed_since(after)
        if missed is not None and len(missed) > self.hub.settings.queue_size // 2:
            missed = None
        if snapshot or missed is None:
            subscriber.offer(self.state.snapshot_frame(wall_ms()))
        for frame in missed or ():
            subscriber.offer(frame)
        self.subscribers.add(subscriber)

    def broadcast(self, frame: Frame) -> None:
        for subscriber in list(self.subscribers):
            if not subscriber.offer(frame):
                self.subscribers.discard(subscriber)

    async def _run(self) -> None:
        failures = 0
        try:
            while True:
                head_before, was_ready = self._head(), self._ready.is_set()
                try:
                    await self._follow()
                except _Remake:
                    pass
                except grpc.aio.AioRpcError as exc:
                    if exc.code() in (grpc.StatusCode.NOT_FOUND,
                                      grpc.StatusCode.INVALID_ARGUMENT):
                        self._fail(CampaignNotFound(f"no campaign {self.cid}"))
                        return
                    if exc.code() in REFUSED:  # retrying can't help: say so, loudly
                        log.error("notify refused the Watch of %s: %s %s", self.cid,
                                  exc.code().name, exc.details())
                        self._fail(LiveUnavailable(f"notify refused: {exc.code().name}"))
                        return
                    log.info("Watch of %s broke (%s): resuming after slot %d", self.cid,
                             exc.code().name, self._head())
                progressed = self._head() > head_before or (self._ready.is_set()
                                                             and not was_ready)
                failures = 0 if progressed else failures + 1
                if failures >= self.hub.settings.max_failures:
                    self._fail(LiveUnavailable(f"notify: {failures} Watch attempts in a row "
                                               "failed"))
                    return
                watch_resumes.add(1)
                await asyncio.sleep(self._backoff(failures))
        finally:
            if self.failure is None:  # stopped (or a bug): its streams must not hang
                self._fail(LiveUnavailable(f"the Watch of {self.cid} stopped"))
            watches.add(-1)
            self.hub.forget(self)

    def _head(self) -> int:
        return -1 if self.state is None else self.state.head

    def _backoff(self, failures: int) -> float:
        if failures == 0:
            return 0.0
        first, cap = self.hub.settings.backoff_s
        wait: float = min(cap, first * 2.0 ** (failures - 1))
        return wait * random.uniform(0.5, 1.0)

    def _fail(self, failure: LiveError) -> None:
        self.failure = failure
        self._ready.set()
        for subscriber in self.subscribers:
            subscriber.close()
        self.subscribers.clear()

    async def _follow(self) -> None:
        """One Watch call, read until it ends or breaks."""
        watched = notify_pb2.WatchedCampaign(campaign_id=self.cid)
        if self.state is not None:
            watched.resume_after_slot = self.state.head
        self.attempts += 1
        call = self.hub.notify().Watch(notify_pb2.WatchRequest(campaigns=[watched]),
                                       metadata=self.hub.metadata)
        try:
            first = True
            async for update in call:
                await self._apply(update, first)
                first = False
        finally:
            call.cancel()

    async def _apply(self, update: notify_pb2.WatchUpdate, first: bool) -> None:
        if update.HasField("fill"):
            await self._apply_fill(update)
            return
        snapshot = update.snapshot
        if self.state is None:
            await self._begin(snapshot)
        elif not first and snapshot.head > self.state.head:
            raise _Remake  # notify dropped this stream's backlog (it fell behind)

    async def _begin(self, snapshot: notify_pb2.CampaignSnapshot) -> None:
        showing = await self._view(snapshot.current_slot) \
            if snapshot.HasField("current_slot") else None
        self.state = CampaignState(snapshot, showing, self.hub.settings.ring)
        self._target_head = snapshot.head
        if showing is not None and showing.fill.slot < snapshot.head:
            self.state.head = showing.fill.slot  # the queued slots come as fills
            raise _Remake
        self._ready.set()

    async def _apply_fill(self, update: notify_pb2.WatchUpdate) -> None:
        state = self.state
        if state is None or update.fill.slot <= state.head:
            return  # before any snapshot (never sent), or a slot already seen
        gap = update.fill.slot > state.head + 1  # notify could replay only the last ones
        view = await self._view(update.fill)
        frame = state.advance(view, update.sent_at_ms, wall_ms())
        if not self._ready.is_set():
            if state.head >= self._target_head:
                self._ready.set()
            return
        self.broadcast(state.snapshot_frame(wall_ms()) if gap else frame)

    async def _view(self, fill: types_pb2.FilledSlot) -> SlotView:
        if fill.void or not fill.filler_id:
            return SlotView(fill, None)
        filler = await self.hub.fillers.get(fill.buyer_id, fill.filler_id)
        return SlotView(fill, None if filler is None else ad_view(fill, filler))
