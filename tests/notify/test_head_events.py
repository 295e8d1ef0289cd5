"""Fills whose own events never went out (their publisher died just before publishing, or
lost NATS) reach watchers through the posse's head events: a recovery replica's check sees
the head move and says so on NATS, and notify, knowing a lower head, reads the campaign.
Real NATS, a real recovery replica, notify's safety read out of the way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from services.lab.cluster import NatsServer
from services.notify import HEAD_GRACE_MS, Hub
from services.recovery import RecoveryConfig, start_recovery
from tests._support.waiting import eventually
from tests._support.world import open_world, store_url

from ._support import LOCAL, buy, stack, watch_request, watching

pytestmark = pytest.mark.asyncio

TICK_MS = 200


async def test_a_fill_without_its_event_reaches_watchers_by_the_posses_head_event(
        tmp_path: Path, nats_server: NatsServer) -> None:
    url = store_url(tmp_path)

    # The purchase service is on no NATS at all: every fill event of it is lost.
    async with stack(url, None, notify_nats_url=nats_server.url, safety_ms=600_000) as s:
        recovery = await start_recovery(RecoveryConfig(
            url, 0, 1, nats_url=nats_server.url, server=LOCAL, tick_ms=TICK_MS))
        try:
            await open_world(s.buy_stub, campaigns=["c1", "c2"])
            stream = await watching(s.notify_stub, watch_request("c1"))
            # The replica has looked at c1 once (head 0, as notify knows it: no read).
            await eventually(lambda: recovery.replica.counters.checks >= 2, 5,
                             "the first checks")
            assert s.notify.hub.head_reads == 0
            await buy(s.buy_stub, "alice")
            await stream.until_slot(1, timeout_s=5)
            assert stream.fills()[-1].update.source == "poll"
            assert s.notify.hub.head_reads == 1
            announced = recovery.wiring.publisher.published
            await buy(s.buy_stub, "alice", "c2")  # unwatched: notify reads nothing
            await eventually(lambda: recovery.wiring.publisher.published > announced, 5,
                             "c2's new head announced")
            await asyncio.sleep(2 * HEAD_GRACE_MS / 1000)  # past notify's grace
            assert s.notify.hub.head_reads == 1
            await stream.close()
        finally:
            await recovery.stop(grace_s=0.5)


async def test_while_fill_events_flow_head_events_cost_no_read(tmp_path: Path,
                                                               nats_server: NatsServer) -> None:
    url = store_url(tmp_path)

    async with stack(url, nats_server.url, safety_ms=600_000) as s:
        recovery = await start_recovery(RecoveryConfig(
            url, 0, 1, nats_url=nats_server.url, server=LOCAL, tick_ms=TICK_MS))
        # The replica checks when told, each time after the fill reached the watcher: on its
        # own clock a check can see the head move before the fill's event reached notify,
        # and a stall of this process's loop longer than notify's grace (a loaded machine)
        # then costs a read, as designed. Before any campaign exists, so it checked none.
        recovery.stopping.set()
        await recovery.task
        try:
            await open_world(s.buy_stub)
            stream = await watching(s.notify_stub, watch_request("c1"))
            for n in range(1, 6):
                await buy(s.buy_stub, "alice")
                await stream.until_slot(n)
                assert await recovery.replica.tick(10 * n) == ["c1"]
                await recovery.replica.wait_idle()  # the check, and its head event queued
                await eventually(_head_events_at_least(s.notify.hub, n), 5,
                                 f"head event {n} at notify")
            await asyncio.sleep(2 * HEAD_GRACE_MS / 1000)  # past notify's grace
            assert {r.update.source for r in stream.fills()} == {"event"}
            assert s.notify.hub.head_reads == 0
            await stream.close()
        finally:
            await recovery.stop(grace_s=0.5)


def _head_events_at_least(hub: Hub, n: int) -> Callable[[], bool]:
    return lambda: hub.head_events >= n
