"""A journal with turns (``Journal(..., take_turns=True)``, as the services run it) queues its
purchases per campaign: two of one campaign no longer race in one process, two of different
campaigns still run at once, and a purchase that ends in any way passes its turn on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from services.journal import (
    Bought,
    BuyOutcome,
    Created,
    Interrupted,
    Journal,
    JournalContext,
    LostRace,
    campaign_key,
)
from services.lab.loadgen import YieldingStore
from services.store import DocumentStore, MemoryStore, StoreWrapper, Unavailable

from .conftest import CAMPAIGN, MIN_PRICE, OWNER, FakeClock, Ids, market, user_of

pytestmark = pytest.mark.asyncio

T = TypeVar("T")


class _Gate(StoreWrapper):
    """Holds every operation on one key while ``opened`` is clear (a store slow there);
    with ``fail_next``, the next one held fails (Unavailable) once let through."""

    def __init__(self, inner: DocumentStore, key: str) -> None:
        super().__init__(inner)
        self.key = key
        self.opened = asyncio.Event()
        self.opened.set()
        self.held = asyncio.Event()
        self.fail_next = False

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if key == self.key and not self.opened.is_set():
            self.held.set()
            await self.opened.wait()
            if self.fail_next:
                self.fail_next = False
                raise Unavailable(key, op, "injected")
        return await call()


def _journal(store: DocumentStore, take_turns: bool, ids: str = "att") -> Journal:
    clock = FakeClock()
    return Journal(store, JournalContext(clock=clock, sleep=clock.sleep, new_id=Ids(ids)),
                   take_turns=take_turns)


async def _two_buyers_at_once(take_turns: bool) -> tuple[Journal, tuple[BuyOutcome, BuyOutcome]]:
    """alice and bob buy ``CAMPAIGN`` at the same moment through one journal over a store
    that yields at every operation, as a real one does."""
    journal = _journal(YieldingStore(MemoryStore()), take_turns)
    await market(journal, {"alice": 10_000, "bob": 10_000})
    outcomes = await asyncio.gather(journal.buy("alice", CAMPAIGN, 10_000),
                                    journal.buy("bob", CAMPAIGN, 10_000))
    return journal, outcomes


async def test_without_turns_two_purchases_of_one_campaign_race() -> None:
    """The premise: interleaved, both read head 0 and one of them loses slot 1."""
    _, outcomes = await _two_buyers_at_once(take_turns=False)
    assert sorted(type(o).__name__ for o in outcomes) == ["Bought", "LostRace"], outcomes


async def test_with_turns_both_buy_one_after_the_other_at_double_the_price() -> None:
    journal, (alice, bob) = await _two_buyers_at_once(take_turns=True)
    assert isinstance(alice, Bought) and isinstance(bob, Bought), (alice, bob)
    assert (alice.slot, alice.price) == (1, MIN_PRICE)
    assert (bob.slot, bob.price) == (2, 2 * MIN_PRICE)
    assert journal.turns is not None and not len(journal.turns)  # nothing kept once idle


async def test_purchases_of_other_campaigns_do_not_wait_for_each_other() -> None:
    gate = _Gate(MemoryStore(), campaign_key(CAMPAIGN))
    journal = _journal(gate, take_turns=True)
    await market(journal, {"alice": 10_000, "bob": 10_000})
    assert isinstance(await journal.create_campaign("other", OWNER, MIN_PRICE, 60), Created)
    gate.opened.clear()
    stuck = asyncio.create_task(journal.buy("alice", CAMPAIGN, 10_000))
    await gate.held.wait()  # alice's purchase is reading CAMPAIGN, held there
    other = await asyncio.wait_for(journal.buy("bob", "other", 10_000), 5)
    assert isinstance(other, Bought) and other.slot == 1, other
    assert not stuck.done()
    gate.opened.set()
    assert isinstance(await stuck, Bought)


async def test_a_turn_passes_on_however_the_purchase_before_ended() -> None:
    """The first purchase fails on the store (``Interrupted``), the second is cancelled while
    it waits its turn, the third buys slot 1; then the journal keeps no queue."""
    gate = _Gate(MemoryStore(), campaign_key(CAMPAIGN))
    journal = _journal(gate, take_turns=True)
    await market(journal, {"alice": 10_000, "bob": 10_000, "carol": 10_000})
    gate.opened.clear()
    gate.fail_next = True
    failing = asyncio.create_task(journal.buy("alice", CAMPAIGN, 10_000))
    await gate.held.wait()
    waiting = asyncio.create_task(journal.buy("bob", CAMPAIGN, 10_000))
    last = asyncio.create_task(journal.buy("carol", CAMPAIGN, 10_000))
    await asyncio.sleep(0)  # both queued behind alice's
    assert journal.turns is not None and len(journal.turns) == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    gate.opened.set()
    assert isinstance(await failing, Interrupted)
    carol = await asyncio.wait_for(last, 5)
    assert isinstance(carol, Bought) and carol.slot == 1, carol
    assert not len(journal.turns)


async def test_lost_races_across_journals_still_happen_and_are_settled() -> None:
    """Turns are one journal's (one process's): two journals on one store still race, and
    the protocol settles it (one bought, one lost, nothing charged to the loser)."""
    store = YieldingStore(MemoryStore())
    first, second = _journal(store, True, "a"), _journal(store, True, "b")
    await market(first, {"alice": 10_000, "bob": 10_000})
    outcomes = await asyncio.gather(first.buy("alice", CAMPAIGN, 10_000),
                                    second.buy("bob", CAMPAIGN, 10_000))
    assert sorted(type(o).__name__ for o in outcomes) == ["Bought", "LostRace"], outcomes
    (loser, lost), = ((uid, o) for uid, o in zip(("alice", "bob"), outcomes, strict=True)
                      if isinstance(o, LostRace))
    assert lost.price == 2 * MIN_PRICE  # the next slot's, as the protocol reports it
    assert (await user_of(store, loser)).balance == 10_000
