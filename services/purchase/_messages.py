"""Journal values to the purchase API's messages, and the API's payout states back."""

from __future__ import annotations

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.journal import (
    Books,
    Entry,
    ListedPurchase,
    PayoutState,
    Showing,
    User,
    Withdrawal,
)
from services.messages import filled_slot, filler_message

RESOLUTIONS = {
    "clean": pb.LoginResponse.CLEAN,
    "rolled_forward": pb.LoginResponse.ROLLED_FORWARD,
    "rolled_back": pb.LoginResponse.ROLLED_BACK,
    "resolved_elsewhere": pb.LoginResponse.RESOLVED_ELSEWHERE,
    "in_doubt": pb.LoginResponse.STILL_IN_DOUBT,
}


def account(uid: str, user: User) -> pb.Account:
    return pb.Account(user_id=uid, balance=user.balance, locked=user.lock is not None)


def showing_parts(
    cid: str, show: Showing | None
) -> tuple[types_pb2.FilledSlot | None, types_pb2.Filler | None]:
    if show is None:
        return None, None
    slot = filled_slot(cid, show.slot, show.fill)
    if show.filler is None or show.fill.filler is None:
        return slot, None
    return slot, filler_message(show.fill.buyer, show.fill.filler, show.filler)


def listed_purchase(uid: str, p: ListedPurchase) -> types_pb2.FilledSlot:
    """A purchase from ``uid``'s list, as the slot it filled."""
    return types_pb2.FilledSlot(
        campaign_id=p.campaign, slot=p.slot, buyer_id=uid, price=p.price,
        filler_id=p.filler or "", bought_at_ms=p.bought_at, start_ms=p.start, end_ms=p.end)


State = pb.Withdrawal.State
STATES = {state: State.Value(state.name) for state in PayoutState}
"""The journal's payout states to the API's (the same names)."""


def payout_state(state: State.ValueType) -> PayoutState | None:
    """The journal's state of an API state; None for STATE_UNSPECIFIED or an unknown one."""
    return next((ours for ours, theirs in STATES.items() if theirs == state), None)


def withdrawal(uid: str, wid: str, w: Withdrawal) -> pb.Withdrawal:
    return pb.Withdrawal(
        user_id=uid, withdrawal_id=wid, amount=w.amount, fee=w.fee, destination=w.destination,
        state=STATES[w.state], requested_at_ms=w.requested_at, updated_at_ms=w.updated_at,
        reference=w.reference or "", reason=w.reason or "", tries=w.tries,
        payer=w.payer or "", claimed_at_ms=w.claimed_at or 0)


def statement_entry(entry: Entry) -> pb.StatementEntry:
    return pb.StatementEntry(at_ms=entry.at, kind=entry.kind, ident=entry.ident,
                             amount=entry.amount, detail=entry.detail)


def ledger(books: Books) -> pb.Ledger:
    by_state = [pb.PayoutTotal(state=STATES[state], count=count, total=total)
                for state in PayoutState
                for count, total in [books.withdrawals.get(state.value, (0, 0))] if count]
    return pb.Ledger(
        deposits=books.deposits, balances=books.balances, pending=books.pending,
        uncredited=books.uncredited, fees=books.fees, credited=books.credited,
        withdrawals=by_state, refunded=books.refunded, withdrawn=books.withdrawn,
        difference=books.difference, balanced=books.difference == 0)
