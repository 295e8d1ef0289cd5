"""The live parts' metrics as deployed: ``abc serve gateway`` (in a whole system of real
processes) exports them by OTLP/gRPC to the test's collector, and they say what happened:
the SSE clients connected (and gone), one notify Watch for them all, a fan-out lag per
client written to."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import httpx

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.journal import MAX_MONEY
from tests._support.waiting import wait_for
from tests.tracing._collector import Collector, ReceivedMetric, otel_env

from ._live_support import sse
from ._system import System, running_system

CLIENTS = 3


def _latest(collector: Collector, name: str) -> ReceivedMetric | None:
    found = [m for m in collector.metrics()
             if m.service == "abc-gateway" and m.name == name and m.points]
    return found[-1] if found else None


def _until(collector: Collector, name: str, total: float) -> ReceivedMetric:
    def reached() -> ReceivedMetric | None:
        metric = _latest(collector, name)
        return metric if metric is not None and metric.total >= total else None
    return wait_for(reached, f"{name} at {total} or more", 15)


def test_the_gateway_exports_its_live_metrics(tmp_path: Path) -> None:
    collector = Collector().start()
    try:
        with running_system(tmp_path, otel_env(collector.endpoint)) as system:
            _world(system)
            asyncio.run(_watch_and_buy(system, collector))
    finally:
        collector.stop()


def _world(system: System) -> None:
    with grpc.insecure_channel(system.purchase) as channel:
        stub = purchase_pb2_grpc.PurchaseServiceStub(channel)
        for uid in ("owner", "buyer"):
            stub.CreateAccount(pb.CreateAccountRequest(user_id=uid),
                               metadata=system.gateway_metadata, timeout=10)
        stub.CreateCampaign(pb.CreateCampaignRequest(campaign_id="m1", owner_id="owner",
                                                     min_price=1, slot_seconds=60),
                            metadata=system.gateway_metadata, timeout=10)
    system.deposit("buyer", 10**9, "d1")


async def _watch_and_buy(system: System, collector: Collector) -> None:
    async with httpx.AsyncClient(base_url=system.url, timeout=10) as client:
        viewers = [await sse(client, "m1") for _ in range(CLIENTS)]
        async with grpc.aio.insecure_channel(system.purchase) as channel:
            await purchase_pb2_grpc.PurchaseServiceStub(channel).Buy(
                pb.BuyRequest(user_id="buyer", campaign_id="m1", max_price=MAX_MONEY),
                metadata=system.gateway_metadata, timeout=10)
        for viewer in viewers:
            await viewer.until_slot(1)
        clients = await asyncio.to_thread(_until, collector, "abc.gateway.sse_clients",
                                          CLIENTS)
        assert (clients.data, clients.total) == ("sum", CLIENTS)
        watches = await asyncio.to_thread(_until, collector, "abc.gateway.watches", 1)
        assert watches.total == 1  # one Watch for all the clients
        lag = await asyncio.to_thread(_until, collector, "abc.gateway.fanout_lag", CLIENTS)
        assert (lag.data, lag.total) == ("histogram", CLIENTS)  # one per client written to
        for viewer in viewers:
            await viewer.close()
        left = await asyncio.to_thread(wait_for, lambda: _gone(collector),
                                       "the clients counted out", 15)
        assert left.total == 0


def _gone(collector: Collector) -> ReceivedMetric | None:
    metric = _latest(collector, "abc.gateway.sse_clients")
    return metric if metric is not None and metric.total == 0 else None
