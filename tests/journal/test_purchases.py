"""A user's purchases (docs/protocol.md, "A user's purchases"): each credit run lists its
purchases under their buyers, in pages of a fixed size, before its intent. Read newest first
across page boundaries (a campaign credited late puts old purchases on new pages), each
purchase once even when a dead creditor's retry listed it twice; a creditor dying at any
listing step, or a write in doubt, leaves the next one to finish; the audit reports a list
that does not match the receipts (invariant 10)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from services.journal import (
    Created,
    Credited,
    Fill,
    Interrupted,
    Journal,
    ListedPurchase,
    Missing,
    Policy,
    Purchases,
    Snapshot,
    check_invariants,
    credit_key,
    purchase_page_key,
    purchases_key,
    read_snapshot,
    slot_from_json,
    slot_key,
    user_key,
)
from services.journal._purchases import PurchasePage
from services.store import CasMismatch, DocumentStore, InDoubt, MemoryStore, NotFound, StoreWrapper

from .conftest import CAMPAIGN, OWNER, Crash, Node, RecordingStore, crash_after, market, user_of

pytestmark = pytest.mark.asyncio

PAGE = 3
SMALL = Policy(purchase_page=PAGE)
OTHER = "other"  # owned by OTHER_OWNER, so its credits never meet CAMPAIGN's
OTHER_OWNER = "owner2"
RICH = 10**12
T = TypeVar("T")


def _small(node: Node) -> Journal:
    """``node``'s journal, its lists three purchases a page."""
    return Journal(node.store, dataclasses.replace(node.context(), policy=SMALL))


async def _world(store: DocumentStore) -> Node:
    """Two campaigns of two owners; alice and bob with money."""
    node = Node(store)
    await market(node.journal, {"alice": RICH, "bob": RICH})
    assert await node.journal.create_account(OTHER_OWNER) == Created("user", OTHER_OWNER)
    assert await node.journal.create_campaign(OTHER, OTHER_OWNER, 100, 60) == \
        Created("campaign", OTHER)
    return node


async def _buy(node: Node, uid: str, cid: str, times: int = 1) -> None:
    for _ in range(times):
        node.clock.advance(7)
        bought = await node.journal.buy(uid, cid, RICH)
        assert type(bought).__name__ == "Bought", bought


async def _bought(store: DocumentStore, uid: str) -> list[ListedPurchase]:
    """Every purchase of ``uid``'s from the slots, newest first: what the list must show."""
    found = []
    for cid in (CAMPAIGN, OTHER):
        for n in range(1, 100):
            try:
                slot = slot_from_json((await store.get(slot_key(cid, n))).value)
            except NotFound:
                break
            if isinstance(slot, Fill) and slot.buyer == uid:
                found.append(ListedPurchase.of(cid, n, slot))
    return sorted(found, key=lambda p: (p.bought_at, p.campaign, p.slot), reverse=True)


async def _walk(journal: Journal, uid: str, size: int) -> list[ListedPurchase]:
    """Every purchase of ``uid``'s, ``size`` at a time, as ListPurchases' tokens walk them:
    after the last one handed out, from the page the first read started at."""
    shown: list[ListedPurchase] = []
    before, start = None, None
    for _ in range(100):
        read = await journal.list_purchases(uid, before, start, size + 1)
        assert isinstance(read, Purchases), read
        shown += read.purchases[:size]
        if len(read.purchases) <= size:
            return shown
        last = read.purchases[size - 1]
        before, start = (last.bought_at, last.campaign, last.slot), read.start_page
    raise AssertionError("more than 100 pages")


async def _stored_entries(store: DocumentStore, uid: str) -> list[tuple[str, int]]:
    """Every entry in ``uid``'s list documents (copies included), page by page."""
    head = PurchasePage.from_json((await store.get(purchases_key(uid))).value)
    pages = [PurchasePage.from_json((await store.get(purchase_page_key(uid, n))).value)
             for n in range(1, head.number)]
    return [p.ident for page in [*pages, head] for p in page.entries]


async def test_a_credit_lists_each_buyers_purchases_once_with_what_a_list_shows() -> None:
    store = RecordingStore(MemoryStore())
    node = await _world(store)
    await _buy(node, "alice", CAMPAIGN, 2)
    await _buy(node, "bob", CAMPAIGN)
    await _buy(node, "alice", CAMPAIGN)
    assert await node.journal.list_purchases("alice", None, None, 10) == Purchases([], 0)
    store.clear()
    node.steps.clear()
    credited = await node.journal.credit(CAMPAIGN)
    assert isinstance(credited, Credited) and (credited.first, credited.last) == (1, 4)
    # One write per buyer, each before the intent; the run's slots read, no receipt.
    assert [op for op in store.ops if op[1].startswith("purchases:")] == [
        ("get", purchases_key("alice")), ("insert", purchases_key("alice")),
        ("get", purchases_key("bob")), ("insert", purchases_key("bob"))]
    assert store.writes[:2] == [("insert", purchases_key("alice")),
                                ("insert", purchases_key("bob"))]
    assert [key for _, key in store.ops if key.startswith(("slot:", "txn:"))] == \
        [slot_key(CAMPAIGN, n) for n in (1, 2, 3, 4)]
    assert node.steps[:3] == ["credit.list", "credit.list", "credit.intent"]
    alices = await _bought(store, "alice")
    assert [p.slot for p in alices] == [4, 2, 1]
    read = await node.journal.list_purchases("alice", None, None, 10)
    assert read == Purchases(alices, 1)
    assert (await node.journal.list_purchases("bob", None, None, 10)) == \
        Purchases(await _bought(store, "bob"), 1)
    # Crediting again lists nothing twice.
    await _buy(node, "alice", CAMPAIGN)
    await node.journal.credit(CAMPAIGN)
    assert await _stored_entries(store, "alice") == [(CAMPAIGN, n) for n in (1, 2, 4, 5)]

    lines = await node.journal.statement("alice")
    assert isinstance(lines, list)
    assert [(e.kind, e.ident, e.amount, e.at) for e in lines if e.kind == "purchase"] == \
        [("purchase", f"{p.campaign}:{p.slot}", -p.price, p.bought_at)
         for p in await _bought(store, "alice")]
    assert sum(e.amount for e in lines) == (await user_of(store, "alice")).balance
    assert await node.journal.list_purchases("nobody", None, None, 5) == \
        Missing("user", "nobody")
    assert await node.journal.audit(quiescent=True) == []


async def test_an_append_reads_the_head_once_and_writes_each_page_it_fills() -> None:
    store = RecordingStore(MemoryStore())
    node = await _world(store)
    await _buy(node, "alice", CAMPAIGN, 2)
    await _small(node).credit(CAMPAIGN)  # alice's head: 2 of 3
    await _buy(node, "alice", CAMPAIGN, 5)
    store.clear()
    assert isinstance(await _small(node).credit(CAMPAIGN), Credited)
    key = purchases_key("alice")
    # Fill the head; seal it and write page 2 (full); seal that and write page 3.
    assert [op for op in store.ops if op[1].startswith("purchases:")] == [
        ("get", key), ("replace", key), ("insert", purchase_page_key("alice", 1)),
        ("replace", key), ("insert", purchase_page_key("alice", 2)), ("replace", key)]
    assert await _stored_entries(store, "alice") == [(CAMPAIGN, n) for n in range(1, 8)]
    assert await node.journal.audit(quiescent=True) == []


async def _late_world() -> tuple[Node, Journal]:
    """alice's purchases in CAMPAIGN (older) and OTHER (newer), OTHER credited first: pages
    1 [o1 o2 o3], 2 [o4 c1 c2], head 3 [c3 c4], so the newest four span three pages."""
    node = await _world(MemoryStore())
    await _buy(node, "alice", CAMPAIGN, 4)
    await _buy(node, "alice", OTHER, 4)
    lister = _small(node)
    for cid in (OTHER, CAMPAIGN):
        assert isinstance(await lister.credit(cid), Credited)
    return node, lister


async def test_pages_read_newest_first_across_page_boundaries() -> None:
    node, _ = await _late_world()
    store = node.store
    assert await _stored_entries(store, "alice") == [
        (OTHER, 1), (OTHER, 2), (OTHER, 3), (OTHER, 4), (CAMPAIGN, 1), (CAMPAIGN, 2),
        (CAMPAIGN, 3), (CAMPAIGN, 4)]
    everything = await _bought(store, "alice")
    assert [p.campaign for p in everything] == [OTHER] * 4 + [CAMPAIGN] * 4
    for size in (1, 2, 3, 4, 7, 8, 50):
        assert await _walk(node.journal, "alice", size) == everything, size
    assert await node.journal.audit(quiescent=True) == []


async def test_a_page_reads_only_the_pages_it_needs() -> None:
    store = RecordingStore(MemoryStore())
    node = await _world(store)
    lister = _small(node)
    for _ in range(5):  # in order: every page's purchases later than the pages below
        await _buy(node, "alice", CAMPAIGN, 3)
        await lister.credit(CAMPAIGN)
    assert len(await _stored_entries(store, "alice")) == 15
    store.clear()
    read = await node.journal.list_purchases("alice", None, None, 3)
    assert isinstance(read, Purchases) and [p.slot for p in read.purchases] == [15, 14, 13]
    # The user and the head (the newest three, later than anything under it): no more.
    assert [key for _, key in store.ops] == [user_key("alice"), purchases_key("alice")]
    store.clear()
    read = await node.journal.list_purchases("alice", None, None, 4)
    assert isinstance(read, Purchases) and [p.slot for p in read.purchases] == [15, 14, 13, 12]
    assert [key for _, key in store.ops] == [user_key("alice"), purchases_key("alice"),
                                            purchase_page_key("alice", 4)]


async def test_a_walk_sees_what_was_listed_when_it_began_once() -> None:
    node, lister = await _late_world()
    everything = await _bought(node.store, "alice")
    first = await node.journal.list_purchases("alice", None, None, 3)
    assert isinstance(first, Purchases) and first.start_page == 3
    # Meanwhile alice buys more, and it is listed: newer than the walk's cursor.
    await _buy(node, "alice", CAMPAIGN, 3)
    await lister.credit(CAMPAIGN)
    shown = first.purchases[:2]
    last = shown[-1]
    rest = await node.journal.list_purchases(
        "alice", (last.bought_at, last.campaign, last.slot), first.start_page, 100)
    assert isinstance(rest, Purchases)
    assert shown + rest.purchases == everything


async def test_the_statement_pages_reading_only_the_purchases_a_page_needs() -> None:
    node, _ = await _late_world()
    j = node.journal
    full = await j.statement("alice")
    assert isinstance(full, list) and len(full) == 9  # the deposit and 8 purchases
    assert [e.kind for e in full] == ["purchase"] * 8 + ["deposit"]
    for count in (1, 2, 3):
        for cut in [None, *(e.order for e in full)]:
            # Every other kind whole, of the purchases only what the page can show.
            part = await j.statement("alice", cut, count)
            assert isinstance(part, list)
            assert len([e for e in part if e.kind == "purchase"]) <= count
            wanted = [e for e in full if cut is None or e.order < cut][:count]
            assert [e for e in part if cut is None or e.order < cut][:count] == wanted


LISTING_STEPS = [("credit.list", 1), ("credit.seal", 1), ("credit.list", 2),
                 ("credit.list", 3)]


@pytest.mark.parametrize(("step", "occurrence"), LISTING_STEPS)
async def test_a_creditor_dying_while_listing_leaves_the_next_to_finish(
        step: str, occurrence: int) -> None:
    node = await _world(MemoryStore())
    lister = _small(node)
    await _buy(node, "alice", CAMPAIGN, 2)
    await lister.credit(CAMPAIGN)  # alice's head: 2 of 3
    # The next run: alice's 3 (fill the head, seal it, a new head), then bob's 1.
    await _buy(node, "alice", CAMPAIGN, 3)
    await _buy(node, "bob", CAMPAIGN)
    node.crash = crash_after(step, occurrence)
    with pytest.raises(Crash):
        await _small(node).credit(CAMPAIGN)
    assert await node.journal.audit() == []
    node.crash = None
    again = await _small(node).credit(CAMPAIGN)
    assert isinstance(again, Credited) and (again.first, again.last) == (3, 6)
    for uid in ("alice", "bob"):
        expected = await _bought(node.store, uid)
        for size in (1, 2, 10):
            assert await _walk(node.journal, uid, size) == expected
        stored = await _stored_entries(node.store, uid)
        assert sorted(set(stored)) == sorted(p.ident for p in expected)
    lines = await node.journal.statement("alice")
    assert isinstance(lines, list)
    purchases = [e.ident for e in lines if e.kind == "purchase"]
    assert len(purchases) == len(set(purchases)) == 5
    assert await node.journal.audit(quiescent=True) == []


async def test_a_purchase_listed_twice_is_shown_once() -> None:
    node = await _world(MemoryStore())
    lister = _small(node)
    await _buy(node, "alice", CAMPAIGN, 2)
    await lister.credit(CAMPAIGN)
    await _buy(node, "alice", CAMPAIGN, 3)
    # Dies after listing slot 3 on the full head and sealing it, and slots 4-5 on a new head:
    # the next creditor finds 3 only in a sealed page and lists it again.
    node.crash = crash_after("credit.list", 2)
    with pytest.raises(Crash):
        await _small(node).credit(CAMPAIGN)
    node.crash = None
    await _buy(node, "alice", CAMPAIGN)
    assert isinstance(await _small(node).credit(CAMPAIGN), Credited)
    stored = await _stored_entries(node.store, "alice")
    assert stored.count((CAMPAIGN, 3)) == 2 and len(stored) == 7
    expected = await _bought(node.store, "alice")
    assert [p.slot for p in expected] == [6, 5, 4, 3, 2, 1]
    for size in (1, 2, 3, 6):
        assert await _walk(node.journal, "alice", size) == expected
    assert await node.journal.audit(quiescent=True) == []


class _Faulty(StoreWrapper):
    """The writes of one key fail, one fault each, in order: ``"lose"`` (CasMismatch),
    ``"applied"`` or ``"lost"`` (InDoubt after applying the write, or without it, with
    ``meanwhile`` run before the InDoubt reaches the writer)."""

    def __init__(self, inner: DocumentStore, key: str, faults: list[str],
                 meanwhile: Callable[[], Awaitable[None]] | None = None) -> None:
        super().__init__(inner)
        self.key, self.faults, self.meanwhile, self.writes = key, faults, meanwhile, 0

    async def around(self, op: str, key: str, call: Callable[[], Awaitable[T]]) -> T:
        if op == "get" or key != self.key or not self.faults:
            return await call()
        self.writes += 1
        fault = self.faults.pop(0)
        if fault == "lose":
            raise CasMismatch(key, op, "injected")
        if fault == "applied":
            await call()
        if self.meanwhile is not None:
            await self.meanwhile()
        raise InDoubt(key, op, f"injected: {fault}")


@pytest.mark.parametrize("faults", [["applied"], ["lost"], ["applied", "applied"],
                                    ["lost", "applied", "lost"]])
async def test_a_write_in_doubt_is_settled_by_reading_again(faults: list[str]) -> None:
    inner = MemoryStore()
    node = await _world(inner)
    await _buy(node, "alice", CAMPAIGN, 2)
    await _small(node).credit(CAMPAIGN)
    await _buy(node, "alice", CAMPAIGN, 2)  # fills the head (3 of 3) and starts page 2
    faulty = _Faulty(inner, purchases_key("alice"), list(faults))
    node.store = faulty
    assert isinstance(await _small(node).credit(CAMPAIGN), Credited)
    assert faulty.writes == len(faults)
    assert await _stored_entries(inner, "alice") == [(CAMPAIGN, n) for n in (1, 2, 3, 4)]
    assert await node.journal.audit(quiescent=True) == []


async def test_a_write_in_doubt_then_sealed_by_another_is_not_written_twice() -> None:
    inner = MemoryStore()
    node = await _world(inner)
    await _buy(node, "alice", CAMPAIGN, 2)
    await _small(node).credit(CAMPAIGN)
    await _buy(node, "alice", CAMPAIGN)  # slot 3: our write fills alice's head
    await _buy(node, "alice", OTHER)
    other = _small(Node(inner))

    async def another_creditor() -> None:  # lists OTHER's slot 1: seals the head, page 2
        assert isinstance(await other.credit(OTHER), Credited)

    # Our write lands with no answer; before we read again, the other seals it.
    node.store = _Faulty(inner, purchases_key("alice"), ["applied"], another_creditor)
    assert isinstance(await _small(node).credit(CAMPAIGN), Credited)
    assert await _stored_entries(inner, "alice") == [
        (CAMPAIGN, 1), (CAMPAIGN, 2), (CAMPAIGN, 3), (OTHER, 1)]
    assert await node.journal.audit(quiescent=True) == []


async def test_a_list_that_never_takes_a_write_fails_the_credit_boundedly() -> None:
    inner = MemoryStore()
    node = await _world(inner)
    await _buy(node, "alice", CAMPAIGN, 2)
    faulty = _Faulty(inner, purchases_key("alice"), ["lose"] * 1000)
    node.store = faulty
    node.journal = Journal(faulty, node.context())
    assert isinstance(await node.journal.credit(CAMPAIGN), Interrupted)
    assert node.timing.max_cas_retries < faulty.writes <= node.timing.max_cas_retries + 3
    # Nothing credited, nothing locked; once the list takes writes, the next credit does.
    assert (await user_of(inner, OWNER)).balance == 0
    assert (await user_of(inner, OWNER)).lock is None
    with pytest.raises(NotFound):
        await inner.get(credit_key(CAMPAIGN, 1))
    faulty.faults.clear()
    assert isinstance(await node.journal.credit(CAMPAIGN), Credited)
    assert await node.journal.audit(quiescent=True) == []


def _tens(snap: Snapshot) -> list[str]:
    return [v.message for v in check_invariants(snap) if v.invariant == 10]


async def test_the_audit_reports_a_list_that_is_not_the_receipts() -> None:
    node, _ = await _late_world()
    store = node.store
    assert _tens(await read_snapshot(store)) == []
    head = PurchasePage.from_json((await store.get(purchases_key("alice"))).value)

    async def broken(page: PurchasePage) -> list[str]:
        await store.replace(purchases_key("alice"), page.to_json(),
                            (await store.get(purchases_key("alice"))).cas)
        return _tens(await read_snapshot(store))

    cheaper = dataclasses.replace(head.entries[0], price=1)
    assert await broken(dataclasses.replace(head, rows=(cheaper.to_json(), head.rows[1]))) == [
        f"listed purchase {CAMPAIGN}:3 at 1 is no receipt of alice's"]
    moved = dataclasses.replace(head.entries[0], start=head.entries[0].start + 1)
    assert await broken(dataclasses.replace(head, rows=(moved.to_json(), head.rows[1]))) == [
        f"listed purchase {CAMPAIGN}:3 disagrees with its slot (filler or times)"]
    assert await broken(dataclasses.replace(head, rows=head.rows[1:])) == [
        f"credited purchase {CAMPAIGN}:3 is not in alice's list"]
    assert await broken(dataclasses.replace(head, below=0)) == [
        f"page 3's below 0 is before a purchase at {head.below} in a page under it"]
    assert await broken(head) == []
    # bob's list naming alice's purchase.
    await store.insert(purchases_key("bob"), head.to_json() | {"page": 1, "below": 0})
    assert _tens(await read_snapshot(store)) == [
        f"listed purchase {CAMPAIGN}:3 at {head.entries[0].price} is no receipt of bob's",
        f"listed purchase {CAMPAIGN}:4 at {head.entries[1].price} is no receipt of bob's"]
    snap = await read_snapshot(store)
    del snap.purchase_pages["alice", 2]
    assert "sealed page 2 under head page 3 is missing" in _tens(snap)
