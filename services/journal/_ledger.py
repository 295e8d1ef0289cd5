"""The money invariants over a snapshot: each user's balance against the ops that committed
on it (3), money conserved (6), the credit runs of each campaign (8), withdrawals and their
refunds (9). See docs/protocol.md, "The invariants"."""

from __future__ import annotations

from dataclasses import dataclass

from ._documents import Campaign, Fill, User, fee_of
from ._ids import campaign_key, credit_key, refund_key, user_key, withdrawal_key
from ._money_out import PayoutState
from ._snapshot import Snapshot, Violation


@dataclass
class Ledger:
    """Per user, every committed op that moves money: ``(attempt, signed amount)``."""

    entries: dict[str, list[tuple[str, int]]]

    @classmethod
    def of(cls, snap: Snapshot) -> Ledger:
        entries: dict[str, list[tuple[str, int]]] = {}

        def add(uid: str, attempt: str, amount: int) -> None:
            entries.setdefault(uid, []).append((attempt, amount))

        for (uid, _), deposit in snap.deposits.items():
            add(uid, deposit.attempt, deposit.amount)
        for slot in snap.slots.values():
            if isinstance(slot, Fill):
                add(slot.buyer, slot.attempt, -slot.price)
        for credit in snap.credits.values():
            add(credit.seller, credit.attempt, credit.amount)
        for (uid, _), withdrawal in snap.withdrawals.items():
            add(uid, withdrawal.attempt, -withdrawal.total)
        for (uid, _), refund in snap.refunds.items():
            add(uid, refund.attempt, refund.amount)
        return cls(entries)

    def balance(self, uid: str, in_flight: str | None = None) -> int:
        """What ``uid``'s balance is once every committed op but ``in_flight`` has applied."""
        return sum(amount for attempt, amount in self.entries.get(uid, ()) if attempt != in_flight)


def check_user(ledger: Ledger, uid: str, user: User, quiescent: bool) -> list[Violation]:
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
        found.append(Violation(3, f"balance {user.balance} != {expected}: deposits - purchases "
                                  "+ credited shares - withdrawals + refunds, committed",
                               (ukey,)))
    return found


@dataclass(frozen=True, slots=True)
class Books:
    """The operator's totals (``abc ledger``): where every deposited unit is now. They
    balance when ``difference`` is 0 (invariant 6)."""

    deposits: int
    balances: int
    pending: int  # effects of committed ops still holding their lock
    uncredited: int  # prices of sold slots no credit run covers yet
    fees: int  # the operator's fees on credited sales
    credited: int  # shares credited to sellers (inside balances)
    withdrawals: dict[str, tuple[int, int]]  # state -> (count, amount + fee)
    refunded: int  # given back to rejected withdrawals (inside balances)

    @property
    def withdrawn(self) -> int:
        """What left by withdrawals, less their refunds."""
        return sum(total for _, total in self.withdrawals.values()) - self.refunded

    @property
    def difference(self) -> int:
        return self.deposits - (self.balances + self.pending + self.uncredited + self.fees
                                + self.withdrawn)


def books(snap: Snapshot, ledger: Ledger | None = None) -> Books:
    ledger = ledger if ledger is not None else Ledger.of(snap)
    credited_slots, fees = _credited_slots(snap)
    by_state: dict[str, tuple[int, int]] = {}
    for withdrawal in snap.withdrawals.values():
        count, total = by_state.get(withdrawal.state.value, (0, 0))
        by_state[withdrawal.state.value] = (count + 1, total + withdrawal.total)
    return Books(
        deposits=sum(d.amount for d in snap.deposits.values()),
        balances=sum(u.balance for u in snap.users.values()),
        pending=sum(_pending(ledger, uid, user) for uid, user in snap.users.items()),
        uncredited=sum(slot.price for key, slot in snap.slots.items()
                       if isinstance(slot, Fill) and key not in credited_slots),
        fees=fees, credited=sum(c.amount for c in snap.credits.values()),
        withdrawals=by_state, refunded=sum(r.amount for r in snap.refunds.values()))


def check_conservation(snap: Snapshot, ledger: Ledger) -> list[Violation]:
    """Deposits = balances (with the effects of committed ops still holding their lock) +
    the prices of sold slots not yet credited + the fees of credited ones + what left by
    withdrawals not refunded."""
    b = books(snap, ledger)
    if b.difference:
        return [Violation(6, f"balances {b.balances} + pending {b.pending} + uncredited sales "
                             f"{b.uncredited} + fees {b.fees} + withdrawn {b.withdrawn} != "
                             f"deposits {b.deposits}", ())]
    return []


def _pending(ledger: Ledger, uid: str, user: User) -> int:
    """What the committed op still holding ``uid``'s lock will change its balance by."""
    if user.lock is None:
        return 0
    return ledger.balance(uid) - ledger.balance(uid, user.lock.attempt)


def _credited_slots(snap: Snapshot) -> tuple[set[tuple[str, int]], int]:
    """The sold slots some credit run covers, and the operator's fees on them."""
    covered: set[tuple[str, int]] = set()
    fees = 0
    for (cid, _), run in snap.credits.items():
        campaign = snap.campaigns.get(cid)
        for n in range(run.first, run.last + 1):
            slot = snap.slots.get((cid, n))
            if isinstance(slot, Fill) and (cid, n) not in covered:
                covered.add((cid, n))
                fees += _fee(snap, campaign, cid, n, slot)
    return covered, fees


def _fee(snap: Snapshot, campaign: Campaign | None, cid: str, n: int, slot: Fill) -> int:
    receipt = snap.receipts.get((cid, n))
    if receipt is not None:
        return receipt.fee
    return 0 if campaign is None else fee_of(slot.price, campaign.fee_bps)


def check_credits(snap: Snapshot, cid: str, campaign: Campaign) -> list[Violation]:
    """8: the runs form one chain from slot 1 (each keyed by its first slot, none off it),
    never past head, each for the owner and the sum of its slots' shares; the hint is never
    ahead of the chain."""
    found: list[Violation] = []
    chain: set[int] = set()
    first = 1
    while (cid, first) in snap.credits and first not in chain:
        run = snap.credits[cid, first]
        chain.add(first)
        key = credit_key(cid, first)
        if run.first != first or run.last < first or run.last > campaign.head:
            found.append(Violation(8, f"run {run.first}..{run.last} at slot {first} with head "
                                      f"{campaign.head}", (key, campaign_key(cid))))
            break
        if run.seller != campaign.owner:
            found.append(Violation(8, f"run credited to {run.seller}, not the owner", (key,)))
        shares = sum(_share(snap, campaign, cid, n) for n in range(run.first, run.last + 1))
        if run.amount != shares:
            found.append(Violation(8, f"run amount {run.amount} != its shares {shares}", (key,)))
        first = run.last + 1
    for (c_id, start) in snap.credits:
        if c_id == cid and start not in chain:
            found.append(Violation(8, f"a credit run at slot {start} is off the chain (an "
                                      "overlap or a gap)", (credit_key(cid, start),)))
    if campaign.credited > first - 1:
        found.append(Violation(8, f"credited hint {campaign.credited} ahead of the chain's end "
                                  f"{first - 1}", (campaign_key(cid),)))
    return found


def _share(snap: Snapshot, campaign: Campaign, cid: str, n: int) -> int:
    slot = snap.slots.get((cid, n))
    if not isinstance(slot, Fill):
        return 0
    return slot.price - _fee(snap, campaign, cid, n, slot)


def check_payouts(snap: Snapshot, quiescent: bool) -> list[Violation]:
    """9: a refund only of a rejected withdrawal, for exactly what it took; refunded only
    with its refund; after recovery, no rejected withdrawal left unrefunded."""
    found: list[Violation] = []
    for (uid, wid), refund in snap.refunds.items():
        withdrawal = snap.withdrawals.get((uid, wid))
        keys = (refund_key(uid, wid), withdrawal_key(uid, wid))
        if withdrawal is None or withdrawal.state not in (PayoutState.REJECTED,
                                                          PayoutState.REFUNDED):
            state = "missing" if withdrawal is None else withdrawal.state.value
            found.append(Violation(9, f"refund of a withdrawal that is {state}", keys))
        elif refund.amount != withdrawal.total:
            found.append(Violation(9, f"refund {refund.amount} != withdrawn {withdrawal.total}",
                                   keys))
    for (uid, wid), withdrawal in snap.withdrawals.items():
        at = (withdrawal_key(uid, wid),)
        if withdrawal.state is PayoutState.REFUNDED and (uid, wid) not in snap.refunds:
            found.append(Violation(9, "refunded without a refund", at))
        if quiescent and withdrawal.state is PayoutState.REJECTED:
            found.append(Violation(9, "rejected and never refunded", at))
    return found
