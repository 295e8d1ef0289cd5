"""The audit: docs/protocol.md's invariants checked over every document, found through the index
documents (the store has no scan).

``check_invariants`` is pure: it judges a ``Snapshot``. ``audit`` reads one from a store; the
reads are not one atomic snapshot, so run it with the writers stopped for an exact answer (the
simulation snapshots its store between two operations instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from services.store import DocumentStore, Json, NotFound

from ._documents import Campaign, Fill, Receipt, fee_of
from ._ids import (
    campaign_key,
    credit_key,
    deposit_key,
    filler_key,
    fillers_key,
    owned_key,
    purchase_page_key,
    purchases_key,
    receipt_key,
    refund_key,
    slot_key,
    user_key,
    withdrawal_key,
)
from ._index import SHARDS, IndexKind, index_key
from ._ledger import Ledger, check_conservation, check_credits, check_payouts, check_user
from ._purchase_audit import check_purchase_lists
from ._snapshot import Snapshot, Violation


def check_invariants(snap: Snapshot, quiescent: bool = False) -> list[Violation]:
    """Every broken invariant; the after-recovery ones too when ``quiescent``."""
    found: list[Violation] = []
    for cid, campaign in snap.campaigns.items():
        found += _check_campaign(snap, cid, campaign, quiescent)
        found += check_credits(snap, cid, campaign)
    for (cid, n), receipt in snap.receipts.items():
        found += _check_receipt(snap, cid, n, receipt)
    ledger = Ledger.of(snap)
    for uid, user in snap.users.items():
        found += check_user(ledger, uid, user, quiescent)
    found += check_payouts(snap, quiescent)
    found += check_conservation(snap, ledger)
    found += check_purchase_lists(snap)
    return found


def _check_campaign(snap: Snapshot, cid: str, c: Campaign, quiescent: bool) -> list[Violation]:
    found: list[Violation] = []
    ckey = campaign_key(cid)
    ahead = [n for (c_id, n) in snap.slots if c_id == cid and n > c.head + 1]
    for n in ahead:
        found.append(Violation(4, f"slot {n} exists beyond head+1 = {c.head + 1}",
                               (ckey, slot_key(cid, n))))
    if quiescent and (cid, c.head + 1) in snap.slots:
        found.append(Violation(5, "slot head+1 exists after recovery",
                               (ckey, slot_key(cid, c.head + 1))))
    last_real = None
    for n in range(1, c.head + 1):
        slot = snap.slots.get((cid, n))
        if slot is None:
            found.append(Violation(4, f"head {c.head} passed the empty slot {n}",
                                   (ckey, slot_key(cid, n))))
        elif isinstance(slot, Fill):
            last_real = slot.purchase(n)
            if (cid, n) not in snap.receipts:
                found.append(Violation(5, f"finished slot {n} has no receipt", (slot_key(cid, n),)))
            buyer = snap.users.get(slot.buyer)
            if buyer is not None and buyer.locked_by(slot.attempt):
                found.append(Violation(4, f"head passed slot {n}, its buyer still locked by it",
                                       (ckey, user_key(slot.buyer))))
    if c.last != last_real:
        found.append(Violation(4, f"last is {c.last}, the last real slot <= head is {last_real}",
                               (ckey,)))
    return found


def _check_receipt(snap: Snapshot, cid: str, n: int, receipt: Receipt) -> list[Violation]:
    slot = snap.slots.get((cid, n))
    keys = (receipt_key(cid, n), slot_key(cid, n))
    if not isinstance(slot, Fill):
        return [Violation(7, "receipt for a slot that is empty or void", keys)]
    if (slot.buyer, slot.price, slot.attempt) != (receipt.buyer, receipt.price, receipt.attempt):
        return [Violation(7, "receipt disagrees with its slot (buyer, price or attempt)", keys)]
    campaign = snap.campaigns.get(cid)
    if campaign is not None and (receipt.seller, receipt.fee) != (
            campaign.owner, fee_of(receipt.price, campaign.fee_bps)):
        return [Violation(7, "receipt disagrees with its campaign (seller or fee)",
                          (*keys, campaign_key(cid)))]
    return []


async def read_documents(store: DocumentStore) -> AsyncIterator[tuple[str, Json, int]]:
    """Every document reachable from the index documents (and the indexes themselves, each
    read once)."""
    entries: dict[IndexKind, list[str]] = {kind: [] for kind in IndexKind}
    for kind in IndexKind:
        for shard in range(SHARDS):
            async for found in _get(store, index_key(kind, shard)):
                entries[kind] += found[1]["ids"]
                yield found
    for uid in sorted(entries[IndexKind.USERS]):
        async for found in _get(store, user_key(uid)):
            yield found
    for entry in sorted(entries[IndexKind.DEPOSITS]):
        uid, _, did = entry.partition(":")
        async for found in _get(store, deposit_key(uid, did)):
            yield found
    for entry in sorted(entries[IndexKind.FILLERS]):
        uid, _, fid = entry.partition(":")
        async for found in _get(store, filler_key(uid, fid)):
            yield found
    for entry in sorted(entries[IndexKind.WITHDRAWALS]):
        uid, _, wid = entry.partition(":")
        for key in (withdrawal_key(uid, wid), refund_key(uid, wid)):
            async for found in _get(store, key):
                yield found
    for uid in sorted(entries[IndexKind.USERS]):
        for key in (owned_key(uid), fillers_key(uid)):
            async for found in _get(store, key):
                yield found
        async for found in _purchase_documents(store, uid):
            yield found
    for cid in sorted(entries[IndexKind.CAMPAIGNS]):
        async for found in _campaign_documents(store, cid):
            yield found


async def _campaign_documents(
    store: DocumentStore, cid: str
) -> AsyncIterator[tuple[str, Json, int]]:
    head = None
    async for found in _get(store, campaign_key(cid)):
        head = found[1]["head"]
        yield found
    if head is None:
        return
    # Slots, receipts and credit runs up to head+2: the audit must see one that should not
    # exist (a credit run may start at any slot, so every slot is looked at).
    for n in range(1, head + 3):
        for key in (slot_key(cid, n), receipt_key(cid, n), credit_key(cid, n)):
            async for found in _get(store, key):
                yield found


async def _purchase_documents(
    store: DocumentStore, uid: str
) -> AsyncIterator[tuple[str, Json, int]]:
    """``uid``'s purchase list: its head, then sealed pages 1 to the head's (that one only
    when a seal's move of the head has not landed)."""
    page = None
    async for found in _get(store, purchases_key(uid)):
        page = found[1]["page"]
        yield found
    for number in range(1, (page or 0) + 1):
        async for found in _get(store, purchase_page_key(uid, number)):
            yield found


async def _get(store: DocumentStore, key: str) -> AsyncIterator[tuple[str, Json, int]]:
    try:
        doc = await store.get(key)
    except NotFound:
        return
    yield key, doc.value, doc.cas


async def read_snapshot(store: DocumentStore) -> Snapshot:
    """Every document ``read_documents`` finds, parsed."""
    snap = Snapshot()
    async for key, value, _cas in read_documents(store):
        snap.add(key, value)
    return snap


async def audit(store: DocumentStore, quiescent: bool = False) -> list[Violation]:
    """Every broken invariant in ``store``; see the module docstring on consistency."""
    return check_invariants(await read_snapshot(store), quiescent)
