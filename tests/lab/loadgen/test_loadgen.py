"""The load generator: the world it sets up, the stats its buyers return. (``abc load`` is
tests/cli/test_load.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from services.journal import Bought, Campaign, Journal, User, audit, read_documents
from services.lab.loadgen import (
    CountingStore,
    LoadStats,
    SetupError,
    YieldingStore,
    balance_for,
    run_buyers,
    set_up,
)
from services.store import DocumentStore, MemoryStore, StoreWrapper

pytestmark = pytest.mark.asyncio


async def test_set_up_creates_users_owner_campaigns_and_deposits() -> None:
    journal = Journal(MemoryStore())
    world = await set_up(journal, users=3, campaigns=2, balance=500, prefix="t-")
    assert world.users == ("t-u0001", "t-u0002", "t-u0003")
    assert world.campaigns == ("t-c0001", "t-c0002")
    assert world.owner == "t-owner"
    for uid in world.users:
        user = await journal.get_account(uid)
        assert isinstance(user, User) and user.balance == 500 and user.lock is None
    owner = await journal.get_account("t-owner")
    assert isinstance(owner, User) and owner.balance == 0
    for cid in world.campaigns:
        campaign = await journal.get_campaign(cid)
        assert isinstance(campaign, Campaign)
        assert (campaign.owner, campaign.min_price, campaign.slot_seconds) == ("t-owner", 1, 1)
        assert campaign.head == 0
    assert await audit(journal.store, quiescent=True) == []


async def test_set_up_refuses_a_prefix_already_used() -> None:
    journal = Journal(MemoryStore())
    await set_up(journal, users=1, campaigns=1, balance=10, prefix="a-")
    with pytest.raises(SetupError, match="already exists"):
        await set_up(journal, users=1, campaigns=1, balance=10, prefix="a-")
    await set_up(journal, users=1, campaigns=1, balance=10, prefix="b-")  # a new world


def _consistent(stats: LoadStats, purchases: int, receipts: int) -> None:
    assert stats.attempts == purchases == len(stats.latencies_ms)
    assert stats.bought == receipts  # what the buyers counted is what the store holds
    assert stats.elapsed_s > 0 and all(ms >= 0 for ms in stats.latencies_ms)


async def _receipts(store: DocumentStore) -> int:
    return sum([key.startswith("txn:") async for key, _, _ in read_documents(store)])


@pytest.mark.parametrize("hot", [False, True])
async def test_run_buyers_stats_add_up_and_the_audit_is_clean(hot: bool) -> None:
    # Interleaved at every store op, so buyers on one hot campaign really race.
    store = YieldingStore(MemoryStore())
    journal = Journal(store)
    world = await set_up(journal, users=6, campaigns=3, balance=balance_for(6))
    stats = await run_buyers(journal, 4, 40, world.campaigns, users=world.users, hot=hot)
    assert await audit(store, quiescent=True) == []
    receipts = await _receipts(store)
    _consistent(stats, 40, receipts)
    assert stats.bought > 0
    if hot:
        assert stats.lost_races > 0


async def test_run_buyers_stops_at_the_deadline_and_reports_progress() -> None:
    seen: list[int] = []
    journal = Journal(YieldingStore(MemoryStore()))
    world = await set_up(journal, users=2, campaigns=50, balance=balance_for(2))
    stats = await run_buyers(journal, 2, 10**9, world.campaigns, users=world.users,
                             deadline_s=0.3, on_progress=lambda s: seen.append(s.attempts),
                             progress_every_s=0.1)
    assert 0 < stats.attempts < 10**9 and stats.elapsed_s < 5
    assert seen and seen[-1] <= stats.attempts  # reported while it ran, never ahead


T = TypeVar("T")


class _Intents(StoreWrapper):
    """Records whose account each write to an account is for, in order (a purchase writes its
    buyer's twice: the lock, then the debit that releases it)."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.users: list[str] = []

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "replace" and key.startswith("user:"):
            self.users.append(key)
        return await call()


async def test_buyers_take_turns_on_a_store_that_never_suspends() -> None:
    # The memory store's operations never suspend, as sqlite's inline ones: without a turn
    # between attempts the first buyer bought alone until its attempts ran out.
    store = _Intents(MemoryStore())
    journal = Journal(store)
    world = await set_up(journal, users=4, campaigns=4, balance=balance_for(4))
    store.users.clear()
    await run_buyers(journal, 4, 40, world.campaigns, users=world.users)
    assert len(store.users) == 80
    assert [len(set(store.users[i:i + 8])) for i in range(0, 80, 8)] == [4] * 10


async def test_an_uncontended_purchase_costs_seven_store_operations() -> None:
    store = CountingStore(MemoryStore())
    journal = Journal(store)
    world = await set_up(journal, users=1, campaigns=1, balance=100)
    store.reset()
    outcome = await journal.buy(world.users[0], world.campaigns[0], max_price=10)
    assert isinstance(outcome, Bought)
    assert dict(store.ops) == {"get": 2, "insert": 2, "replace": 3}
    assert store.total == 7
