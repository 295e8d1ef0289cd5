"""``abc up --otlp URL`` (the README's way to Jaeger): every service it starts exports to
that collector, so one purchase through it is one trace across purchase and notify."""

from __future__ import annotations

from pathlib import Path

import grpc

from services.lab.cluster import free_port
from tests._support.loop import run_blocking
from tests._support.processes import abc, reaped, wait_logged, wait_serving
from tests._support.world import CALL_TIMEOUT_S, open_world

from ._calls import BALANCE, MIN_PRICE, buy_request, purchase_stub
from ._collector import Collector, wait_for_trace
from ._gateway import Gateway, Watching

BUY = "/abc.v1.PurchaseService/Buy"


def test_abc_up_otlp_exports_from_every_service(tmp_path: Path, collector: Collector,
                                                gateway: Gateway) -> None:
    purchase, notify = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    data, log = tmp_path / "data", tmp_path / "up.log"
    up = abc(["up", "--data", str(data), "--purchase-listen", purchase, "--notify-listen", notify,
              "--recovery-replicas", "0", "--otlp", collector.endpoint], log,
             {"OTEL_BSP_SCHEDULE_DELAY": "100"}, new_group=True)  # spans out within ~100 ms
    with reaped(up, group=True):
        wait_serving(purchase, up, log)
        wait_serving(notify, up, log)
        wait_logged(data / "logs" / "purchase.log", "connected to NATS")
        wait_logged(data / "logs" / "notify.log", "subscribed to abc.campaign.*.fill")
        run_blocking(open_world(purchase, buyers=["alice"], campaigns=["c1"], funds=BALANCE,
                                min_price=MIN_PRICE))
        with grpc.insecure_channel(purchase) as channel:
            stub = purchase_stub(channel)
            watching = Watching(notify, "c1")
            try:
                assert watching.next().WhichOneof("update") == "snapshot"
                with gateway.span("gateway Buy") as call:
                    stub.Buy(buy_request("alice", "c1"), metadata=call.metadata,
                             timeout=CALL_TIMEOUT_S)
                assert watching.next().fill.slot == 1
            finally:
                watching.close()
        # Every span whose parent another one names, so the parents are all in by then.
        trace = wait_for_trace(collector, call.trace_id, {
            "gateway Buy", BUY, "finish_slot", "abc.campaign.c1.fill publish",
            "abc.campaign.c1.fill receive", "notify.fanout"})
    assert {s.service for s in trace.spans} >= {"abc-purchase", "abc-notify"}
    assert not trace.orphans(), [(s.service, s.name) for s in trace.orphans()]
