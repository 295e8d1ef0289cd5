"""``wire`` puts a process together: the store its URL names, a journal over it, and every slot
that journal finishes handed to the process's event publisher (which sends it to NATS, when
there is a NATS)."""

from __future__ import annotations

import asyncio

import pytest

from services.events import EventPublisher
from services.journal import Bought, Fill, Finished
from services.lab.loadgen import YieldingStore
from services.store import MemoryStore
from services.wiring import wire

pytestmark = pytest.mark.asyncio


async def test_every_slot_the_journal_finishes_reaches_the_publisher(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Without NATS the publisher keeps nothing, so what reaches it is seen at its door.
    submitted: list[tuple[EventPublisher, Finished]] = []

    def submit(self: EventPublisher, finished: Finished) -> None:
        submitted.append((self, finished))

    monkeypatch.setattr(EventPublisher, "submit", submit)
    wiring = await wire("x", "memory://", None)
    wiring.start()
    try:
        assert wiring.link is None
        assert isinstance(wiring.store, MemoryStore)  # no telemetry: the store as opened
        journal = wiring.journal
        assert journal.store is wiring.store
        await journal.create_account("owner")
        await journal.create_account("alice")
        await journal.deposit("alice", "d1", 100)
        await journal.create_campaign("c1", "owner", 10, 60)
        assert submitted == []  # only a finished slot is an event
        assert isinstance(await journal.buy("alice", "c1", 10), Bought)
    finally:
        await wiring.stop()
    [(publisher, finished)] = submitted
    assert publisher is wiring.publisher
    assert (finished.campaign, finished.slot) == ("c1", 1)
    assert isinstance(finished.filled, Fill) and finished.filled.buyer == "alice"


async def test_a_wired_journals_purchases_of_one_campaign_take_turns() -> None:
    """Two purchases of one campaign at once in a service both buy, one slot after the
    other, where an unwired journal's would race (tests/journal/test_turns.py): over a
    store that yields at every operation, as a networked one does."""
    wiring = await wire("purchase", YieldingStore(MemoryStore()), None)
    journal = wiring.journal
    for uid in ("owner", "alice", "bob"):
        await journal.create_account(uid)
    for uid in ("alice", "bob"):
        await journal.deposit(uid, "d1", 1000)
    await journal.create_campaign("c1", "owner", 10, 60)
    alice, bob = await asyncio.gather(journal.buy("alice", "c1", 1000),
                                      journal.buy("bob", "c1", 1000))
    assert isinstance(alice, Bought) and isinstance(bob, Bought), (alice, bob)
    assert sorted((alice.slot, bob.slot)) == [1, 2]
    await wiring.store.close()
