"""The posse credits sellers: a replica's check that finds sales waiting for their credit
credits the campaign's owner, batched, at most once per seller per interval in each replica,
the seller's campaigns taking turns; a lagging hint costs no op per tick."""

from __future__ import annotations

import pytest

from services.journal import (
    Bought,
    CreditOutcome,
    Journal,
    JournalContext,
    Policy,
    Receipt,
    User,
    receipt_key,
)
from services.recovery import CreditPacer, OrdinalShard, Replica
from services.store import DocumentStore, MemoryStore

from ._money import FAST

SHARE = 9  # of a sale at 10 with the default 1.5% fee: 10 - ceil(0.15)


class CountingJournal(Journal):
    """Counts the credit ops asked of it, by campaign."""

    def __init__(self, store: DocumentStore, context: JournalContext) -> None:
        super().__init__(store, context)
        self.credit_calls: list[str] = []

    async def credit(self, cid: str) -> CreditOutcome:
        self.credit_calls.append(cid)
        return await super().credit(cid)


async def _sales(store: DocumentStore, sales: dict[str, int]) -> Journal:
    """bob owns each campaign of ``sales``; alice buys that many slots of each."""
    journal = Journal(store, JournalContext(timing=FAST))
    for uid in ("bob", "alice"):
        await journal.create_account(uid)
    await journal.deposit("alice", "d1", 10_000)
    for cid, count in sales.items():
        await journal.create_campaign(cid, "bob", 10, 1)
        for _ in range(count):
            assert isinstance(await journal.buy("alice", cid, 10_000), Bought)
    return journal


async def _balance(journal: Journal, uid: str) -> int:
    account = await journal.get_account(uid)
    assert isinstance(account, User)
    return account.balance


def _replica(store: DocumentStore, policy: Policy | None = None) -> tuple[Replica,
                                                                          CountingJournal]:
    journal = CountingJournal(store, JournalContext(timing=FAST, policy=policy or Policy()))
    return Replica(journal, OrdinalShard(0, 1), 0, 1, credit_interval_ms=1000), journal


async def _tick(replica: Replica, tick: int) -> None:
    await replica.tick(tick)
    await replica.wait_idle()


@pytest.mark.asyncio
async def test_a_tick_credits_the_seller_their_sales() -> None:
    store = MemoryStore()
    journal = await _sales(store, {"c1": 1})
    replica, counted = _replica(store)
    await _tick(replica, 100)
    assert counted.credit_calls == ["c1"]
    assert await _balance(journal, "bob") == SHARE
    assert (replica.counters.credits, replica.counters.credited_slots,
            replica.counters.credited_amount) == (1, 1, SHARE)
    await _tick(replica, 101)  # nothing new sold: no credit op
    assert counted.credit_calls == ["c1"]
    assert await journal.audit(quiescent=True) == []


@pytest.mark.asyncio
async def test_one_op_covers_a_batch_and_the_next_interval_the_rest() -> None:
    store = MemoryStore()
    journal = await _sales(store, {"c1": 5})
    shares = [Receipt.from_json((await store.get(receipt_key("c1", n))).value).share
              for n in range(1, 6)]  # prices double as slots sell
    replica, counted = _replica(store, Policy(credit_batch=3))
    await _tick(replica, 100)
    assert await _balance(journal, "bob") == sum(shares[:3])
    await _tick(replica, 101)
    assert await _balance(journal, "bob") == sum(shares)
    assert counted.credit_calls == ["c1", "c1"] and replica.counters.credited_slots == 5
    assert await journal.audit(quiescent=True) == []


@pytest.mark.asyncio
async def test_a_seller_is_credited_once_per_interval_their_campaigns_taking_turns() -> None:
    store = MemoryStore()
    journal = await _sales(store, {"c1": 1, "c2": 1})
    replica, counted = _replica(store)
    await _tick(replica, 100)
    assert len(counted.credit_calls) == 1  # two campaigns of bob, one op for bob
    first = counted.credit_calls[0]
    assert await _balance(journal, "bob") == SHARE
    await _tick(replica, 100)  # checked again within the same interval: still one
    assert len(counted.credit_calls) == 1
    await _tick(replica, 101)
    assert counted.credit_calls == [first, ({"c1", "c2"} - {first}).pop()]
    assert await _balance(journal, "bob") == 2 * SHARE
    assert await journal.audit(quiescent=True) == []


@pytest.mark.asyncio
async def test_a_busy_campaign_does_not_starve_a_quiet_one_of_the_same_seller() -> None:
    store = MemoryStore()
    journal = await _sales(store, {"a-busy": 1, "b-quiet": 1})
    replica, counted = _replica(store)
    for tick in range(100, 104):
        assert isinstance(await journal.buy("alice", "a-busy", 10_000), Bought)
        await _tick(replica, tick)
    assert "b-quiet" in counted.credit_calls[:2]
    assert len(counted.credit_calls) == 4  # one a tick, never two for bob


def test_the_pacer_takes_turns_and_forgets_who_stopped_asking() -> None:
    pacer = CreditPacer(interval_ms=1000, patience_ms=3000)
    assert pacer.may_credit("bob", "c1", 0)
    assert not pacer.may_credit("bob", "c2", 0)  # bob's turn is taken: c2 waits
    assert pacer.may_credit("carol", "c3", 0)  # another seller: their own turn
    assert not pacer.may_credit("bob", "c1", 999)
    assert not pacer.may_credit("bob", "c1", 1000)  # c2 waited longer
    assert pacer.may_credit("bob", "c2", 1000)
    assert pacer.may_credit("bob", "c1", 2000)
    assert not pacer.may_credit("bob", "c2", 2000)
    # c2 never asks again (someone else credited it): after its patience c1 goes on alone.
    assert not pacer.may_credit("bob", "c1", 3000)
    assert pacer.may_credit("bob", "c1", 5001)


@pytest.mark.asyncio
async def test_a_lagging_hint_costs_no_credit_op_each_tick() -> None:
    store = MemoryStore()
    journal = await _sales(store, {"c1": 1})

    class Crash(BaseException):
        pass

    def crash_before_the_hint(step: str) -> None:
        if step == "credit.apply":
            raise Crash(step)

    with pytest.raises(Crash):  # credited, but the creditor died before the hint moved
        await Journal(store, JournalContext(timing=FAST, on_step=crash_before_the_hint)
                      ).credit("c1")
    assert await _balance(journal, "bob") == SHARE
    replica, counted = _replica(store)
    await _tick(replica, 100)  # the hint says uncredited: one op finds the chain complete
    await _tick(replica, 101)
    await _tick(replica, 102)
    assert counted.credit_calls == ["c1"] and replica.counters.credits == 0
    assert await _balance(journal, "bob") == SHARE
    assert await journal.audit(quiescent=True) == []


def test_a_turn_that_found_the_seller_busy_is_given_back() -> None:
    pacer = CreditPacer(interval_ms=1000)
    assert pacer.may_credit("bob", "c1", 0)
    assert not pacer.may_credit("bob", "c1", 10)  # within the interval: wait
    pacer.returned("bob", "c1", 0)  # that credit found bob busy: nothing was credited
    assert pacer.may_credit("bob", "c1", 10)
