"""A user's statement: the money-moving records that name them, newest first, read from KV
documents through the index and list documents (no scan): deposits, purchases, the credit
runs of the campaigns they own, withdrawals and their refunds. A purchase is in its buyer's
purchase list once the credit run of its sale lists it (about a second after it is finished;
the balance already has it), so for a moment the entries may not add up to the balance;
purchases credited before the lists existed are not in it. See docs/protocol.md."""

from __future__ import annotations

from dataclasses import dataclass

from services.store import DocumentStore, NotFound

from ._documents import DepositRecord
from ._ids import credit_key, deposit_key, owned_key, refund_key, withdrawal_key
from ._index import IndexKind, list_entries, list_index
from ._money_out import CreditRecord, RefundRecord, Withdrawal
from ._purchases import ListedPurchase, newest_purchases

Order = tuple[int, str, str]
"""An entry's place in the statement: (at, kind, ident), newest first."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One line: ``amount`` is the balance change (signed), ``at`` when it was asked for
    (ms; 0 for records from before records kept their time)."""

    at: int
    kind: str  # deposit, purchase, credit, withdrawal, refund
    ident: str  # the deposit id, "<cid>:<slot>", "<cid>:<first>-<last>", the withdrawal id
    amount: int
    detail: str = ""  # a withdrawal's payout state

    @property
    def order(self) -> Order:
        return self.at, self.kind, self.ident


async def statement(store: DocumentStore, uid: str, before: Order | None = None,
                    count: int | None = None) -> list[Entry]:
    """``uid``'s entries, newest first. With ``count``, of the purchases only the ``count``
    newest ordered before ``before`` (the other kinds all): enough for a page of at most
    ``count`` entries before ``before``, reading only the purchase pages that page needs."""
    entries = [*await _deposits(store, uid), *await _purchases(store, uid, before, count),
               *await _credits(store, uid), *await _withdrawals(store, uid)]
    return sorted(entries, key=lambda e: e.order, reverse=True)


async def user_withdrawals(store: DocumentStore, uid: str) -> list[str]:
    """The ids of ``uid``'s withdrawals, from the index."""
    return [entry.partition(":")[2] for entry in await list_index(store, IndexKind.WITHDRAWALS)
            if entry.partition(":")[0] == uid]


async def _deposits(store: DocumentStore, uid: str) -> list[Entry]:
    found = []
    for entry in await list_index(store, IndexKind.DEPOSITS):
        owner, _, did = entry.partition(":")
        if owner == uid and (value := await _value(store, deposit_key(uid, did))) is not None:
            record = DepositRecord.from_json(value)
            found.append(Entry(record.at, "deposit", did, record.amount))
    return found


async def _purchases(store: DocumentStore, uid: str, before: Order | None,
                     count: int | None) -> list[Entry]:
    def keep(p: ListedPurchase) -> bool:
        return before is None or _purchase(p).order < before

    read = await newest_purchases(store, uid, count, keep, lambda p: _purchase(p).order)
    return [_purchase(p) for p in read.purchases]


def _purchase(p: ListedPurchase) -> Entry:
    return Entry(p.bought_at, "purchase", f"{p.campaign}:{p.slot}", -p.price)


async def _credits(store: DocumentStore, uid: str) -> list[Entry]:
    found = []
    for cid in await list_entries(store, owned_key(uid)):
        first = 1
        while (value := await _value(store, credit_key(cid, first))) is not None:
            run = CreditRecord.from_json(value)
            if run.seller != uid:
                break  # a stray entry of a creation that lost to another owner's
            found.append(Entry(run.at, "credit", f"{cid}:{run.first}-{run.last}", run.amount))
            first = run.last + 1
    return found


async def _withdrawals(store: DocumentStore, uid: str) -> list[Entry]:
    found = []
    for wid in await user_withdrawals(store, uid):
        value = await _value(store, withdrawal_key(uid, wid))
        if value is None:
            continue
        withdrawal = Withdrawal.from_json(value)
        found.append(Entry(withdrawal.requested_at, "withdrawal", wid, -withdrawal.total,
                           withdrawal.state.value))
        refund = await _value(store, refund_key(uid, wid))
        if refund is not None:
            record = RefundRecord.from_json(refund)
            found.append(Entry(record.at, "refund", wid, record.amount))
    return found


async def _value(store: DocumentStore, key: str) -> dict[str, object] | None:
    try:
        return (await store.get(key)).value
    except NotFound:
        return None
