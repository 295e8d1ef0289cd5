"""``NotifyService``: Watch streams fed by the hub, and GetCampaign from its state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc

from services.api.abc.v1 import notify_pb2, types_pb2
from services.journal import filler_key, invalid_id
from services.messages import (
    Refusal,
    abort,
    filler_message,
    invalid,
    missing,
    store_failed,
)
from services.store import InDoubt, NotFound, Unavailable

from ._feed import Feed
from ._hub import Hub
from ._watcher import Encoded, FellBehind, Watcher

Context = grpc.aio.ServicerContext[Any, Any]
MAX_CAMPAIGNS = 100


class NotifyServicer:
    """NotifyService's methods (registered by ``handlers``, not by the generated base: Watch
    yields encoded bytes)."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._fillers: dict[str, types_pb2.Filler] = {}  # immutable, so cached forever

    async def Watch(self, request: notify_pb2.WatchRequest, context: Context
                    ) -> AsyncIterator[Encoded]:
        """Streams ``WatchUpdate`` wire bytes (see ``handlers``: Watch's serializer passes
        them through), each fill encoded once by its feed for every watcher."""
        wanted = [(w.campaign_id, w.resume_after_slot if w.HasField("resume_after_slot")
                   else None) for w in request.campaigns]
        await self._check_campaigns(context, [cid for cid, _ in wanted])
        feeds = list(await asyncio.gather(*(self._feed(cid, context) for cid, _ in wanted)))
        watcher = Watcher([cid for cid, _ in wanted], lambda cid: self.hub.feeds[cid].snapshot())
        initial: list[notify_pb2.WatchUpdate] = []
        try:
            for feed, (_, after) in zip(feeds, wanted, strict=True):
                initial += await _join(feed, watcher, after)
            for update in initial:
                yield update.SerializeToString()
            while True:
                yield await watcher.next()
        except FellBehind as exc:
            # The one use of RESOURCE_EXHAUSTED: a watcher too slow to keep up.
            await abort(context, Refusal(grpc.StatusCode.RESOURCE_EXHAUSTED, "FELL_BEHIND",
                                         str(exc)))
        finally:
            for feed in feeds:
                feed.watchers.pop(watcher, None)

    async def GetCampaign(self, request: types_pb2.GetCampaignRequest, context: Context
                          ) -> types_pb2.CampaignView:
        await self._check_campaigns(context, [request.campaign_id])
        feed = await self._feed(request.campaign_id, context)
        if not self.hub.events_trusted:
            await self._store_call(context, feed.sync(min_interval_ms=self.hub.poll_ms))
        snap = feed.snapshot().snapshot
        view = types_pb2.CampaignView(campaign=snap.campaign, head=snap.head, curve=snap.curve,
                                         current_price=snap.current_price, as_of_ms=snap.as_of_ms)
        if snap.HasField("current_slot"):
            view.current_slot.CopyFrom(snap.current_slot)
            filler = await self._filler(snap.current_slot, context)
            if filler is not None:
                view.current_filler.CopyFrom(filler)
        return view

    async def _check_campaigns(self, context: Context, cids: list[str]) -> None:
        if not 1 <= len(cids) <= MAX_CAMPAIGNS or len(set(cids)) != len(cids):
            await abort(context, invalid("campaigns", f"1 to {MAX_CAMPAIGNS} distinct ids"))
        for cid in cids:
            problem = invalid_id("campaign_id", cid)
            if problem is not None:
                await abort(context, invalid(problem.field, problem.reason))

    async def _feed(self, cid: str, context: Context) -> Feed:
        try:
            return await self.hub.feed(cid)
        except NotFound:
            await abort(context, missing("campaign", cid))
        except (Unavailable, InDoubt) as exc:
            await abort(context, store_failed(str(exc)))
        raise AssertionError("abort returned")  # pragma: no cover

    async def _store_call(self, context: Context, call: Any) -> None:
        try:
            await call
        except (Unavailable, InDoubt) as exc:
            await abort(context, store_failed(str(exc)))

    async def _filler(self, slot: types_pb2.FilledSlot, context: Context
                      ) -> types_pb2.Filler | None:
        if not slot.filler_id:
            return None
        key = filler_key(slot.buyer_id, slot.filler_id)
        if key not in self._fillers:
            try:
                value = (await self.hub.store.get(key)).value
            except NotFound:
                return None
            except (Unavailable, InDoubt):
                return None  # the ad is decoration: answer without it rather than fail
            self._fillers[key] = filler_message(slot.buyer_id, slot.filler_id, value)
        return self._fillers[key]


async def _join(feed: Feed, watcher: Watcher, after: int | None
                ) -> list[notify_pb2.WatchUpdate]:
    """Under the feed's lock (so no fill slips between): the snapshot, the fills missed since
    ``after`` (when resuming), and the watcher registered for everything after."""
    async with feed.lock:
        updates = [feed.snapshot()]
        if after is not None and 0 <= after < feed.head:
            missed = feed.missed_since(after)
            if missed is None:
                missed = await feed.read_slots(after, feed.head)
            now = updates[0].sent_at_ms
            updates += [notify_pb2.WatchUpdate(fill=f, sent_at_ms=now, source="replay")
                        for f in missed]
        feed.watchers[watcher] = None
    return updates


def handlers(servicer: NotifyServicer) -> dict[str, grpc.RpcMethodHandler[Any, Any]]:
    """NotifyService's methods as ``notify_pb2_grpc`` registers them, except that Watch's
    responses are sent as the bytes its stream yields (no serializer: the hub encoded them)."""
    return {
        "Watch": grpc.unary_stream_rpc_method_handler(
            servicer.Watch, request_deserializer=notify_pb2.WatchRequest.FromString),
        "GetCampaign": grpc.unary_unary_rpc_method_handler(
            servicer.GetCampaign,
            request_deserializer=types_pb2.GetCampaignRequest.FromString,
            response_serializer=types_pb2.CampaignView.SerializeToString),
    }
