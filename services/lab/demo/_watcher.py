"""The demo's gateway: one NotifyService.Watch stream on every campaign, reconnecting after any
stream error with ``resume_after_slot`` = the last slot it saw, and keeping score of what it
got: every finished slot should arrive exactly once, in slot order, soon after its purchase
(the lag: receive time minus ``bought_at_ms``). It also keeps the buyers' price board current.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import grpc

from services.api.abc.v1 import notify_pb2, notify_pb2_grpc, types_pb2
from services.messages import campaign_of

from ._clock import wall_ms
from ._market import PriceBoard
from ._pool import open_channel

MAX_BACKOFF_S = 1.0


@dataclass
class Seen:
    """One campaign's fills as received: the last slot, and how many arrived in order."""

    last: int = 0
    fills: int = 0


class FillWatcher:
    def __init__(self, target: str, campaigns: Sequence[str], board: PriceBoard) -> None:
        self.target = target
        self.board = board
        self.seen = {cid: Seen() for cid in campaigns}
        self.duplicates = 0  # a slot at or below the last one seen
        self.out_of_order = 0  # a slot beyond the next one: some slots were skipped
        self.stream_errors: Counter[str] = Counter()
        self.lags_ms: list[int] = []
        self.sources: Counter[str] = Counter()  # fills by how notify learned of them
        self.ready = asyncio.Event()  # the first snapshot of every campaign has arrived
        self._snapshotted: set[str] = set()

    @property
    def fills(self) -> int:
        return sum(s.fills for s in self.seen.values())

    @property
    def disorder(self) -> int:
        return self.duplicates + self.out_of_order

    async def run(self) -> None:
        """Watch until cancelled."""
        failures = 0
        async with open_channel(self.target) as channel:
            stub = notify_pb2_grpc.NotifyServiceStub(channel)
            while True:
                call = stub.Watch(self._request())
                try:
                    await self._follow(call)
                    failures = 0
                except grpc.aio.AioRpcError as exc:
                    self.stream_errors[exc.code().name] += 1
                    failures += 1
                    await asyncio.sleep(min(0.1 * failures, MAX_BACKOFF_S))
                finally:
                    call.cancel()

    def _request(self) -> notify_pb2.WatchRequest:
        self._snapshotted.clear()
        return notify_pb2.WatchRequest(campaigns=[
            notify_pb2.WatchedCampaign(campaign_id=cid, resume_after_slot=seen.last)
            for cid, seen in self.seen.items()])

    async def _follow(self, call: grpc.aio.UnaryStreamCall[notify_pb2.WatchRequest,
                                                             notify_pb2.WatchUpdate]) -> None:
        """Take updates until the stream ends or must be resumed."""
        while True:
            update = await call.read()
            if not isinstance(update, notify_pb2.WatchUpdate):
                return  # the server ended the stream: resume
            if update.HasField("snapshot"):
                if not self._on_snapshot(update.snapshot):
                    return
            elif update.HasField("fill"):
                self.sources[update.source] += 1
                self._on_fill(update.fill, wall_ms())

    def _on_snapshot(self, snapshot: notify_pb2.CampaignSnapshot) -> bool:
        """False when the stream must be resumed to get slots it skipped."""
        cid, head = snapshot.campaign.campaign_id, snapshot.head
        self.board.show(cid, campaign_of(snapshot))
        seen = self.seen[cid]
        if cid in self._snapshotted:
            # Notify dropped this watcher's backlog for a fresh snapshot (it fell behind):
            # resuming from the last slot seen replays what the snapshot skipped.
            return head <= seen.last
        self._snapshotted.add(cid)
        if len(self._snapshotted) == len(self.seen):
            self.ready.set()
        return True

    def _on_fill(self, fill: types_pb2.FilledSlot, now_ms: int) -> None:
        seen = self.seen[fill.campaign_id]
        if fill.slot <= seen.last:
            self.duplicates += 1
            return
        if fill.slot > seen.last + 1:
            self.out_of_order += 1
        seen.last = fill.slot
        seen.fills += 1
        if not fill.void:
            self.lags_ms.append(now_ms - fill.bought_at_ms)
        self.board.fill(fill)
