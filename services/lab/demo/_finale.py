"""The verdict: the quiescent audit, in process on the store; the demo's own books against the
store; and the summary table.

The audit's per-user ledger already checks every balance against the committed deposits,
purchases and money out. The books check it again from the client's side: each user's balance
(GetAccount) must be what the demo deposited less the user's receipts and withdrawals in the
store (a call that failed without an answer may have committed, so only the store knows them
all); a user whose every Buy was answered must also match its acknowledged purchases exactly;
every acknowledged purchase must have its receipt, with that buyer and price; the operator's
books must balance; and the payment system must have paid every withdrawal exactly once
(``_money.py``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import Snapshot, Violation, Void, check_invariants, read_snapshot
from services.journal import books as operator_books
from services.lab.payments import PaymentSystem
from services.store import DocumentStore

from ._buyers import BuyerTally
from ._money import Payouts, Withdrawers, check_payouts
from ._pool import CALL_TIMEOUT_S, PurchasePool
from ._world import World


@dataclass
class Books:
    receipts: int = 0  # purchases committed in the world's campaigns
    voids: int = 0  # slots fenced off for an interrupted purchase
    mismatches: list[str] = field(default_factory=list)
    exact_users: int = 0  # users whose every Buy was answered, matching them exactly
    violations: list[Violation] = field(default_factory=list)  # the quiescent audit's
    unbalanced: int = 0  # the operator's books: deposits less where the money is
    payouts: Payouts = field(default_factory=Payouts)


async def verdict(store: DocumentStore, pool: PurchasePool, world: World,
                  tally: BuyerTally, payments: PaymentSystem,
                  withdrawers: Withdrawers) -> Books:
    snap = await read_snapshot(store)  # the whole store, read once for the audit and the books
    found = Books(violations=check_invariants(snap, quiescent=True),
                  unbalanced=operator_books(snap).difference,
                  payouts=check_payouts(snap, payments, withdrawers))
    _check_balances(snap, world, tally, found, await _balances(pool, world.users))
    return found


def _check_balances(snap: Snapshot, world: World, tally: BuyerTally, books: Books,
                    balances: dict[str, int]) -> None:
    campaigns = set(world.campaigns)
    spent: Counter[str] = Counter()
    for (cid, _), receipt in snap.receipts.items():
        if cid in campaigns:
            books.receipts += 1
            spent[receipt.buyer] += receipt.price
    books.voids = sum(1 for (cid, _), slot in snap.slots.items()
                      if cid in campaigns and isinstance(slot, Void))
    withdrawn: Counter[str] = Counter()
    for (uid, wid), withdrawal in snap.withdrawals.items():
        withdrawn[uid] += withdrawal.total - (snap.refunds[uid, wid].amount
                                              if (uid, wid) in snap.refunds else 0)
    _check_acknowledged(snap, tally, books)
    acknowledged: Counter[str] = Counter()
    for purchase in tally.acknowledged:
        acknowledged[purchase.user] += purchase.price
    for uid, balance in balances.items():
        expected = world.deposits[uid] - spent[uid] - withdrawn[uid]
        if balance != expected:
            books.mismatches.append(f"{uid}: balance {balance} != deposits "
                                    f"{world.deposits[uid]} - receipts {spent[uid]} - "
                                    f"withdrawn {withdrawn[uid]}")
        elif uid not in tally.unknown_users:
            if expected != world.deposits[uid] - acknowledged[uid] - withdrawn[uid]:
                books.mismatches.append(f"{uid}: every Buy was answered, yet its receipts "
                                        f"{spent[uid]} != acknowledged {acknowledged[uid]}")
            else:
                books.exact_users += 1


def _check_acknowledged(snap: Snapshot, tally: BuyerTally, books: Books) -> None:
    for p in tally.acknowledged:
        receipt = snap.receipts.get((p.campaign, p.slot))
        if receipt is None or (receipt.buyer, receipt.price) != (p.user, p.price):
            books.mismatches.append(f"acknowledged {p.campaign} slot {p.slot} to {p.user} for "
                                    f"{p.price}, the store's receipt says {receipt}")


async def _balances(pool: PurchasePool, users: tuple[str, ...]) -> dict[str, int]:
    async def balance(uid: str) -> int:
        account: pb.Account = await pool.reliably(lambda stub: stub.GetAccount(
            pb.GetAccountRequest(user_id=uid), timeout=CALL_TIMEOUT_S))
        return int(account.balance)

    return dict(zip(users, await asyncio.gather(*(balance(uid) for uid in users)), strict=True))
