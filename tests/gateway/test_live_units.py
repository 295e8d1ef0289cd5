"""The live parts' pure logic: the gateway's price rule agrees with the journal's, the rate
limiter's table stays bounded, a subscriber's queue is bounded, and an SSE response whose
client stopped reading ends once the hub drops it."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.api.abc.v1 import types_pb2
from services.gateway._live_state import price_at
from services.gateway._ratelimit import TokenBuckets
from services.gateway._sse import DROP_GRACE_S, EventStream, event_frame
from services.gateway._subscriber import Subscriber
from services.journal import MAX_MONEY, Campaign, Purchase
from services.journal import price_at as journal_price_at

MS = st.integers(0, 2 * 10**12)


@given(min_price=st.integers(1, MAX_MONEY), price=st.integers(1, MAX_MONEY), bought=MS,
       length=st.integers(0, 10**9), now=MS, with_last=st.booleans())
def test_the_price_rule_is_the_journals(min_price: int, price: int, bought: int, length: int,
                                        now: int, with_last: bool) -> None:
    last = Purchase(1, price, bought, bought, bought + length) if with_last else None
    campaign = Campaign("owner", min_price, 60, head=1 if with_last else 0, last=last)
    curve = types_pb2.PriceCurve(min_price=min_price)
    if last is not None:
        curve.last.CopyFrom(types_pb2.Purchase(slot=1, price=price, bought_at_ms=bought,
                                               start_ms=bought, end_ms=bought + length))
    assert price_at(curve, now) == journal_price_at(campaign, now)


def test_the_rate_table_keeps_at_most_its_bound_of_clients() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate_per_s=1, burst=2, max_clients=100, clock=lambda: now[0])
    for n in range(1000):
        assert buckets.take(f"10.0.{n // 256}.{n % 256}") == 0
    assert len(buckets) == 100
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 1.0]
    now[0] += 0.5
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("a") == 0


@pytest.mark.asyncio
async def test_a_subscriber_holds_at_most_its_queue_then_is_dropped() -> None:
    subscriber = Subscriber("c1", size=3)
    frames = [event_frame("fill", n, {"slot": n}) for n in range(1, 5)]
    assert [subscriber.offer(f) for f in frames] == [True, True, True, False]
    assert subscriber.dropped and subscriber.closed
    assert not subscriber.offer(frames[0])
    assert await subscriber.next() is None  # its backlog let go: only the end is left


@pytest.mark.asyncio
async def test_a_stream_stuck_writing_ends_once_its_subscriber_is_dropped() -> None:
    subscriber = Subscriber("c1", size=2)
    stuck = asyncio.Event()
    written: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        written.append(message)
        if len(written) == 3:  # start, retry, then the first frame: the socket is full
            stuck.set()
            await asyncio.Event().wait()

    async def receive() -> MutableMapping[str, Any]:
        await asyncio.Event().wait()  # the client never leaves
        return {"type": "http.disconnect"}

    closed: list[bool] = []
    stream = EventStream(subscriber, lambda: closed.append(True))
    running = asyncio.create_task(stream({"type": "http"}, receive, send))
    subscriber.offer(event_frame("fill", 1, {"slot": 1}))
    await asyncio.wait_for(stuck.wait(), 1)
    for n in (2, 3, 4):
        subscriber.offer(event_frame("fill", n, {"slot": n}))
    assert subscriber.dropped
    await asyncio.wait_for(running, DROP_GRACE_S + 1)
    assert closed == [True]
    assert written[0]["status"] == 200
    assert dict(written[0]["headers"])[b"content-type"] == b"text/event-stream; charset=utf-8"
