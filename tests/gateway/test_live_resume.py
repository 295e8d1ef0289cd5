"""The hub's Watch when notify dies: a real notify process SIGKILLed and started again on its
port; the gateway's SSE streams stay open, the Watch resumes after the last slot it saw, and
every browser gets every slot once, in order, those sold while notify was down included."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import notify_pb2_grpc
from services.lab.cluster import NatsServer
from tests._support.processes import service
from tests._support.world import KITES, open_world, store_url
from tests.purchase._support import purchase_server

from ._live_support import buy_with_ad, gateway_on, sse

pytestmark = pytest.mark.asyncio


async def test_a_watch_broken_by_killing_notify_resumes_and_misses_nothing(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)
    notify = service("notify", ["serve", "notify", "--store", url, "--nats-url",
                                nats_server.url], tmp_path)
    async with purchase_server(url, nats_server.url) as purchase:
        await open_world(purchase.stub, filler=KITES)
        notify.start()
        try:
            await asyncio.to_thread(notify.wait_serving)
            async with grpc.aio.insecure_channel(notify.address) as channel, \
                    gateway_on(notify_pb2_grpc.NotifyServiceStub(channel),
                               purchase.stub) as gw, gw.client() as client:
                viewers = [await sse(client) for _ in range(3)]
                for _ in range(2):
                    await buy_with_ad(purchase.stub)
                for viewer in viewers:
                    await viewer.until_slot(2)
                watch = gw.hub.watch_of("c1")
                assert watch is not None and watch.attempts == 1

                await asyncio.to_thread(notify.kill)  # SIGKILL: the Watch breaks
                for _ in range(2):  # sold while notify is down
                    await buy_with_ad(purchase.stub)
                notify.start()  # the same port
                await asyncio.to_thread(notify.wait_serving)
                await buy_with_ad(purchase.stub)

                for viewer in viewers:
                    await viewer.until_slot(5, timeout_s=15)
                    assert viewer.slots() == [1, 2, 3, 4, 5] and not viewer.ended
                    assert viewer.kinds() == ["snapshot"] + ["fill"] * 5
                assert gw.hub.watch_of("c1") is watch and watch.attempts >= 2
        finally:
            await asyncio.to_thread(notify.stop)
