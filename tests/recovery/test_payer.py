"""The payer on a memory store: it claims what is assigned to it, pays through the rail and
writes the answer down; re-drives a stale claim with the same key; never claims what another
payer claimed; leaves everything to the operator on the manual rail; finishes refunds; and
the audit stays clean throughout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from services.journal import Journal, JournalContext, PayoutState, User, Withdrawal
from services.payouts import ManualRail, NoAnswer, Refused
from services.recovery import Backoff, Payer
from services.store import CasMismatch, MemoryStore, StoreWrapper, Unavailable

from ._money import (
    FAST,
    Clock,
    ScriptedRail,
    journal_on,
    state_of,
    with_withdrawals,
    withdrawal,
)

T = TypeVar("T")
pytestmark = pytest.mark.asyncio


async def _clean(journal: Journal) -> None:
    assert await journal.audit(quiescent=True) == []


async def test_a_requested_withdrawal_is_claimed_paid_and_never_looked_at_again() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    rail = ScriptedRail()
    payer = Payer(journal, rail, 0, 1)
    assert await payer.tick() == ["alice:w1"]
    paid = await withdrawal(journal, "w1")
    assert paid.state is PayoutState.PAID and paid.reference == "ref-alice:w1"
    assert paid.payer == payer.payer_id and paid.claimed_at == clock.now
    (order,) = rail.orders
    assert (order.idempotency_key, order.amount, order.fee, order.destination) == (
        "alice:w1", 100, 0, "IBAN-alice")
    assert (payer.counters.claims, payer.counters.paid, payer.counters.calls) == (1, 1, 1)
    clock.now += 60_000
    assert await payer.tick() == []  # paid is final: not even read again
    assert len(rail.orders) == 1
    await _clean(journal)


async def test_a_refusal_fails_the_withdrawal_with_its_reason_and_is_not_asked_again() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    rail = ScriptedRail(Refused("HTTP 422: account closed"))
    payer = Payer(journal, rail, 0, 1)
    await payer.tick()
    failed = await withdrawal(journal, "w1")
    assert failed.state is PayoutState.FAILED and failed.reason == "HTTP 422: account closed"
    clock.now += 60_000
    await payer.tick()
    assert len(rail.orders) == 1 and payer.counters.refused == 1
    await _clean(journal)


async def test_no_answer_leaves_it_paying_and_asks_again_after_a_backoff_same_key() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    rail = ScriptedRail(NoAnswer("timeout"), NoAnswer("timeout"))
    payer = Payer(journal, rail, 0, 1, backoff=Backoff(base_ms=1000, cap_ms=60_000))
    await payer.tick()
    assert await state_of(journal, "w1") is PayoutState.PAYING
    clock.now += 500
    await payer.tick()  # within the first backoff (1 s): not asked
    assert len(rail.orders) == 1
    clock.now += 500
    await payer.tick()  # asked again: no answer again, next wait 2 s
    assert len(rail.orders) == 2 and await state_of(journal, "w1") is PayoutState.PAYING
    clock.now += 1999
    await payer.tick()
    assert len(rail.orders) == 2
    clock.now += 1
    await payer.tick()
    assert rail.keys == ["alice:w1"] * 3 and await state_of(journal, "w1") is PayoutState.PAID
    assert payer.counters.unanswered == 2 and payer.counters.claims == 1
    await _clean(journal)


async def test_a_tick_calls_the_rail_a_bounded_number_of_times() -> None:
    journal = journal_on()
    await with_withdrawals(journal, *(f"w{i}" for i in range(5)))
    rail = ScriptedRail(*[NoAnswer("down")] * 10)
    payer = Payer(journal, rail, 0, 1, calls_per_tick=2)
    await payer.tick()
    assert len(rail.orders) == 2  # three claimed, left for later ticks
    assert payer.counters.claims == 5


async def test_a_stale_claim_is_re_driven_by_any_payer_with_the_same_key() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    claimed = await journal.move_payout("alice", "w1", PayoutState.PAYING,
                                        payer="recovery-7-deadbeef", claimed_at=clock.now)
    assert isinstance(claimed, Withdrawal)
    rail = ScriptedRail()
    payer = Payer(journal, rail, 0, 1, lease_ms=30_000)
    clock.now += 29_999
    await payer.tick()  # the claim is fresh: its payer may be calling the rail right now
    assert rail.orders == [] and await state_of(journal, "w1") is PayoutState.PAYING
    clock.now += 1
    await payer.tick()
    assert rail.keys == ["alice:w1"]
    paid = await withdrawal(journal, "w1")
    assert paid.state is PayoutState.PAID and paid.payer == "recovery-7-deadbeef"
    assert payer.counters.claims == 0 and payer.counters.paid == 1
    await _clean(journal)


async def test_a_claim_made_by_hand_is_never_re_driven() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    await journal.move_payout("alice", "w1", PayoutState.PAYING, payer="operator",
                              claimed_at=clock.now)
    rail = ScriptedRail()
    payer = Payer(journal, rail, 0, 1)
    clock.now += 3_600_000
    await payer.tick()
    assert rail.orders == [] and await state_of(journal, "w1") is PayoutState.PAYING


class Yielding(StoreWrapper):
    """Lets other tasks run before every store operation, so two payers interleave; counts
    the CAS races lost on withdrawals."""

    def __init__(self, inner: MemoryStore) -> None:
        super().__init__(inner)
        self.lost_races = 0

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        await asyncio.sleep(0)
        try:
            return await call()
        except CasMismatch:
            self.lost_races += key.startswith("withdrawal:")
            raise


async def test_two_payers_never_both_claim_one_withdrawal() -> None:
    clock = Clock()
    store = Yielding(MemoryStore())
    journal = journal_on(store, clock)
    wids = [f"w{i}" for i in range(6)]
    await with_withdrawals(journal, *wids, amount=10)
    rail = ScriptedRail()
    # Both think they are replica 0 of 1: each is assigned every withdrawal.
    first, second = Payer(journal, rail, 0, 1), Payer(journal, rail, 0, 1)
    await asyncio.gather(first.tick(), second.tick())
    assert store.lost_races > 0  # they did race for the same claims
    assert first.counters.claims + second.counters.claims == len(wids)
    assert sorted(rail.keys) == sorted(f"alice:{wid}" for wid in wids)  # each called once
    for wid in wids:
        paid = await withdrawal(journal, wid)
        assert paid.state is PayoutState.PAID
        assert paid.payer in (first.payer_id, second.payer_id)
    clock.now += 60_000
    await asyncio.gather(first.tick(), second.tick())
    assert len(rail.orders) == len(wids)
    await _clean(journal)


async def test_payers_split_the_work_by_a_stable_hash() -> None:
    journal = journal_on()
    wids = [f"w{i}" for i in range(8)]
    await with_withdrawals(journal, *wids, amount=10)
    rails = [ScriptedRail(*[NoAnswer("down")] * 8) for _ in range(2)]
    payers = [Payer(journal, rail, i, 2) for i, rail in enumerate(rails)]
    for payer in payers:
        await payer.tick()
    mine = [set(rail.keys) for rail in rails]
    assert mine[0].isdisjoint(mine[1]) and len(mine[0] | mine[1]) == len(wids)
    assert all(mine)  # eight withdrawals: each payer got some


async def test_a_request_whose_payer_is_down_is_claimed_by_another_after_the_lease() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    wids = [f"w{i}" for i in range(8)]
    await with_withdrawals(journal, *wids, amount=10)
    payer = Payer(journal, ScriptedRail(), 0, 2, lease_ms=30_000)  # replica 1 is down
    await payer.tick()
    left = [wid for wid in wids if await state_of(journal, wid) is PayoutState.REQUESTED]
    assert 0 < len(left) < len(wids)  # replica 1's share waits for it
    clock.now += 29_999
    await payer.tick()
    assert [wid for wid in wids if await state_of(journal, wid) is PayoutState.PAID] == [
        wid for wid in wids if wid not in left]
    clock.now += 1
    await payer.tick()
    assert all([await state_of(journal, wid) is PayoutState.PAID for wid in wids])
    await _clean(journal)


async def test_the_manual_rail_leaves_requested_withdrawals_to_the_operator() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    payer = Payer(journal, ManualRail(), 0, 1)
    await payer.tick()
    clock.now += 3_600_000  # even long after the lease
    await payer.tick()
    assert await state_of(journal, "w1") is PayoutState.REQUESTED
    assert payer.counters.claims == 0 and payer.counters.calls == 0
    await _clean(journal)


async def test_a_rejected_withdrawal_found_unrefunded_is_refunded() -> None:
    journal = journal_on()
    await with_withdrawals(journal, "w1")
    # The operator's reject whose refund never ran (its process died in between).
    rejected = await journal.move_payout("alice", "w1", PayoutState.REJECTED, reason="fraud")
    assert isinstance(rejected, Withdrawal)
    payer = Payer(journal, ManualRail(), 0, 1)
    await payer.tick()
    assert await state_of(journal, "w1") is PayoutState.REFUNDED
    account = await journal.get_account("alice")
    assert isinstance(account, User) and account.balance == 1000
    assert payer.counters.refunds == 1
    await _clean(journal)


async def test_a_retried_refusal_is_a_new_try_under_a_new_key() -> None:
    clock = Clock()
    journal = journal_on(clock=clock)
    await with_withdrawals(journal, "w1")
    rail = ScriptedRail(Refused("HTTP 422: account closed"))
    payer = Payer(journal, rail, 0, 1)
    await payer.tick()
    assert await state_of(journal, "w1") is PayoutState.FAILED
    retried = await journal.move_payout("alice", "w1", PayoutState.REQUESTED)  # the operator
    assert isinstance(retried, Withdrawal) and retried.tries == 2
    clock.now += 1000
    await payer.tick()
    assert rail.keys == ["alice:w1", "alice:w1:2"]
    paid = await withdrawal(journal, "w1")
    assert (paid.state, paid.reference, paid.tries) == (PayoutState.PAID, "ref-alice:w1:2", 2)
    await _clean(journal)


class FailingWrites(StoreWrapper):
    """Reports the store unavailable for the next ``failures`` replaces of ``key``."""

    def __init__(self, inner: MemoryStore, key: str) -> None:
        super().__init__(inner)
        self.key = key
        self.failures = 0

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "replace" and key == self.key and self.failures > 0:
            self.failures -= 1
            raise Unavailable(key, op, "test outage")
        return await call()


async def test_an_answer_that_could_not_be_written_is_written_later_without_a_new_call() -> None:
    clock = Clock()
    store = FailingWrites(MemoryStore(), "withdrawal:alice:w1")

    def on_step(step: str) -> None:
        if step == "payout.claim":
            store.failures = 1  # the claim is in; writing "paid" will fail once

    journal = Journal(store, JournalContext(clock=clock, timing=FAST, on_step=on_step))
    await with_withdrawals(journal, "w1")
    rail = ScriptedRail()
    payer = Payer(journal, rail, 0, 1)
    await payer.tick()
    assert await state_of(journal, "w1") is PayoutState.PAYING and payer.counters.failed == 1
    clock.now += 1000
    await payer.tick()
    assert await state_of(journal, "w1") is PayoutState.PAID
    assert len(rail.orders) == 1  # the remembered answer was written, no second call
    await _clean(journal)
