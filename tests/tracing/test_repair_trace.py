"""A crashed purchase's repair links back to the purchase's trace: the purchase process dies
right after committing (the fault switch), and the span of the recovery replica that
finishes the slot carries a link to the gateway's trace of the crashed Buy."""

from __future__ import annotations

import itertools
from pathlib import Path

import grpc
import pytest

from services.lab.cluster import NatsServer, running
from services.runtime import FAULT_ENV, FAULT_EXIT_CODE
from tests._support.loop import run_blocking
from tests._support.processes import service
from tests._support.waiting import wait_for
from tests._support.world import CALL_TIMEOUT_S, open_world, store_url

from ._calls import BALANCE, MIN_PRICE, buy_request, purchase_stub
from ._collector import PRODUCER, UNSET, Collector, ReceivedSpan, Trace, otel_env
from ._gateway import Gateway


def test_a_repair_links_to_the_trace_of_the_crashed_purchase(
    tmp_path: Path, nats_server: NatsServer, collector: Collector, gateway: Gateway,
) -> None:
    args = ["--store", store_url(tmp_path), "--nats-url", nats_server.url]
    env = otel_env(collector.endpoint)
    crashing = service("purchase", ["serve", "purchase", *args], tmp_path,
                       {**env, FAULT_ENV: "buy.fill"})
    recovery = service("recovery", ["serve", "recovery", *args, "--ordinal", "0",
                                    "--replicas", "1"], tmp_path, env)
    with running(crashing, recovery, grace_s=10), \
            grpc.insecure_channel(crashing.address) as channel:
        stub = purchase_stub(channel)
        run_blocking(open_world(crashing.address, buyers=["alice"], campaigns=["c1"],
                                funds=BALANCE, min_price=MIN_PRICE))
        with gateway.span("gateway Buy") as call, pytest.raises(grpc.RpcError):
            stub.Buy(buy_request("alice", "c1"), metadata=call.metadata, timeout=CALL_TIMEOUT_S)
        assert crashing.wait_exit() == FAULT_EXIT_CODE
        repair = wait_for(lambda: _linked_finish(collector, call.trace_id),
                          "abc-recovery's finish_slot linked to the crashed Buy's trace")
        repairs = wait_for(lambda: [m for m in collector.metrics()
                                    if m.name == "abc.recovery.repairs" and m.total >= 1] or None,
                           "abc.recovery.repairs")
    assert repair.service == "abc-recovery"
    assert (repair.resource["abc.recovery.ordinal"], repair.resource["abc.recovery.replicas"]) \
        == (0, 1)
    assert repair.trace_id != call.trace_id  # the repair is a trace of its own ...
    assert not repair.parent_span_id  # ... started by the posse's check, not by a call
    assert (repair.attributes["abc.campaign"], repair.attributes["abc.slot"]) == ("c1", 1)
    _check_repair_trace(Trace(collector.trace(repair.trace_id)), repair)
    assert {(m.service, m.data) for m in repairs} == {("abc-recovery", "sum")}


def _linked_finish(collector: Collector, trace_id: str) -> ReceivedSpan | None:
    linked = [s for s in collector.spans() if s.name == "finish_slot"
              and any(link_trace == trace_id for link_trace, _ in s.links)]
    assert len(linked) <= 1, linked  # one repair, exported once
    return linked[0] if linked else None


def _check_repair_trace(trace: Trace, repair: ReceivedSpan) -> None:
    """The repair does what the crashed driver left undone, each step a span under its
    finish_slot, in order, none of them failing."""
    assert not trace.orphans(), [(s.service, s.name) for s in trace.orphans()]
    steps = [trace.child(repair, name)
             for name in ("finish.receipt", "finish.debit", "finish.advance")]
    for before, after in itertools.pairwise(steps):
        assert before.end_ns <= after.start_ns, (before, after)
    for step in steps:
        assert repair.start_ns <= step.start_ns < step.end_ns <= repair.end_ns, step
        assert (step.service, step.status, step.events) == ("abc-recovery", UNSET, ()), step
    assert steps[1].attributes["abc.user"] == "alice"
    publish = trace.child(repair, "abc.campaign.c1.fill publish")
    assert (publish.service, publish.kind) == ("abc-recovery", PRODUCER)
