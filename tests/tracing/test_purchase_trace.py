"""Every purchase is one trace, from the gateway to the watcher: real purchase and notify
processes export by OTLP/gRPC to the test's collector, the test plays the gateway. Each
protocol step is a span with its duration; a store operation that did not succeed (a lost
race here; in doubt in test_store_failure_trace.py) is an event on its step's span."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc

from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceStub
from services.lab.cluster import NatsServer, running
from tests._support.loop import run_blocking
from tests._support.processes import Service, service
from tests._support.waiting import wait_for
from tests._support.world import CALL_TIMEOUT_S, open_world, store_url

from ._calls import BALANCE, MIN_PRICE, buy_request, purchase_stub
from ._collector import (
    CLIENT,
    CONSUMER,
    ERROR,
    INTERNAL,
    PRODUCER,
    SERVER,
    UNSET,
    Collector,
    ReceivedSpan,
    Trace,
    otel_env,
    wait_for_trace,
)
from ._gateway import GATEWAY_SERVICE, Gateway, GatewayCall, Watching

BUY = "/abc.v1.PurchaseService/Buy"
STEPS = ("buy.intent", "buy.fill", "finish_slot", "finish.receipt", "finish.debit",
         "finish.advance")
PUBLISH = "abc.campaign.c1.fill publish"
RECEIVE = "abc.campaign.c1.fill receive"


def _purchase_and_notify(tmp_path: Path, nats: NatsServer,
                         collector: Collector) -> tuple[Service, Service]:
    args = ["--store", store_url(tmp_path), "--nats-url", nats.url]
    env = otel_env(collector.endpoint)
    return (service("purchase", ["serve", "purchase", *args], tmp_path, env),
            service("notify", ["serve", "notify", *args], tmp_path, env))


def _check_steps(trace: Trace, parent: ReceivedSpan, steps: set[str],
                 others: frozenset[str] = frozenset()) -> None:
    """``parent``'s children are the spans ``steps`` and ``others``, each step within its
    parent's time (the fill event is published after its finish_slot, by the publisher)."""
    children = trace.children(parent)
    assert {s.name for s in children} == steps | others, [s.name for s in children]
    for step in (s for s in children if s.name in steps):
        assert parent.start_ns <= step.start_ns < step.end_ns <= parent.end_ns, step


def test_a_purchase_is_one_trace_from_gateway_to_watcher(
    tmp_path: Path, nats_server: NatsServer, collector: Collector, gateway: Gateway,
) -> None:
    purchase, notify = _purchase_and_notify(tmp_path, nats_server, collector)
    # SIGTERM at the end, with time to export what the processes buffered on the way out.
    with running(purchase, notify, grace_s=10), \
            grpc.insecure_channel(purchase.address) as channel:
        # Both on NATS first, so the fill reaches notify as an event, not by polling.
        purchase.wait_logged("connected to NATS")
        notify.wait_logged("subscribed to abc.campaign.*.fill")
        stub = purchase_stub(channel)
        run_blocking(open_world(purchase.address, buyers=["alice"], campaigns=["c1"],
                                funds=BALANCE, min_price=MIN_PRICE))
        watching = Watching(notify.address, "c1")
        try:
            assert watching.next().WhichOneof("update") == "snapshot"
            with gateway.span("gateway Buy") as call:
                stub.Buy(buy_request("alice", "c1"), metadata=call.metadata,
                         timeout=CALL_TIMEOUT_S)
            update = watching.next()
        finally:
            watching.close()
        assert (update.fill.slot, update.source) == (1, "event")
        trace = wait_for_trace(collector, call.trace_id,
                               {"gateway Buy", BUY, *STEPS, PUBLISH, RECEIVE, "notify.fanout"})
    _check_purchase_trace(trace, call)
    _check_watcher_part(trace)
    durations = wait_for(lambda: [m for m in collector.metrics()
                                  if m.name == "abc.purchase.duration" and m.total > 0] or None,
                         "abc.purchase.duration")
    assert {(m.service, m.data) for m in durations} == {("abc-purchase", "histogram")}


def _check_purchase_trace(trace: Trace, call: GatewayCall) -> None:
    assert not trace.orphans(), [(s.service, s.name) for s in trace.orphans()]
    (root,) = trace.roots()
    assert (root.name, root.span_id, root.service, root.kind) == (
        "gateway Buy", call.span_id, GATEWAY_SERVICE, CLIENT)
    assert {s.service for s in trace.spans} == {GATEWAY_SERVICE, "abc-purchase", "abc-notify"}
    server = trace.child(root, BUY)
    assert (server.service, server.kind) == ("abc-purchase", SERVER)
    assert server.attributes["rpc.method"] == "Buy"
    assert server.attributes["rpc.grpc.status_code"] == 0
    assert server.resource["service.instance.id"]
    _check_steps(trace, server, {"buy.intent", "buy.fill", "finish_slot"})
    intent, fill, finish = (trace.child(server, name)
                            for name in ("buy.intent", "buy.fill", "finish_slot"))
    for step in (intent, fill, finish):
        assert (step.service, step.kind) == ("abc-purchase", INTERNAL)
        assert (step.attributes["abc.campaign"], step.attributes["abc.slot"]) == ("c1", 1)
    assert intent.attributes["abc.user"] == "alice"
    assert finish.links == ()  # its slot's trace context is this very trace: no link to self
    assert intent.end_ns <= fill.start_ns and fill.end_ns <= finish.start_ns  # in order
    _check_steps(trace, finish, {"finish.receipt", "finish.debit", "finish.advance"},
                 frozenset({PUBLISH}))
    debit = trace.child(finish, "finish.debit")
    assert (debit.attributes["abc.user"], debit.attributes["abc.price"]) == ("alice", 10)
    for name in ("buy.intent", "buy.fill", "finish.receipt", "finish.debit", "finish.advance"):
        assert trace.children(trace.one(name)) == [], name  # store operations are no spans
    for span in trace.spans:
        assert span.status != ERROR, span
        if span.service == "abc-purchase":
            assert span.events == (), span  # no store operation failed, no race lost


def _check_watcher_part(trace: Trace) -> None:
    finish = trace.one("finish_slot")
    publish = trace.child(finish, PUBLISH)
    assert (publish.service, publish.kind) == ("abc-purchase", PRODUCER)
    assert publish.attributes["messaging.system"] == "nats"
    assert publish.attributes["messaging.destination.name"] == "abc.campaign.c1.fill"
    receive = trace.child(publish, RECEIVE)
    assert (receive.service, receive.kind) == ("abc-notify", CONSUMER)
    assert receive.attributes["abc.slot"] == 1
    assert receive.resource["service.name"] == "abc-notify"
    fanout = trace.child(receive, "notify.fanout")
    assert fanout.service == "abc-notify"
    assert (fanout.attributes["abc.campaign"], fanout.attributes["abc.slot"],
            fanout.attributes["abc.watchers"], fanout.attributes["abc.source"]) == (
        "c1", 1, 1, "event")


BUYERS = [f"u{i}" for i in range(6)]
RACE_ROUNDS = 5
INTENT_RACE_ROUNDS = 20  # a CAS lost between two processes needs a read in a ~100 us window
Order = tuple[str, str]  # (user, campaign)
Result = tuple[GatewayCall, grpc.StatusCode]


def _race(stubs: list[PurchaseServiceStub], gateway: Gateway,
          orders: list[Order]) -> list[Result]:
    """Every order at once, each Buy under its own gateway span, spread over the purchase
    processes (one process runs its purchases one at a time: its sqlite store never makes a
    purchase wait, so races are between processes)."""
    start = threading.Barrier(len(orders))
    results: list[Result] = []

    def buy(stub: PurchaseServiceStub, uid: str, cid: str) -> None:
        with gateway.span("gateway Buy") as call:
            start.wait(5)
            try:
                stub.Buy(buy_request(uid, cid), metadata=call.metadata, timeout=CALL_TIMEOUT_S)
                code = grpc.StatusCode.OK
            except grpc.RpcError as exc:
                assert isinstance(exc, grpc.Call)
                code = exc.code()
        results.append((call, code))

    threads = [threading.Thread(target=buy, args=(stubs[i % len(stubs)], *order))
               for i, order in enumerate(orders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CALL_TIMEOUT_S + 5)
    assert len(results) == len(orders)
    return results


def _exported(collector: Collector, results: list[Result]) -> list[Trace]:
    """The purchase side of every raced call's trace, once all of them are exported."""
    return [wait_for_trace(collector, call.trace_id, {"gateway Buy", BUY})
            for call, _ in results]


@contextlib.contextmanager
def _racing_purchase(tmp_path: Path, collector: Collector, buyers: list[str],
                     campaigns: list[str]) -> Iterator[list[PurchaseServiceStub]]:
    """Two purchase processes on one sqlite file, a stub for each."""
    with contextlib.ExitStack() as stack:
        stubs = []
        for name in ("purchase", "purchase-2"):
            process = service(name, ["serve", "purchase", "--store", store_url(tmp_path)],
                              tmp_path, otel_env(collector.endpoint))
            stack.enter_context(running(process, grace_s=10))
            channel = stack.enter_context(grpc.insecure_channel(process.address))
            stubs.append(purchase_stub(channel))
            if len(stubs) == 1:
                run_blocking(open_world(process.address, buyers=buyers, campaigns=campaigns,
                                        funds=BALANCE, min_price=MIN_PRICE))
        yield stubs


def test_a_lost_fill_race_is_an_exists_event_on_the_losers_fill(
    tmp_path: Path, collector: Collector, gateway: Gateway,
) -> None:
    campaigns = [f"r{i}" for i in range(RACE_ROUNDS)]
    with _racing_purchase(tmp_path, collector, BUYERS, campaigns) as stubs:
        for cid in campaigns:  # racing is nondeterministic: race until someone loses
            results = _race(stubs, gateway, [(uid, cid) for uid in BUYERS])
            assert {code for _, code in results} <= {grpc.StatusCode.OK,
                                                     grpc.StatusCode.ABORTED}
            lost = [call for call, code in results if code == grpc.StatusCode.ABORTED]
            if lost:
                break
        assert lost, f"no buyer lost a race in {RACE_ROUNDS} rounds"
        for call in lost:
            _check_lost_fill(wait_for_trace(collector, call.trace_id,
                                            {"gateway Buy", BUY, "buy.fill", "buy.rollback"}),
                             cid)


def _check_lost_fill(trace: Trace, cid: str) -> None:
    assert not trace.orphans(), [(s.service, s.name) for s in trace.orphans()]
    server = trace.one(BUY)
    assert server.attributes["rpc.grpc.status_code"] == grpc.StatusCode.ABORTED.value[0]
    fill = trace.child(server, "buy.fill")
    slot = fill.attributes["abc.slot"]
    assert isinstance(slot, int)
    key = f"slot:{cid}:{slot}"
    # A refusal is the server answering, not failing (OpenTelemetry's gRPC conventions): no
    # ERROR status; its details as the caller got them (not the AbortError behind them).
    assert server.status == UNSET, server.status_message
    message = server.attributes["abc.status_message"]
    assert str(message).startswith(f"slot {slot} was taken; the next costs "), message
    # Losing is how the protocol learns the slot is taken, not a failure of the step: an
    # event on it says which operation on which key, how long it took, and what it found.
    assert fill.status == UNSET, fill.status_message
    assert [e.name for e in fill.events] == ["store.insert"]
    lost = fill.event("store.insert").attributes
    assert (lost["abc.key"], lost["abc.outcome"]) == (key, "exists")
    duration = lost["abc.duration_us"]
    assert isinstance(duration, int) and 0 <= duration * 1000 <= fill.duration_ns
    # The loser settles its own lock from the commit key: rolled back, under its own call.
    assert trace.child(server, "buy.rollback")


def test_a_lost_intent_race_is_a_cas_mismatch_event_on_the_losers_intent(
    tmp_path: Path, collector: Collector, gateway: Gateway,
) -> None:
    """One buyer, several purchases at once: one intent takes the lock, a CAS that read the
    account before that loses."""
    rounds = [[f"k{r}-{i}" for i in range(4)] for r in range(INTENT_RACE_ROUNDS)]
    campaigns = [cid for round_ in rounds for cid in round_]  # fresh ones each round: min price
    with _racing_purchase(tmp_path, collector, ["alice"], campaigns) as stubs:
        for round_ in rounds:
            results = _race(stubs, gateway, [("alice", cid) for cid in round_])
            lost = [t for t in _exported(collector, results) if _lost_intent(t) is not None]
            if lost:
                break
        assert lost, f"no intent lost its CAS in {INTENT_RACE_ROUNDS} rounds"
    for trace in lost:
        assert not trace.orphans(), [(s.service, s.name) for s in trace.orphans()]
        intent = _lost_intent(trace)
        assert intent is not None
        replace = intent.event("store.replace").attributes
        assert (replace["abc.key"], replace["abc.outcome"]) == ("user:alice", "cas mismatch")
        assert intent.status == UNSET, intent.status_message


def _lost_intent(trace: Trace) -> ReceivedSpan | None:
    """A buy.intent step whose CAS of the user lost, if any."""
    for intent in (s for s in trace.spans if s.name == "buy.intent"):
        assert intent.attributes["abc.user"] == "alice"
        if intent.events:
            return intent
    return None


def test_a_call_the_gateway_did_not_sample_exports_nothing(
    tmp_path: Path, collector: Collector, gateway: Gateway,
) -> None:
    """The gateway's sampling decision holds all the way down: a Buy under an unsampled
    traceparent (flags 00) yields no span at all, not the server's or a step's; the sampled
    purchase after it is whole."""
    with _racing_purchase(tmp_path, collector, ["alice"], ["c1", "c2"]) as (stub, _):
        dropped = "4bf92f3577b34da6a3ce929d0e0e4736"
        stub.Buy(buy_request("alice", "c1"), timeout=CALL_TIMEOUT_S,
                 metadata=(("traceparent", f"00-{dropped}-00f067aa0ba902b7-00"),))
        with gateway.span("gateway Buy") as call:
            stub.Buy(buy_request("alice", "c2"), metadata=call.metadata, timeout=CALL_TIMEOUT_S)
        # Exported in order: once the second purchase's trace is in, the first's would be.
        sampled = wait_for_trace(collector, call.trace_id, {"gateway Buy", BUY, *STEPS})
    assert not sampled.orphans()
    assert collector.trace(dropped) == []
