"""A replica's ticks on an in-memory store: it repairs a crashed purchase, keeps going when
the store fails, and one slow campaign never stalls the others."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from services.journal import Bought, Journal, JournalContext, Timing, User
from services.recovery import OrdinalShard, Replica
from services.store import DocumentStore, MemoryStore, StoreWrapper, Unavailable

pytestmark = pytest.mark.asyncio

T = TypeVar("T")

FAST = Timing(posse_wait_ms=5, resolve_grace_ms=50, resolve_poll_ms=5)


class Crash(BaseException):
    """Stands for the process dying right after a step."""


def _crash_after(step: str) -> JournalContext:
    def on_step(done: str) -> None:
        if done == step:
            raise Crash(step)

    return JournalContext(on_step=on_step, timing=FAST)


async def _world(store: DocumentStore, campaigns: list[str]) -> None:
    j = Journal(store, JournalContext(timing=FAST))
    await j.create_account("owner")
    await j.create_account("alice")
    await j.deposit("alice", "d", 1000)
    for cid in campaigns:
        await j.create_campaign(cid, "owner", 10, 60)


async def _crashed_buy(store: DocumentStore, cid: str) -> None:
    try:
        await Journal(store, _crash_after("buy.fill")).buy("alice", cid, 100)
    except Crash:
        return
    raise AssertionError("the buy should have crashed")


async def test_a_tick_repairs_a_purchase_whose_driver_died() -> None:
    store = MemoryStore()
    await _world(store, ["c1"])
    await _crashed_buy(store, "c1")
    replica = Replica(Journal(store, JournalContext(timing=FAST)), OrdinalShard(0, 1), 0, 1)
    assert await replica.tick(100) == ["c1"]
    await replica.wait_idle()
    assert replica.counters.repairs == 1 and replica.counters.failed_checks == 0
    repair = replica.counters.last_repairs[0]
    assert (repair.campaign, repair.slot, repair.void) == ("c1", 1, False)
    assert repair.delay_ms >= 0
    j = Journal(store)
    account = await j.get_account("alice")
    assert isinstance(account, User) and account.balance == 990
    assert await j.audit(quiescent=True) == []


async def test_nothing_to_repair_is_just_a_check() -> None:
    store = MemoryStore()
    await _world(store, ["c1", "c2"])
    assert isinstance(await Journal(store).buy("alice", "c1", 100), Bought)
    replica = Replica(Journal(store, JournalContext(timing=FAST)), OrdinalShard(0, 1), 0, 1)
    await replica.tick(5)
    await replica.wait_idle()
    assert replica.counters.checks == 2 and replica.counters.repairs == 0
    assert await replica.tick(6) == ["c1", "c2"]  # one replica: on duty every second


class FlakyStore(StoreWrapper):
    """Fails every get while ``down``, and hangs gets of ``slow_key``."""

    def __init__(self, inner: DocumentStore, slow_key: str | None = None) -> None:
        super().__init__(inner)
        self.down = False
        self.slow_key = slow_key

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "get" and self.down:
            raise Unavailable(key, "get", "test outage")
        if op == "get" and key == self.slow_key:
            await asyncio.sleep(3600)
        return await call()


async def test_a_store_outage_is_counted_and_the_next_tick_recovers() -> None:
    memory = MemoryStore()
    await _world(memory, ["c1"])
    flaky = FlakyStore(memory)
    replica = Replica(Journal(flaky, JournalContext(timing=FAST)), OrdinalShard(0, 1), 0, 1)
    await replica.tick(1)  # lists the campaign; nothing to repair yet
    await replica.wait_idle()
    await _crashed_buy(memory, "c1")
    flaky.down = True
    await replica.tick(2)
    await replica.wait_idle()
    assert replica.counters.failed_checks == 1 and replica.counters.repairs == 0
    flaky.down = False
    await replica.tick(3)
    await replica.wait_idle()
    assert replica.counters.repairs == 1


async def test_one_slow_campaign_does_not_stall_the_others() -> None:
    memory = MemoryStore()
    await _world(memory, ["slow", "fine"])
    await _crashed_buy(memory, "fine")
    store = FlakyStore(memory, slow_key="campaign:slow")
    replica = Replica(Journal(store, JournalContext(timing=FAST)), OrdinalShard(0, 1), 0, 1,
                      check_timeout_s=0.2)
    await replica.tick(1)
    await asyncio.sleep(0.1)
    assert replica.counters.repairs == 1  # "fine" repaired while "slow" still hangs
    assert await replica.tick(2) == ["fine"]  # "slow" is still in flight: not doubled
    await replica.wait_idle()
    assert replica.counters.failed_checks == 1  # "slow" timed out, counted


async def test_a_check_tells_of_a_head_that_moved_since_the_last_look() -> None:
    """The first look at a campaign, a repair and a purchase made meanwhile all move the head
    the replica knows: each is told once; a check that finds the same head tells nothing."""

    store = MemoryStore()
    await _world(store, ["c1", "c2"])
    heads: list[tuple[str, int]] = []
    replica = Replica(Journal(store, JournalContext(timing=FAST)), OrdinalShard(0, 1), 0, 1,
                      on_head=lambda cid, head: heads.append((cid, head)))

    async def tick(n: int) -> list[tuple[str, int]]:
        heads.clear()
        await replica.tick(n)
        await replica.wait_idle()
        return sorted(heads)

    assert await tick(1) == [("c1", 0), ("c2", 0)]
    assert await tick(2) == []
    assert isinstance(await Journal(store).buy("alice", "c1", 100), Bought)
    assert await tick(3) == [("c1", 1)]
    await _crashed_buy(store, "c2")  # slot 1 committed, head still 0: the check repairs it
    assert await tick(4) == [("c2", 1)]
    assert await tick(5) == []
