"""``refund``: give a rejected withdrawal's amount and fee back, once, as one journal op.

Only from ``rejected``. intent (lock with the withdrawal and its total) -> commit (insert
refund:<uid>:<w>) -> credit (clear the lock, add the total back) -> close (the withdrawal
moves rejected -> refunded). In doubt it rolls forward. A refund found committed but not
closed (its driver died) is closed by the next call.
"""

from __future__ import annotations

from services.store import DocumentStore, NotFound

from ._account import read_or_missing, unlocked_user
from ._context import JournalContext
from ._forward import run_forward
from ._ids import check_id, refund_key, withdrawal_key
from ._money_out import PayoutState, RefundLock, RefundRecord, Withdrawal
from ._outcomes import (
    Interrupted,
    Missing,
    Refunded,
    RefundOutcome,
    Rejected,
    Resolution,
    WrongState,
)
from ._payout import move_payout


async def refund(store: DocumentStore, ctx: JournalContext, uid: str, wid: str) -> RefundOutcome:
    """Refund ``uid``'s rejected withdrawal ``wid``; done already is Refunded too."""
    try:
        check_id("user", uid)
        check_id("withdrawal_id", wid)
        return await _refund(store, ctx, uid, wid)
    except Rejected as rejected:
        return rejected.outcome


async def _refund(store: DocumentStore, ctx: JournalContext, uid: str, wid: str) -> RefundOutcome:
    doc = await read_or_missing(store, withdrawal_key(uid, wid), "withdrawal", wid)
    withdrawal = Withdrawal.from_json(doc.value)
    if withdrawal.state is PayoutState.REFUNDED:
        return Refunded(wid, withdrawal.total, None)
    if withdrawal.state is not PayoutState.REJECTED:
        return WrongState(wid, withdrawal.state.value, (PayoutState.REJECTED.value,))
    user_doc = await unlocked_user(store, ctx, uid)
    committed = await _committed(store, uid, wid)
    if committed is None:
        lock = RefundLock(ctx.new_id(), wid, withdrawal.total, ctx.trace_context(),
                          ctx.clock())
        ran = await run_forward(store, ctx, uid, user_doc, lock,
                                commit=ctx.safeguards.refund_needs_commit)
        if ran.resolution is None:
            return Interrupted("refund intent in doubt: the next refund settles it")
        if ran.resolution is Resolution.ROLLED_FORWARD:
            return Refunded(wid, withdrawal.total, ran.balance)
    closed = await move_payout(store, ctx, uid, wid, PayoutState.REFUNDED)
    if isinstance(closed, WrongState | Missing):
        return closed
    return Refunded(wid, withdrawal.total, None)


async def _committed(store: DocumentStore, uid: str, wid: str) -> RefundRecord | None:
    try:
        return RefundRecord.from_json((await store.get(refund_key(uid, wid))).value)
    except NotFound:
        return None
