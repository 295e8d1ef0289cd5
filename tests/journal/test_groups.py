"""Group commit of one process's appends to a purchase list (``WriteGroups``): credits of many
campaigns running at once in one event loop write each buyer's list in turns, taking along
what queued meanwhile, so they neither race each other nor write once per run; a failed
write fails its own caller only; a caller cancelled while waiting stops nobody."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from services.journal import Credited, Journal, JournalContext, Purchases, write_alone
from services.journal._groups import WriteGroups
from services.lab.loadgen import YieldingStore
from services.store import CasMismatch, DocumentStore, MemoryStore, StoreWrapper

from .conftest import T0

pytestmark = pytest.mark.asyncio

T = TypeVar("T")
BUYERS = [f"u{i}" for i in range(8)]
CAMPAIGNS = [f"c{i}" for i in range(12)]


class _Lists(StoreWrapper):
    """Counts the writes to purchase lists, and those that lost their CAS."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.writes: Counter[str] = Counter()

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "get" or not key.startswith("purchases:"):
            return await call()
        self.writes["written"] += 1
        try:
            return await call()
        except CasMismatch:
            self.writes["lost"] += 1
            raise


async def _credit_all_at_once(context: JournalContext) -> tuple[Journal, _Lists]:
    """Every buyer bought a slot of every campaign (each its own seller's); then every
    campaign is credited at once, interleaving at every store operation."""
    inner = MemoryStore()
    setup = Journal(inner, dataclasses.replace(context, clock=lambda: T0))
    for uid in BUYERS:
        await setup.create_account(uid)
        await setup.deposit(uid, "d", 10**9)
    for cid in CAMPAIGNS:
        await setup.create_account(f"s-{cid}")
        await setup.create_campaign(cid, f"s-{cid}", 1, 1)
        for uid in BUYERS:
            assert type(await setup.buy(uid, cid, 10**9)).__name__ == "Bought"
    counted = _Lists(YieldingStore(inner))
    journal = Journal(counted, dataclasses.replace(context, clock=lambda: T0))
    credited = await asyncio.gather(*(journal.credit(cid) for cid in CAMPAIGNS))
    assert all(isinstance(c, Credited) for c in credited), credited
    assert await journal.audit(quiescent=True) == []
    for uid in BUYERS:
        listed = await journal.list_purchases(uid, None, None, 100)
        assert isinstance(listed, Purchases)
        assert sorted(p.campaign for p in listed.purchases) == sorted(CAMPAIGNS)
    return journal, counted


async def test_concurrent_credits_write_each_list_in_turns_not_once_per_run() -> None:
    _, alone = await _credit_all_at_once(JournalContext(group_writes=write_alone))
    _, grouped = await _credit_all_at_once(JournalContext())
    appends = len(BUYERS) * len(CAMPAIGNS)
    # Alone: at least one write per run and buyer, and races lost to each other.
    assert alone.writes["written"] >= appends and alone.writes["lost"] > 0
    # Grouped: no race inside the process, and fewer writes than appends.
    assert grouped.writes["lost"] == 0
    assert grouped.writes["written"] < appends


async def test_a_failed_write_fails_its_caller_and_the_others_write_their_own() -> None:
    groups = WriteGroups()
    written: list[list[str]] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def write(items: list[str]) -> None:
        if "bad" in items:
            raise RuntimeError("no")
        first_in.set()
        await release.wait()
        written.append(items)

    async def failing_write(items: list[str]) -> None:
        written.append(["tried", *items])
        raise RuntimeError("the store said no")

    holder = asyncio.create_task(groups.append("k", ["a"], write))
    await first_in.wait()
    failing = asyncio.create_task(groups.append("k", ["b"], failing_write))
    later = asyncio.create_task(groups.append("k", ["c"], write))
    await asyncio.sleep(0)
    release.set()
    await holder
    with pytest.raises(RuntimeError, match="the store said no"):
        await failing
    await later
    # "b"'s writer took "c" along and failed; "c" was queued again and wrote itself.
    assert written == [["a"], ["tried", "b", "c"], ["c"]]
    assert groups._groups == {}


class _Gated:
    """A write that waits for ``release``, then records what it wrote."""

    def __init__(self) -> None:
        self.written: list[list[Any]] = []
        self.release = asyncio.Event()

    async def __call__(self, items: list[Any]) -> None:
        await self.release.wait()
        self.written.append(items)


async def test_appends_queued_meanwhile_go_in_one_write() -> None:
    groups, write = WriteGroups(), _Gated()
    tasks = [asyncio.create_task(groups.append("k", [n], write)) for n in range(5)]
    other = asyncio.create_task(groups.append("other", [9], write))
    await asyncio.sleep(0)
    write.release.set()
    await asyncio.gather(*tasks, other)
    assert write.written == [[0], [9], [1, 2, 3, 4]]
    assert groups._groups == {}


async def test_a_caller_cancelled_while_waiting_stops_nobody() -> None:
    groups, write = WriteGroups(), _Gated()
    first = asyncio.create_task(groups.append("k", ["a"], write))
    await asyncio.sleep(0)
    gone = asyncio.create_task(groups.append("k", ["b"], write))
    last = asyncio.create_task(groups.append("k", ["c"], write))
    await asyncio.sleep(0)
    gone.cancel()
    write.release.set()
    await asyncio.gather(first, last)
    with pytest.raises(asyncio.CancelledError):
        await gone
    # The cancelled caller's append is a real purchase: written along, harmlessly.
    assert write.written == [["a"], ["b", "c"]]
    assert groups._groups == {}
