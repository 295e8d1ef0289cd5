"""One purchase from the browser is one trace: the gateway's HTTP request span, its gRPC
client span under it, and purchase's server span and journal steps under that (the gateway
sends the W3C traceparent in the call's metadata). Real processes export by OTLP/gRPC to the
test's collector."""

from __future__ import annotations

from pathlib import Path

from tests._support.waiting import wait_for
from tests.tracing._collector import (
    CLIENT,
    SERVER,
    Collector,
    ReceivedSpan,
    otel_env,
    wait_for_trace,
)

from ._http import Visitor
from ._system import running_system

BUY = "/abc.v1.PurchaseService/Buy"
ROUTE = "POST /campaigns/{campaign_id}/buy"


def _one(spans: list[ReceivedSpan], **want: object) -> ReceivedSpan:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in want.items())]
    assert len(found) == 1, (want, [(s.service, s.name) for s in spans])
    return found[0]


def test_a_purchase_from_the_browser_is_one_trace(tmp_path: Path) -> None:
    collector = Collector().start()
    try:
        _buy_and_check_the_trace(tmp_path, collector)
    finally:
        collector.stop()


def _buy_and_check_the_trace(tmp_path: Path, collector: Collector) -> None:
    with running_system(tmp_path, otel_env(collector.endpoint)) as system, \
            Visitor(system.url) as seller, Visitor(system.url) as buyer:
        seller.sign_up("sid")
        assert seller.open_campaign("traced", 10).status_code == 303
        buyer.sign_up("tom")
        system.deposit("tom", 100, "d1")
        assert buyer.buy("traced", 10).status_code == 303

        def request_span() -> ReceivedSpan | None:
            found = [s for s in collector.spans() if s.name == ROUTE]
            return found[0] if found else None

        http = wait_for(request_span, "the gateway's span of the buy request", 10)
        trace = wait_for_trace(collector, http.trace_id, {ROUTE, BUY, "buy.intent",
                                                          "finish_slot"})
    assert (http.service, http.kind, http.parent_span_id) == ("abc-gateway", SERVER, "")
    assert http.attributes["http.response.status_code"] == 303
    call = trace.child(http, BUY)
    assert (call.service, call.kind) == ("abc-gateway", CLIENT)
    assert call.attributes["rpc.grpc.status_code"] == 0
    served = trace.child(call, BUY)
    assert (served.service, served.kind) == ("abc-purchase", SERVER)
    assert trace.one("buy.intent").service == "abc-purchase"
    assert trace.orphans() == []
