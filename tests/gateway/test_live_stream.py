"""The live updates against a real purchase and notify (real gRPC over TCP, a real
nats-server) through the gateway's SSE route on a real uvicorn: one notify Watch per campaign
however many browsers watch it, each fill to every one of them, a client too slow to read
dropped while the others go on, a reconnect with Last-Event-ID replayed what it missed, the
Watch let go once nobody watches."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import notify_pb2_grpc
from services.gateway import GatewayConfig
from services.gateway._backends import open_channel
from services.lab.cluster import NatsServer
from services.notify import NotifyConfig, start_notify
from services.runtime import ServerConfig, Tokens
from tests._support.waiting import eventually
from tests._support.world import KITES, open_world, store_url
from tests.notify._support import buy, stack, watch_request

from ._live_support import QUICK, buy_with_ad, live_gateway, sse

pytestmark = pytest.mark.asyncio

VIEWERS = 20


async def test_many_viewers_cost_one_watch_and_each_gets_every_fill(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub, filler=KITES)
        viewers = [await sse(client) for _ in range(VIEWERS)]
        for viewer in viewers:
            assert viewer.status == 200
            await viewer.until(lambda v: v.kinds() == ["snapshot"], what="the snapshot")
        assert len(s.notify.hub.feeds["c1"].watchers) == 1  # notify's own count
        bought = await buy(s.buy_stub, "alice")
        await asyncio.gather(*(v.until_slot(1) for v in viewers))
        for viewer in viewers:
            fill = viewer.fill(1)
            assert fill.id == "1"
            assert fill.data["buyer_id"] == "alice"
            assert fill.data["price"] == bought.slot.price
        assert len(s.notify.hub.feeds["c1"].watchers) == 1
        for viewer in viewers:
            await viewer.close()
        await eventually(lambda: not s.notify.hub.feeds["c1"].watchers, 5,
                         "the Watch let go after the last viewer left")


async def test_a_client_too_slow_to_read_is_dropped_while_the_others_go_on(
        tmp_path: Path, nats_server: NatsServer) -> None:
    settings = dataclasses.replace(QUICK, queue_size=4)
    async with stack(store_url(tmp_path), nats_server.url) as s, \
            live_gateway(s, settings) as gw, gw.client() as client:
        await open_world(s.buy_stub, filler=KITES)
        reader = await sse(client)
        stalled = await gw.hub.subscribe("c1")  # its snapshot queued; nobody reads it
        watch = gw.hub.watch_of("c1")
        assert watch is not None and stalled in watch.subscribers
        for n in range(1, 6):
            await buy_with_ad(s.buy_stub)
            await reader.until_slot(n)
        assert stalled.dropped and stalled.closed
        assert stalled not in watch.subscribers
        assert await stalled.next() is None  # its backlog let go, its stream told to end
        assert reader.slots() == [1, 2, 3, 4, 5] and not reader.ended
        await buy_with_ad(s.buy_stub)
        await reader.until_slot(6)


async def test_a_reconnect_with_last_event_id_gets_just_the_fills_it_missed(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub, filler=KITES)
        first = await sse(client)
        await buy_with_ad(s.buy_stub)
        await first.until_slot(1)
        await first.close()
        keeps = await sse(client)  # keeps the Watch (and its ring) while the first is away
        for _ in range(2):
            await buy_with_ad(s.buy_stub)
        await keeps.until_slot(3)

        back = await sse(client, last_event_id=1)
        await back.until_slot(3)
        assert back.kinds() == ["fill", "fill"] and back.slots() == [2, 3]
        assert [e.id for e in back.events] == ["2", "3"]
        assert back.fill(3).data["filler"]["text"] == KITES.text

        page = await sse(client, after=1)  # a page that rendered slot 1: snapshot, then 2, 3
        await page.until_slot(3)
        assert page.kinds() == ["snapshot", "fill", "fill"]
        assert page.events[0].data["head"] == 3 and page.events[0].id == "3"

        current = await sse(client, last_event_id=3)  # saw everything: nothing to send
        await buy_with_ad(s.buy_stub)
        await current.until_slot(4)
        assert current.kinds() == ["fill"]


async def test_a_reconnect_from_before_the_ring_gets_a_snapshot(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, \
            live_gateway(s, dataclasses.replace(QUICK, ring=2)) as gw, gw.client() as client:
        await open_world(s.buy_stub, filler=KITES)
        keeps = await sse(client)
        for _ in range(4):
            await buy_with_ad(s.buy_stub)
        await keeps.until_slot(4)
        late = await sse(client, last_event_id=1)  # slots 2 and 3 are no longer kept
        await late.until(lambda c: len(c.events) >= 1, what="a snapshot")
        assert late.kinds() == ["snapshot"] and late.events[0].data["head"] == 4


async def test_a_fill_says_what_the_slot_shows_and_the_price_after_it(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub, filler=KITES, min_price=10)
        viewer = await sse(client)
        await viewer.until(lambda v: len(v.events) >= 1, what="the snapshot")
        snapshot = viewer.events[0].data
        assert (snapshot["head"], snapshot["current"], snapshot["upcoming"]) == (0, None, [])
        assert snapshot["curve"] == {"min_price": 10, "last": None}
        assert snapshot["current_price"] == 10
        slot = await buy_with_ad(s.buy_stub)
        await viewer.until_slot(1)
        fill = viewer.fill(1).data
        assert {k: fill[k] for k in ("campaign_id", "slot", "void", "buyer_id", "price",
                                     "bought_at_ms", "start_ms", "end_ms")} == {
            "campaign_id": "c1", "slot": 1, "void": False, "buyer_id": "alice",
            "price": slot.price, "bought_at_ms": slot.bought_at_ms, "start_ms": slot.start_ms,
            "end_ms": slot.end_ms}
        assert fill["filler"] == {"text": KITES.text, "link": KITES.link, "image_url": "",
                                  "width": 0, "height": 0}
        assert fill["curve"] == {"min_price": 10, "last": {
            "price": slot.price, "bought_at_ms": slot.bought_at_ms, "end_ms": slot.end_ms}}
        assert 10 <= fill["current_price"] <= 2 * slot.price
        assert gw.hub.fillers.reads == 1
        again = await sse(client)  # a second viewer: the ad from the hub, no GetFiller
        await again.until(lambda v: len(v.events) >= 1, what="the snapshot")
        assert again.events[0].data["current"]["filler"]["text"] == KITES.text
        assert gw.hub.fillers.reads == 1


async def test_unknown_campaigns_and_bad_resume_points_are_refused(
        tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, live_gateway(s) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub)
        assert (await client.get("/campaigns/nope/events")).status_code == 404
        assert (await client.get("/campaigns/bad%20id/events")).status_code == 404
        assert (await client.get("/campaigns/c1/events?after=x")).status_code == 400
        assert "nope" not in gw.hub.watched
        ok = await sse(client, last_event_id=None)
        assert ok.status == 200


async def test_a_watch_on_the_apps_channel_carries_the_gateway_token(tmp_path: Path) -> None:
    tokens = Tokens.parse("gateway:the-token")
    node = await start_notify(NotifyConfig(store_url(tmp_path), None, ServerConfig(
        listen="127.0.0.1:0", tokens=tokens)))
    try:
        for token, code in (("the-token", grpc.StatusCode.NOT_FOUND),
                            ("wrong", grpc.StatusCode.UNAUTHENTICATED)):
            channel = open_channel(f"127.0.0.1:{node.port}", GatewayConfig(token=token))
            try:
                call = notify_pb2_grpc.NotifyServiceStub(channel).Watch(watch_request("nope"))
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call.read()
                assert refused.value.code() == code, token
            finally:
                await channel.close(None)
    finally:
        await node.stop(grace_s=0.5)


async def test_a_quiet_stream_gets_heartbeats(tmp_path: Path, nats_server: NatsServer) -> None:
    async with stack(store_url(tmp_path), nats_server.url) as s, \
            live_gateway(s, dataclasses.replace(QUICK, heartbeat_s=0.1)) as gw, \
            gw.client() as client:
        await open_world(s.buy_stub)
        async with client.stream("GET", "/campaigns/c1/events") as response:
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.headers["cache-control"] == "no-cache, no-transform"
            lines: list[str] = []
            async with asyncio.timeout(5):
                async for line in response.aiter_lines():
                    lines.append(line)
                    if lines.count(": heartbeat") == 2:
                        break
        assert lines[0] == "retry: 1000" and "event: snapshot" in lines
