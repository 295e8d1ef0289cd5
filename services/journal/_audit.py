"""The audit: docs/protocol.md's invariants checked over every document, found through the index
documents (the store has no scan).

``check_invariants`` is pure: it judges a ``Snapshot``. ``audit`` reads one from a store; the
reads are not one atomic snapshot, so run it with the writers stopped for an exact answer (the
simulation snapshots its store between two operations instead).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from services.store import DocumentStore, Json, NotFound

from ._documents import Campaign, DepositRecord, Fill, Receipt, Slot, User, slot_from_json
from ._ids import campaign_key, deposit_key, filler_key, receipt_key, slot_key, user_key
from ._index import SHARDS, IndexKind, index_key


@dataclass(frozen=True, slots=True)
class Violation:
    """Invariant ``invariant`` (docs/protocol.md's number) broken; ``keys`` are the documents."""

    invariant: int
    message: str
    keys: tuple[str, ...]

    def __str__(self) -> str:
        return f"invariant {self.invariant}: {self.message} [{', '.join(self.keys)}]"


@dataclass
class Snapshot:
    users: dict[str, User] = field(default_factory=dict)
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    slots: dict[tuple[str, int], Slot] = field(default_factory=dict)
    receipts: dict[tuple[str, int], Receipt] = field(default_factory=dict)
    deposits: dict[tuple[str, str], DepositRecord] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: Iterable[tuple[str, Json]]) -> Snapshot:
        snap = cls()
        for key, value in docs:
            snap.add(key, value)
        return snap

    def add(self, key: str, value: Json) -> None:
        kind, _, rest = key.partition(":")
        if kind == "user":
            self.users[rest] = User.from_json(value)
        elif kind == "campaign":
            self.campaigns[rest] = Campaign.from_json(value)
        elif kind in ("slot", "txn"):
            cid, _, n = rest.partition(":")
            if kind == "slot":
                self.slots[cid, int(n)] = slot_from_json(value)
            else:
                self.receipts[cid, int(n)] = Receipt.from_json(value)
        elif kind == "deposit":
            uid, _, did = rest.partition(":")
            self.deposits[uid, did] = DepositRecord.from_json(value)


def check_invariants(snap: Snapshot, quiescent: bool = False) -> list[Violation]:
    """Every broken invariant; the after-recovery ones (5, 6) too when ``quiescent``."""
    found: list[Violation] = []
    for cid, campaign in snap.campaigns.items():
        found += _check_campaign(snap, cid, campaign, quiescent)
    for (cid, n), receipt in snap.receipts.items():
        found += _check_receipt(snap, cid, n, receipt)
    ledger = _Ledger.of(snap)
    for uid, user in snap.users.items():
        found += _check_user(ledger, uid, user, quiescent)
    if quiescent:
        found += _check_conservation(snap)
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
    return []


@dataclass
class _Ledger:
    """Per user, the committed ops that move money: ``(attempt, amount)``, signed."""

    entries: dict[str, list[tuple[str, int]]]

    @classmethod
    def of(cls, snap: Snapshot) -> _Ledger:
        entries: dict[str, list[tuple[str, int]]] = {}
        for (uid, _), record in snap.deposits.items():
            entries.setdefault(uid, []).append((record.attempt, record.amount))
        for slot in snap.slots.values():
            if isinstance(slot, Fill):
                entries.setdefault(slot.buyer, []).append((slot.attempt, -slot.price))
        return cls(entries)

    def balance(self, uid: str, in_flight: str | None) -> int:
        return sum(amount for attempt, amount in self.entries.get(uid, ()) if attempt != in_flight)


def _check_user(ledger: _Ledger, uid: str, user: User, quiescent: bool) -> list[Violation]:
    found: list[Violation] = []
    ukey = user_key(uid)
    if user.balance < 0:
        found.append(Violation(2, f"negative balance {user.balance}", (ukey,)))
    if quiescent and user.lock is not None:
        found.append(Violation(5, f"lock of attempt {user.lock.attempt} remains", (ukey,)))
    # Exactly once: every committed op whose lock is gone has moved the balance once; the op
    # still holding the lock has not moved it yet.
    expected = ledger.balance(uid, None if user.lock is None else user.lock.attempt)
    if user.balance != expected:
        found.append(Violation(3, f"balance {user.balance} != {expected}, its committed deposits "
                                  "less its committed purchases", (ukey,)))
    return found


def _check_conservation(snap: Snapshot) -> list[Violation]:
    balances = sum(u.balance for u in snap.users.values())
    receipts = sum(r.price for r in snap.receipts.values())
    deposits = sum(d.amount for d in snap.deposits.values())
    if balances + receipts != deposits:
        text = f"balances {balances} + receipts {receipts} != deposits {deposits}"
        return [Violation(6, text, ())]
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
    # Slots and receipts up to head+2: the audit must see one that should not exist.
    for n in range(1, head + 3):
        for key in (slot_key(cid, n), receipt_key(cid, n)):
            async for found in _get(store, key):
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
