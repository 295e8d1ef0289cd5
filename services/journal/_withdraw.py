"""``withdraw``: take money out of an account, once per withdrawal id, as one journal op.

Before the intent: the account unlocked; the id unused (a replay with the same amount and
destination is answered as it was; different fields are AlreadyExists); balance >= amount +
the operator's fee. intent (lock with the whole request) -> commit (insert
withdrawal:<uid>:<w>, state requested) -> debit (clear the lock, take amount + fee). In doubt
it rolls forward. Paying it out is the payout state machine's business (``_payout.py``).
"""

from __future__ import annotations

import unicodedata

from services.store import DocumentStore, NotFound

from ._account import unlocked_user
from ._context import JournalContext
from ._credit import credit_owner
from ._documents import MAX_MONEY, User
from ._forward import run_forward
from ._ids import check_amount, check_id, withdrawal_key
from ._index import IndexKind, add_to_index
from ._money_out import Withdrawal, WithdrawLock
from ._outcomes import (
    AlreadyExists,
    InsufficientFunds,
    Interrupted,
    InvalidInput,
    Rejected,
    Resolution,
    WithdrawalRequested,
    WithdrawOutcome,
)

MAX_DESTINATION = 256  # characters: an account number, an IBAN, an address at the rail


async def withdraw(
    store: DocumentStore, ctx: JournalContext, uid: str, wid: str, amount: int,
    destination: str, credit_first: bool = True,
) -> WithdrawOutcome:
    """Withdraw ``amount`` from ``uid`` to ``destination`` as withdrawal ``wid``. When the
    balance is short and ``credit_first``, the sales of ``uid``'s campaigns are credited
    first (then the balance is looked at again): earnings can be taken out at once, and a
    request refused for bad input writes nothing, credits included."""
    try:
        check_id("user", uid)
        check_id("withdrawal_id", wid)
        check_amount("amount", amount, ctx.policy.min_withdrawal, MAX_MONEY)
        check_destination(destination)
        return await _withdraw(store, ctx, uid, wid, amount, destination, credit_first)
    except Rejected as rejected:
        return rejected.outcome


def check_destination(destination: object) -> str:
    """Plain text of 1 to MAX_DESTINATION characters, no control characters."""
    if (not isinstance(destination, str) or not 1 <= len(destination) <= MAX_DESTINATION
            or any(unicodedata.category(c).startswith("C") for c in destination)):
        raise Rejected(InvalidInput(
            "destination", f"must be 1 to {MAX_DESTINATION} characters, no control characters"))
    return destination


async def _withdraw(store: DocumentStore, ctx: JournalContext, uid: str, wid: str, amount: int,
                    destination: str, credit_first: bool) -> WithdrawOutcome:
    user_doc = await unlocked_user(store, ctx, uid)
    fee = ctx.policy.withdrawal_fee
    earlier = await _earlier(store, uid, wid)
    if earlier is not None:
        return _replayed(wid, earlier, amount, destination)
    balance = User.from_json(user_doc.value).balance
    if balance < amount + fee and credit_first:
        await credit_owner(store, ctx, uid)
        user_doc = await unlocked_user(store, ctx, uid)
        balance = User.from_json(user_doc.value).balance
    if balance < amount + fee:
        return InsufficientFunds(balance, amount + fee)
    await add_to_index(store, ctx, IndexKind.WITHDRAWALS, f"{uid}:{wid}")
    lock = WithdrawLock(ctx.new_id(), wid, amount, fee, destination, ctx.clock(),
                        ctx.trace_context())
    ran = await run_forward(store, ctx, uid, user_doc, lock)
    if ran.resolution is None:
        return Interrupted("withdrawal intent in doubt: repeat it with the same withdrawal id")
    if ran.resolution is not Resolution.ROLLED_FORWARD:
        # The id was taken meanwhile by another request of the same id: answer as a replay.
        found = await _earlier(store, uid, wid)
        assert found is not None
        return _replayed(wid, found, amount, destination)
    return WithdrawalRequested(wid, amount, fee, ran.balance)


async def _earlier(store: DocumentStore, uid: str, wid: str) -> Withdrawal | None:
    try:
        return Withdrawal.from_json((await store.get(withdrawal_key(uid, wid))).value)
    except NotFound:
        return None


def _replayed(wid: str, earlier: Withdrawal, amount: int, destination: str) -> WithdrawOutcome:
    if (earlier.amount, earlier.destination) != (amount, destination):
        return AlreadyExists("withdrawal", wid)
    return WithdrawalRequested(wid, earlier.amount, earlier.fee, None, replay=True)
