"""What 1,000 watchers of one campaign cost the store: about nothing while events flow (no
read per event, only the periodic safety read), and at most one read of the campaign per
100 ms poll while they don't (single flight), never one per watcher. Reads are counted by a
wrapper around notify's store, per key; rates are counts over the wall time the test measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import notify_pb2_grpc
from services.lab.cluster import NatsServer
from tests._support.world import open_world, store_url

from ._support import (
    CHANNEL_OPTIONS,
    KeyCountingStore,
    Stack,
    Stream,
    buy,
    counting_store,
    open_stream,
    stack,
    watch_request,
    watching,
)

pytestmark = pytest.mark.asyncio

WATCHERS = 1000
PER_CHANNEL = 100  # streams per channel (each channel its own TCP connection)
WINDOW_S = 2.0
PURCHASES = 4  # during the window
LIVENESS_S = 5.0  # for a fill to reach all 1,000 watchers: liveness only, not a benchmark


@contextlib.asynccontextmanager
async def watchers(s: Stack, n: int) -> AsyncIterator[list[Stream]]:
    """``n`` Watch streams of c1, each having read its snapshot."""
    async with contextlib.AsyncExitStack() as stack_:
        streams: list[Stream] = []
        try:
            for first in range(0, n, PER_CHANNEL):
                # A channel's streams at a time (a burst all at once is the test below's).
                channel = await stack_.enter_async_context(grpc.aio.insecure_channel(
                    f"127.0.0.1:{s.notify.port}", CHANNEL_OPTIONS))
                stub = notify_pb2_grpc.NotifyServiceStub(channel)
                more = [open_stream(stub, watch_request("c1"))
                        for _ in range(min(PER_CHANNEL, n - first))]
                streams += more
                await asyncio.gather(*(st.until(lambda x: len(x.received) >= 1, 30,
                                                "snapshot") for st in more))
            assert len(s.notify.hub.feeds["c1"].watchers) == n
            yield streams
        finally:
            await asyncio.gather(*(st.close() for st in streams))


async def window(s: Stack, store: KeyCountingStore, streams: list[Stream]
                 ) -> tuple[float, int, int]:
    """Over ``WINDOW_S`` s of wall time, with ``PURCHASES`` purchases that every watcher
    sees: the elapsed seconds and the reads of c1's campaign doc and of its slots."""
    campaign0, slots0 = store.reads("c1")
    started = time.monotonic()
    head = s.notify.hub.feeds["c1"].head
    for n in range(head + 1, head + PURCHASES + 1):
        bought = await buy(s.buy_stub, "alice")
        assert bought.slot.slot == n
        await asyncio.gather(*(st.until_slot(n, timeout_s=LIVENESS_S) for st in streams))
    await asyncio.sleep(max(0.0, WINDOW_S - (time.monotonic() - started)))
    elapsed = time.monotonic() - started
    campaign1, slots1 = store.reads("c1")
    for st in streams:  # every watcher saw every fill, once, in order
        assert st.slots() == list(range(1, head + PURCHASES + 1))
    return elapsed, campaign1 - campaign0, slots1 - slots0


async def test_a_thousand_watchers_cost_about_no_reads_while_events_flow(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)

    store = await counting_store(url)
    async with stack(url, nats_server.url, notify_store=store) as s:
        await open_world(s.buy_stub)
        assert store.reads("c1") == (0, 0)
        opening = time.monotonic()
        async with watchers(s, WATCHERS) as streams:
            # 1,000 first snapshots: one load of the campaign, shared (and a safety read
            # every 5 s, should opening take that long).
            safety_reads = int((time.monotonic() - opening) / 5)
            assert store.reads("c1")[0] <= 1 + safety_reads
            elapsed, campaign, slots = await window(s, store, streams)
            assert s.notify.hub.events_trusted
            sources = {r.update.source for st in streams for r in st.fills()}
    rate = (campaign + slots) / elapsed
    # Events cost no read: at most the safety read (every 5 s) falls in the window, and
    # reads a slot only if it lands between a purchase and its event.
    assert "event" in sources and sources <= {"event", "poll"}
    assert slots <= 1, slots
    assert rate <= 3, f"{campaign} + {slots} reads in {elapsed:.2f} s"


async def test_a_thousand_watchers_cost_one_read_per_poll_without_events(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    store = await counting_store(url)
    async with stack(url, None, notify_store=store) as s:  # no NATS: polling only
        await open_world(s.buy_stub)
        async with watchers(s, WATCHERS) as streams:
            elapsed, campaign, slots = await window(s, store, streams)
            assert not s.notify.hub.events_trusted
            assert all(st.fills()[-1].update.source == "poll" for st in streams)
    rate = campaign / elapsed
    # One read of the campaign per 100 ms poll at most, whatever the watchers; each new
    # slot read once.
    assert 0 < rate <= 12, f"{campaign} reads of campaign:c1 in {elapsed:.2f} s"
    assert slots == PURCHASES, slots


async def test_a_campaign_first_read_while_events_flow_is_never_reconciled(
        tmp_path: Path, nats_server: NatsServer) -> None:
    """Watched straight after notify subscribed: its first read already follows the live
    subscription, so the poll loop's reconcile must not read it again, and a purchase right
    after reaches the watcher as an event (not by a read racing the event)."""
    url = store_url(tmp_path)

    store = await counting_store(url)
    async with stack(url, nats_server.url, notify_store=store, safety_ms=600_000) as s:
        await open_world(s.buy_stub)
        stream = await watching(s.notify_stub, watch_request("c1"))
        await asyncio.sleep(5 * s.notify.hub.poll_ms / 1000)  # five polls
        assert store.reads("c1") == (1, 0)
        await buy(s.buy_stub, "alice")
        await stream.until_slot(1, timeout_s=LIVENESS_S)
        assert stream.fills()[-1].update.source == "event"
        assert store.reads("c1") == (1, 0)
        await stream.close()


async def test_a_burst_of_watch_calls_all_get_their_snapshot(tmp_path: Path,
                                                             nats_server: NatsServer) -> None:
    """Gateways reconnecting at once (notify restarted): 2,000 Watch calls opened together.
    gRPC core cancels calls beyond grpc.server.max_pending_requests (1,000 by default) that
    no handler has taken yet; every Abc server raises it, so none ends CANCELLED."""
    url = store_url(tmp_path)
    burst = 2000

    async with stack(url, nats_server.url) as s, contextlib.AsyncExitStack() as exits:
        await open_world(s.buy_stub)
        stubs = [notify_pb2_grpc.NotifyServiceStub(await exits.enter_async_context(
            grpc.aio.insecure_channel(f"127.0.0.1:{s.notify.port}", CHANNEL_OPTIONS)))
            for _ in range(burst // PER_CHANNEL)]
        streams = [open_stream(stubs[i % len(stubs)], watch_request("c1"))
                   for i in range(burst)]
        try:
            await asyncio.gather(*(st.until(lambda x: len(x.received) >= 1, 60,
                                            "snapshot") for st in streams))
            assert len(s.notify.hub.feeds["c1"].watchers) == burst
        finally:
            await asyncio.gather(*(st.close() for st in streams))
