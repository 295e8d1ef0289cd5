"""The audit: docs/protocol.md's invariants, checked over every document reachable from the index
documents. Invariants 1-4 and 7 hold at any moment; 5 and 6 only once the writers stop and
recovery has run (``quiescent=True``).

Each case below starts from a clean store and hand-corrupts one thing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from services.journal import (
    Campaign,
    DepositLock,
    Snapshot,
    User,
    Void,
    campaign_key,
    check_invariants,
    read_documents,
    receipt_key,
    slot_key,
    user_key,
)
from services.store import DocumentStore, Json, MemoryStore

from .conftest import CAMPAIGN, Crash, Ids, Node, crash_after, market, user_of

pytestmark = pytest.mark.asyncio


async def _clean() -> MemoryStore:
    """alice and bob deposited 1000 each; alice bought slot 1 (100, with her filler ``ad``),
    bob slot 2 (200), alice slot 3 (400): head 3, receipts 700, balances 500 and 800."""
    store = MemoryStore()
    journal = Node(store).journal
    await market(journal, {"alice": 1000, "bob": 1000})
    await journal.upload_filler("alice", "ad", "Buy now")
    for buyer in ("alice", "bob", "alice"):
        await journal.buy(buyer, CAMPAIGN, 1000, filler="ad" if buyer == "alice" else None)
    assert (await user_of(store, "alice")).balance == 500
    assert (await user_of(store, "bob")).balance == 800
    return store


async def _edit(store: DocumentStore, key: str, change: Callable[[Json], None]) -> None:
    value = (await store.get(key)).value
    change(value)
    await store.upsert(key, value)


async def _numbers(store: DocumentStore, quiescent: bool) -> list[int]:
    return sorted(v.invariant for v in await Node(store).journal.audit(quiescent))


async def test_a_clean_store_passes_the_audit() -> None:
    store = await _clean()
    assert await _numbers(store, quiescent=False) == []
    assert await _numbers(store, quiescent=True) == []


async def _negative_balance(store: DocumentStore) -> None:
    await _edit(store, user_key("bob"), lambda v: v.update(balance=-1))


async def _balance_off_its_ledger(store: DocumentStore) -> None:
    await _edit(store, user_key("alice"), lambda v: v.update(balance=501))


async def _slot_at_head_plus_two(store: DocumentStore) -> None:
    await store.upsert(slot_key(CAMPAIGN, 5), Void("x1", "bob").to_json())


async def _head_past_an_empty_slot(store: DocumentStore) -> None:
    await _edit(store, campaign_key(CAMPAIGN), lambda v: v.update(head=4))


async def _receipt_disagrees_with_its_slot(store: DocumentStore) -> None:
    await _edit(store, receipt_key(CAMPAIGN, 2), lambda v: v.update(price=999))


async def _lock_remains(store: DocumentStore) -> None:
    lock = DepositLock("x1", "dx", 5).to_json()
    await _edit(store, user_key("alice"), lambda v: v.update(lock=lock))


async def _receipt_missing(store: DocumentStore) -> None:
    doc = await store.get(receipt_key(CAMPAIGN, 1))
    await store.remove(receipt_key(CAMPAIGN, 1), doc.cas)


async def _account_lost(store: DocumentStore) -> None:
    # bob's money vanishes with his document: only the sum over everything can tell.
    doc = await store.get(user_key("bob"))
    await store.remove(user_key("bob"), doc.cas)


Corruption = Callable[[DocumentStore], Coroutine[Any, Any, None]]

# corruption -> (invariants reported at any moment, invariants reported when quiescent)
CORRUPTIONS: dict[str, tuple[Corruption, list[int], list[int]]] = {
    "negative balance": (_negative_balance, [2, 3, 6], [2, 3, 6]),
    "balance off its ledger": (_balance_off_its_ledger, [3, 6], [3, 6]),
    "slot head+2 exists": (_slot_at_head_plus_two, [4], [4]),
    "head past an empty slot": (_head_past_an_empty_slot, [4], [4]),
    "receipt disagrees with its slot": (_receipt_disagrees_with_its_slot, [7], [7]),
    "a lock remains": (_lock_remains, [], [5]),
    "receipt missing for a slot <= head": (_receipt_missing, [5], [5]),
    "money not conserved": (_account_lost, [6], [6]),
}


@pytest.mark.parametrize("case", CORRUPTIONS, ids=CORRUPTIONS.keys())
async def test_a_corruption_is_reported_as_its_invariant(case: str) -> None:
    corrupt, at_any_moment, when_quiescent = CORRUPTIONS[case]
    store = await _clean()
    await corrupt(store)
    assert await _numbers(store, quiescent=False) == at_any_moment
    assert await _numbers(store, quiescent=True) == when_quiescent


async def test_a_violation_names_its_documents() -> None:
    store = await _clean()
    await _slot_at_head_plus_two(store)
    await _negative_balance(store)
    found = {v.invariant: v.keys for v in await Node(store).journal.audit()}
    assert found[4] == ("campaign:camp", "slot:camp:5")
    assert found[2] == ("user:bob",)


async def test_an_op_in_flight_is_fine_at_any_moment_but_not_after_recovery() -> None:
    store = await _clean()
    crashed = Node(store, ids=Ids("c"), crash=crash_after("buy.fill"))
    with pytest.raises(Crash):
        await crashed.journal.buy("bob", CAMPAIGN, 10_000)
    journal = Node(store).journal
    assert await journal.audit() == []
    # Unfinished: slot head+1 is there and bob's lock remains.
    found = await journal.audit(quiescent=True)
    assert sorted((v.invariant, v.keys) for v in found) == [
        (5, ("campaign:camp", "slot:camp:4")), (5, ("user:bob",))]
    assert (await journal.check_campaign(CAMPAIGN)).repaired is not None
    assert await journal.audit(quiescent=True) == []


async def test_read_documents_finds_everything_through_the_indexes() -> None:
    store = await _clean()
    docs = [(key, value, cas) async for key, value, cas in read_documents(store)]
    keys = [key for key, _, _ in docs]
    assert len(keys) == len(set(keys))  # each document once
    assert {k for k in keys if not k.startswith("index:")} == {
        "user:seller", "user:alice", "user:bob",
        "deposit:alice:initial", "deposit:bob:initial",
        "filler:alice:ad",
        "campaign:camp", "owned:seller", "fillers:alice",
        "slot:camp:1", "slot:camp:2", "slot:camp:3",
        "txn:camp:1", "txn:camp:2", "txn:camp:3",
    }
    index_kinds = {k.split(":")[1] for k in keys if k.startswith("index:")}
    assert index_kinds == {"users", "campaigns", "deposits", "fillers"}
    for key, value, cas in docs:  # as stored
        doc = await store.get(key)
        assert (doc.value, doc.cas) == (value, cas)
    # The audit is the pure check over exactly these documents.
    snap = Snapshot.from_documents((key, value) for key, value, _ in docs)
    assert snap.users["alice"] == User(500, None)
    assert set(snap.campaigns) == {CAMPAIGN}
    assert isinstance(snap.campaigns[CAMPAIGN], Campaign)
    assert sorted(snap.slots) == [(CAMPAIGN, 1), (CAMPAIGN, 2), (CAMPAIGN, 3)]
    assert sorted(snap.receipts) == sorted(snap.slots)
    assert sorted(snap.deposits) == [("alice", "initial"), ("bob", "initial")]
    assert check_invariants(snap, quiescent=True) == []


async def test_read_documents_also_returns_a_slot_that_should_not_exist() -> None:
    store = await _clean()
    await _slot_at_head_plus_two(store)
    keys = [key async for key, _, _ in read_documents(store)]
    assert "slot:camp:5" in keys
