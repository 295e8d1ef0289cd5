"""The notify service over real gRPC, a real sqlite store and a real nats-server: every finished
slot reaches a watcher once, in order, from events, from the store after a gap or while NATS
is down (SIGKILLed), or replayed to a resuming watcher; a slow watcher gets a snapshot
instead of an endless queue; bad requests are refused; GetCampaign agrees with the purchase
service."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import nats
import pytest

from services.api.abc.v1 import events_pb2, notify_pb2, notify_pb2_grpc, types_pb2
from services.events import fill_subject
from services.journal import (
    MAX_MONEY,
    Bought,
    Campaign,
    Journal,
    Purchase,
    price_at,
    slot_from_json,
    slot_key,
)
from services.lab.cluster import NatsServer
from services.lab.loadgen import audit_url
from services.messages import filled_slot
from services.notify import FellBehind, Watcher
from services.store import open_store
from tests._support.waiting import eventually
from tests._support.world import open_world, store_url
from tests.purchase._support import code_of

from ._support import (
    Proxy,
    Stream,
    buy,
    notify_node,
    open_stream,
    stack,
    watch_request,
    watching,
)

pytestmark = pytest.mark.asyncio

WatchCall = grpc.aio.UnaryStreamCall[notify_pb2.WatchRequest, notify_pb2.WatchUpdate]
LIVENESS_S = 2.0  # a generous bound on a fill's staleness: liveness, not performance


def sources(stream: Stream, slots: range) -> list[str]:
    by_slot = {r.update.fill.slot: r.update.source for r in stream.fills()}
    return [by_slot[n] for n in slots]


async def stored_fill(url: str, cid: str, n: int) -> types_pb2.FilledSlot:
    """Slot ``n`` as the store has it, as a fill event would carry it."""
    store = await open_store(url)
    try:
        return filled_slot(cid, n, slot_from_json((await store.get(slot_key(cid, n))).value))
    finally:
        await store.close()


async def publish(nats_url: str, fills: list[types_pb2.FilledSlot]) -> None:
    """Publish ``fills`` as fill events, in order, from a connection of the test's own."""
    client = await nats.connect(nats_url)
    try:
        for fill in fills:
            event = events_pb2.FillEvent(slot=fill, publisher="test",
                                         published_at_ms=time.time_ns() // 1_000_000)
            await client.publish(fill_subject(fill.campaign_id), event.SerializeToString())
        await client.flush()
    finally:
        await client.close()


async def test_a_buy_reaches_a_watcher(tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s:
        await open_world(s.buy_stub, min_price=10, slot_seconds=60)
        stream = await watching(s.notify_stub, watch_request("c1"))
        first = stream.updates[0]
        assert first.WhichOneof("update") == "snapshot" and first.source == "snapshot"
        snap = first.snapshot
        assert snap.head == 0
        assert snap.campaign == types_pb2.Campaign(campaign_id="c1", owner_id="owner",
                                            min_price=10, slot_seconds=60)
        assert snap.curve.min_price == 10 and not snap.curve.HasField("last")
        assert snap.current_price == 10
        assert not snap.HasField("current_slot")

        bought = await buy(s.buy_stub, "alice")
        await stream.until_slot(1)
        fill = stream.fills()[0]
        assert fill.update.source == "event"
        f = fill.update.fill
        assert (f.campaign_id, f.slot, f.buyer_id, f.price, f.void) == \
            ("c1", 1, "alice", 10, False)
        assert (f.start_ms, f.end_ms) == (bought.slot.start_ms, bought.slot.end_ms)
        assert 0 < f.bought_at_ms <= fill.update.sent_at_ms
        assert len(stream.received) == 2
        await stream.close()


async def test_many_buys_arrive_once_in_order_and_duplicate_events_are_dropped(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)
    buyers = ["b1", "b2", "b3"]

    async with stack(url, nats_server.url) as s:
        await open_world(s.buy_stub, buyers=buyers)
        stream = await watching(s.notify_stub, watch_request("c1"))

        async def buyer(uid: str) -> list[types_pb2.FilledSlot]:
            return [(await buy(s.buy_stub, uid)).slot for _ in range(10)]

        bought = [f for fills in await asyncio.gather(*map(buyer, buyers)) for f in fills]
        assert sorted(f.slot for f in bought) == list(range(1, 31))
        await stream.until_slot(30)
        assert stream.slots() == list(range(1, 31))
        by_slot = {r.update.fill.slot: r.update.fill for r in stream.fills()}
        for f in bought:  # each fill is the purchase that made it
            got = by_slot[f.slot]
            assert (got.buyer_id, got.price, got.start_ms, got.end_ms) == \
                (f.buyer_id, f.price, f.start_ms, f.end_ms)

        # Duplicates are normal on NATS (driver and recovery both publish): the same
        # event twice, and an old slot, reach notify and change nothing.
        hub = s.notify.hub
        seen = hub.events
        last, old = await stored_fill(url, "c1", 30), await stored_fill(url, "c1", 1)
        await publish(nats_server.url, [last, last, old])
        await eventually(lambda: hub.events >= seen + 3, what="the duplicates delivered")
        await buy(s.buy_stub, "b1")
        await stream.until_slot(31)
        await asyncio.sleep(0.2)  # room for a stray duplicate to show up
        assert stream.slots() == list(range(1, 32))
        assert len(stream.received) == 32  # the snapshot and 31 fills, nothing else
        await stream.close()
    assert await audit_url(url, quiescent=True) == []


async def test_a_gap_in_the_events_is_filled_from_the_store(tmp_path: Path,
                                                            nats_server: NatsServer) -> None:
    url = store_url(tmp_path)

    # No safety read during the test: only the gap can tell notify about a lost event.
    async with stack(url, nats_server.url, safety_ms=600_000) as s:
        await open_world(s.buy_stub)
        stream = await watching(s.notify_stub, watch_request("c1"))
        await buy(s.buy_stub, "alice")
        await stream.until_slot(1)

        # Slot 2 bought beside the purchase service (no event published), then slot 3
        # through it: notify gets the event of 3 while its head is 1.
        store = await open_store(url)
        try:
            assert isinstance(await Journal(store).buy("alice", "c1", MAX_MONEY), Bought)
            await asyncio.sleep(0.3)
            assert stream.slots() == [1]  # nothing told notify of slot 2
            await buy(s.buy_stub, "alice")
            await stream.until_slot(3)
            assert stream.slots() == [1, 2, 3]
            assert sources(stream, range(1, 4))[:2] == ["event", "poll"]

            # The same with an event made by hand: slots 4 and 5 bought without events,
            # then only the event of 5 published.
            journal = Journal(store)
            assert isinstance(await journal.buy("alice", "c1", MAX_MONEY), Bought)
            assert isinstance(await journal.buy("alice", "c1", MAX_MONEY), Bought)
            await publish(nats_server.url, [await stored_fill(url, "c1", 5)])
            await stream.until_slot(5)
        finally:
            await store.close()
        assert stream.slots() == [1, 2, 3, 4, 5]
        assert sources(stream, range(4, 6)) == ["poll", "poll"]
        await buy(s.buy_stub, "alice")  # events go on as before
        await stream.until_slot(6)
        assert stream.slots() == [1, 2, 3, 4, 5, 6]
        assert stream.fills()[-1].update.source == "event"
        await stream.close()


async def test_a_watcher_resuming_after_slot_3_gets_4_to_6_replayed_then_live_fills(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)

    async with stack(url, nats_server.url) as s:
        await open_world(s.buy_stub)
        first = await watching(s.notify_stub, watch_request("c1"))
        for n in range(1, 4):
            await buy(s.buy_stub, "alice")
            await first.until_slot(n)
        await first.close()
        assert first.slots() == [1, 2, 3]

        for _ in range(3):
            await buy(s.buy_stub, "alice")
        await eventually(lambda: s.notify.hub.feeds["c1"].head == 6, what="head 6")

        again = open_stream(s.notify_stub, watch_request(("c1", 3)))
        await again.until(lambda st: len(st.received) >= 4, what="snapshot and replay")
        snap = again.updates[0]
        assert snap.WhichOneof("update") == "snapshot" and snap.snapshot.head == 6
        assert [(u.fill.slot, u.source) for u in again.updates[1:]] == \
            [(4, "replay"), (5, "replay"), (6, "replay")]
        await buy(s.buy_stub, "alice")
        await again.until_slot(7)
        assert again.slots() == [4, 5, 6, 7]
        assert again.fills()[-1].update.source == "event"

        # A notify node that never saw those fills (restarted, say) reads them from the
        # store instead of its history.
        fresh = await notify_node(url, nats_server.url)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{fresh.port}") as channel:
                third = open_stream(notify_pb2_grpc.NotifyServiceStub(channel),
                                    watch_request(("c1", 2)))
                await third.until(lambda st: len(st.received) >= 6,
                                  what="snapshot and replay from the store")
                assert third.updates[0].snapshot.head == 7
                assert [(u.fill.slot, u.source) for u in third.updates[1:]] == \
                    [(n, "replay") for n in range(3, 8)]
                assert [u.fill for u in third.updates[2:]] == \
                    [r.update.fill for r in again.fills()]
                await third.close()
        finally:
            await fresh.stop(grace_s=0.5)
        await again.close()

        # Resuming after slot 0 (a gateway that saw none) replays from slot 1; a new
        # watcher (no resume_after_slot) gets just the snapshot.
        from_zero = open_stream(s.notify_stub, watch_request(("c1", 0)))
        await from_zero.until(lambda st: len(st.received) >= 8, what="replay from 1")
        assert [u.fill.slot for u in from_zero.updates[1:]] == list(range(1, 8))
        await from_zero.close()
        new = await watching(s.notify_stub, watch_request("c1"))
        await buy(s.buy_stub, "alice")
        await new.until_slot(8)
        assert new.slots() == [8] and new.updates[0].snapshot.head == 7
        await new.close()


async def test_nats_sigkilled_mid_run_watchers_poll_then_events_resume(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)

    async with stack(url, nats_server.url) as s:
        await open_world(s.buy_stub)
        stream = await watching(s.notify_stub, watch_request("c1"))
        returned: dict[int, float] = {}

        async def one_buy() -> int:
            bought = await buy(s.buy_stub, "alice")
            returned[bought.slot.slot] = bought.returned
            await stream.until_slot(bought.slot.slot, timeout_s=LIVENESS_S + 3)
            return bought.slot.slot

        for _ in range(3):
            await one_buy()
        assert sources(stream, range(1, 4)) == ["event"] * 3

        port = nats_server.port
        nats_server.kill()  # SIGKILL: no goodbye to the clients
        outage_first = len(returned) + 1
        for _ in range(8):  # purchases go on; watchers learn of them by polling
            await one_buy()
            await asyncio.sleep(0.03)
        outage_last = len(returned)
        assert not s.notify.hub.events_trusted
        assert set(sources(stream, range(outage_first, outage_last + 1))) == {"poll"}

        nats_server.start()  # the same port: the clients reconnect by themselves
        assert nats_server.port == port
        assert s.purchase.node.wiring.link is not None
        await eventually(lambda: s.notify.hub.events_trusted, 15, "notify reconnected")
        await eventually(lambda: s.purchase.node.wiring.link is not None
                         and s.purchase.node.wiring.link.connected, 15, "purchase reconnected")
        for _ in range(20):  # the first fills may still come by the reconcile read
            if stream.fills()[-1].update.source == "event":
                break
            await one_buy()
            await asyncio.sleep(0.05)
        assert stream.fills()[-1].update.source == "event", sources(
            stream, range(1, len(returned) + 1))

        last = len(returned)
        assert stream.slots() == list(range(1, last + 1))  # none missed, none twice
        assert len(stream.received) == last + 1  # and no snapshot but the first
        arrived = {r.update.fill.slot: r.at for r in stream.fills()}
        late = {n: round(arrived[n] - returned[n], 3) for n in returned
                if arrived[n] - returned[n] > LIVENESS_S}
        assert late == {}, f"fills later than {LIVENESS_S} s after their Buy returned"
        await stream.close()
    assert await audit_url(url, quiescent=True) == []


async def test_a_nats_blip_shorter_than_a_poll_is_reconciled_too(tmp_path: Path,
                                                                 nats_server: NatsServer) -> None:
    """A connection dropped and re-made within one poll_ms (a network blip, a cluster
    failover): the events published meanwhile are lost to notify, so it must read the store
    once it is back, as after a long outage."""
    url = store_url(tmp_path)

    async with Proxy(nats_server.port) as proxy, \
            stack(url, nats_server.url, notify_nats_url=proxy.url, safety_ms=600_000) as s:
        await open_world(s.buy_stub)
        stream = await watching(s.notify_stub, watch_request("c1"))
        await buy(s.buy_stub, "alice")
        await stream.until_slot(1)
        link = s.notify.wiring.link
        assert link is not None and link.client is not None
        reconnects = link.client.stats["reconnects"]
        await asyncio.sleep(0.6)  # past nats-py's reconnect wait: it will retry at once
        store = await open_store(url)
        try:  # slot 2 as if its event went out while notify was away: no event at all
            assert isinstance(await Journal(store).buy("alice", "c1", MAX_MONEY), Bought)
        finally:
            await store.close()
        blip = time.monotonic()
        proxy.cut()
        await eventually(lambda: link.client is not None
                         and link.client.stats["reconnects"] > reconnects, 5, "reconnect")
        back = time.monotonic() - blip
        await stream.until_slot(2, timeout_s=LIVENESS_S)
        assert stream.slots() == [1, 2]
        assert stream.fills()[-1].update.source == "poll"
        assert back < 1, back  # a blip indeed (not what this test is about)
        await stream.close()


async def next_update(call: WatchCall) -> notify_pb2.WatchUpdate:
    update = await call.read()
    assert isinstance(update, notify_pb2.WatchUpdate), "the stream ended"
    return update


def _update(slot: int) -> bytes:
    return notify_pb2.WatchUpdate(fill=types_pb2.FilledSlot(campaign_id="c1", slot=slot),
                                  source="event").SerializeToString()


async def _next(watcher: Watcher) -> notify_pb2.WatchUpdate:
    return notify_pb2.WatchUpdate.FromString(await watcher.next())


def _snapshot(cid: str) -> notify_pb2.WatchUpdate:
    update = notify_pb2.WatchUpdate(source="snapshot")
    update.snapshot.campaign.campaign_id = cid
    update.snapshot.head = 99
    return update


async def test_a_watcher_that_falls_behind_gets_a_snapshot_then_is_closed() -> None:
    watcher = Watcher(["c1"], _snapshot, queue_size=4)
    for n in range(1, 5):
        watcher.offer(_update(n))
    assert [(await _next(watcher)).fill.slot for _ in range(2)] == [1, 2]
    for n in range(5, 8):  # the queue holds 3, 4, 5, 6; 7 overflows it
        watcher.offer(_update(n))
    assert watcher.resyncs == 1 and watcher.closed is None
    resync = await _next(watcher)  # the backlog is gone: one fresh snapshot instead
    assert resync.WhichOneof("update") == "snapshot" and resync.snapshot.head == 99

    # Caught up (queue drained): the next overflow is a fresh start, another snapshot.
    for n in range(8, 13):
        watcher.offer(_update(n))
    assert watcher.resyncs == 2 and watcher.closed is None
    assert (await _next(watcher)).WhichOneof("update") == "snapshot"

    # Overflowing again before the snapshot's backlog is drained closes the watcher.
    for n in range(13, 18):  # 17 overflows: snapshot
        watcher.offer(_update(n))
    assert watcher.resyncs == 3
    for n in range(18, 21):  # the snapshot, 18, 19, 20: full
        watcher.offer(_update(n))
    assert (await _next(watcher)).WhichOneof("update") == "snapshot"
    assert (await _next(watcher)).fill.slot == 18  # 19, 20 still queued: not caught up
    for n in range(21, 24):  # 23 overflows again
        watcher.offer(_update(n))
    assert watcher.closed is not None and watcher.resyncs == 3
    with pytest.raises(FellBehind):
        await watcher.next()
    watcher.offer(_update(24))  # a closed watcher takes nothing more
    assert watcher.backlog == 0


async def test_a_watcher_overflowing_twice_in_a_row_fell_behind() -> None:
    watcher = Watcher(["c1", "c2"], _snapshot, queue_size=3)
    for n in range(1, 5):  # the fourth overflows: both campaigns' snapshots instead
        watcher.offer(_update(n))
    assert watcher.resyncs == 1
    for n in range(5, 7):  # the snapshots never read: overflow again
        watcher.offer(_update(n))
    assert watcher.closed is not None
    with pytest.raises(FellBehind):
        await watcher.next()


async def test_a_watcher_that_never_reads_holds_up_no_one(tmp_path: Path,
                                                          nats_server: NatsServer) -> None:
    url = store_url(tmp_path)
    # A client that lets little pile up unread: no BDP probing (which would grow its window
    # to megabytes), a 4 KiB window per stream. Its stream blocks after ~100 updates.
    tight = [("grpc.use_local_subchannel_pool", 1), ("grpc.http2.bdp_probe", 0),
             ("grpc.http2.lookahead_bytes", 4096)]

    async with stack(url, nats_server.url) as s:
        await open_world(s.buy_stub)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{s.notify.port}", tight) as other:
            stuck = notify_pb2_grpc.NotifyServiceStub(other).Watch(watch_request("c1"))
            assert (await next_update(stuck)).WhichOneof("update") == "snapshot"
            reader = await watching(s.notify_stub, watch_request("c1"))
            feed = s.notify.hub.feeds["c1"]
            assert len(feed.watchers) == 2
            for _ in range(10):  # real purchases
                bought = await buy(s.buy_stub, "alice")
                await reader.until_slot(bought.slot.slot, timeout_s=LIVENESS_S)

            # Then more fills than the stuck stream's window and queue hold together:
            # fill events for slots 11 to 1010, 100 at a time (notify takes an event for
            # head + 1 as it is, so these need no store).
            for first in range(11, 1011, 100):
                await publish(nats_server.url, [
                    types_pb2.FilledSlot(campaign_id="c1", slot=n, buyer_id="alice",
                                         price=n) for n in range(first, first + 100)])
                await reader.until_slot(first + 99, timeout_s=LIVENESS_S)
            assert reader.slots() == list(range(1, 1011))
            assert len(reader.received) == 1011  # never a catch-up snapshot

            # The stuck watcher got a snapshot instead of its backlog, fell behind again,
            # and was closed: what it holds on the server stays bounded all along.
            slow = [w for w in feed.watchers if w.closed is not None]
            assert len(slow) == 1 and slow[0].resyncs == 1
            assert slow[0].backlog <= 1
            # Reading at last: what fitted in flow control, in order, then the refusal.
            late: list[int] = []
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                while True:
                    update = await asyncio.wait_for(next_update(stuck), LIVENESS_S)
                    assert update.WhichOneof("update") == "fill"
                    late.append(update.fill.slot)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert 0 < len(late) < 1010 and late == list(range(1, len(late) + 1))
            await eventually(lambda: len(feed.watchers) == 1, what="the stuck one gone")
            await reader.close()


async def test_bad_watch_requests_are_refused(tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s:
        await open_world(s.buy_stub)
        stub = s.notify_stub

        async def watch_code(request: notify_pb2.WatchRequest) -> grpc.StatusCode:
            call = stub.Watch(request)
            try:
                await call.read()
            except grpc.aio.AioRpcError as exc:
                return exc.code()
            call.cancel()
            return grpc.StatusCode.OK

        Code = grpc.StatusCode
        many = [f"c{n}" for n in range(101)]
        assert await watch_code(watch_request()) == Code.INVALID_ARGUMENT
        assert await watch_code(watch_request(*many)) == Code.INVALID_ARGUMENT
        assert await watch_code(watch_request("c1", "c1")) == Code.INVALID_ARGUMENT
        for bad in ["", "a b", "a.b", "a*", "x" * 65, "a:b", "\u00e9"]:
            assert await watch_code(watch_request(bad)) == Code.INVALID_ARGUMENT, bad
            assert await watch_code(watch_request("c1", bad)) == Code.INVALID_ARGUMENT
        assert await watch_code(watch_request("nope")) == Code.NOT_FOUND
        assert await watch_code(watch_request("c1", "nope")) == Code.NOT_FOUND
        assert await watch_code(watch_request("c1")) == Code.OK

        get = stub.GetCampaign
        assert await code_of(get(types_pb2.GetCampaignRequest(campaign_id="a.b"))) == \
            Code.INVALID_ARGUMENT
        assert await code_of(get(types_pb2.GetCampaignRequest(campaign_id="nope"))) == \
            Code.NOT_FOUND
        assert "nope" not in s.notify.hub.feeds  # an unknown campaign is not kept


def _price_from(view: types_pb2.CampaignView) -> int:
    """The price the view's curve gives at its as_of_ms."""
    last = view.curve.last
    campaign = Campaign(view.campaign.owner_id, view.curve.min_price, view.campaign.slot_seconds,
                        view.head, Purchase(last.slot, last.price, last.bought_at_ms,
                                            last.start_ms, last.end_ms)
                        if view.curve.HasField("last") else None)
    return price_at(campaign, view.as_of_ms)


@pytest.mark.parametrize("events", [True, False], ids=["events", "polling"])
async def test_get_campaign_on_notify_agrees_with_the_purchase_service(
        tmp_path: Path, nats_server: NatsServer, events: bool) -> None:
    async with stack(store_url(tmp_path), nats_server.url if events else None) as s:
        await open_world(s.buy_stub, min_price=10, slot_seconds=60)
        stream = await watching(s.notify_stub, watch_request("c1"))

        async def compare(head: int) -> None:
            if head:
                await stream.until_slot(head)
            if not events:  # what notify says may be up to one poll old
                await asyncio.sleep(0.25)
            request = types_pb2.GetCampaignRequest(campaign_id="c1")
            before = await s.buy_stub.GetCampaign(request)
            view = await s.notify_stub.GetCampaign(request)
            after = await s.buy_stub.GetCampaign(request)
            assert before.head == view.head == after.head == head
            assert before.campaign == view.campaign
            assert before.curve == view.curve
            assert before.current_slot == view.current_slot
            assert before.current_filler == view.current_filler
            # The price falls with time: notify's is the curve's at its as_of_ms, between
            # the purchase service's before and after.
            assert before.as_of_ms <= view.as_of_ms <= after.as_of_ms
            assert view.current_price == _price_from(view)
            assert before.current_price == _price_from(before)
            assert before.current_price >= view.current_price >= after.current_price

        await compare(0)
        await buy(s.buy_stub, "alice")
        await compare(1)
        await buy(s.buy_stub, "alice")
        await buy(s.buy_stub, "alice")
        await compare(3)
        await stream.close()
