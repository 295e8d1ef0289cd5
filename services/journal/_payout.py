"""A withdrawal's payout state, moved only forward and only by CAS (docs/protocol.md,
"Payout"): a payer claims it before calling the rail, marks it paid or failed after; the
operator retries a failed one or rejects one that no payer holds; the refund closes a
rejected one. Every move is idempotent: asking again for the state it is in is done."""

from __future__ import annotations

from services.store import CasMismatch, DocumentStore, NotFound

from ._context import JournalContext
from ._ids import withdrawal_key
from ._money_out import MOVES, PayoutState, Withdrawal
from ._outcomes import JournalError, Missing, WrongState

STEP_OF = {PayoutState.PAYING: "payout.claim", PayoutState.PAID: "payout.paid",
           PayoutState.FAILED: "payout.failed", PayoutState.REQUESTED: "payout.retry",
           PayoutState.REJECTED: "payout.reject", PayoutState.REFUNDED: "refund.close"}


async def move_payout(
    store: DocumentStore, ctx: JournalContext, uid: str, wid: str, to: PayoutState,
    of_try: int | None = None, **changes: str | int | None,
) -> Withdrawal | WrongState | Missing:
    """Withdrawal ``wid`` of ``uid`` moved to ``to`` (with ``changes``: a reference, a
    reason, a payer and claim time), or already there; WrongState if the state machine does
    not allow the move from where it is. A payer recording the rail's answer passes the try
    it asked about (``of_try``): an answer about an earlier try never moves a later one."""
    key = withdrawal_key(uid, wid)
    for _ in range(ctx.timing.max_cas_retries):
        try:
            doc = await store.get(key)
        except NotFound:
            return Missing("withdrawal", wid)
        current = Withdrawal.from_json(doc.value)
        if of_try is not None and of_try != current.tries:
            return WrongState(wid, f"{current.state.value} (try {current.tries})",
                              (f"{PayoutState.PAYING.value} (try {of_try})",))
        if current.state is to:
            return current  # done already (a payer tells its own claim by payer/claimed_at)
        if not _allowed(ctx, current.state, to):
            wanted = tuple(s.value for s, moves in MOVES.items() if to in moves)
            return WrongState(wid, current.state.value, wanted)
        moved = current.moved(to, ctx.clock(), **changes)
        try:
            with ctx.step(STEP_OF[to], user=uid, withdrawal=wid):
                await store.replace(key, moved.to_json(), doc.cas)
        except CasMismatch:
            continue
        return moved
    raise JournalError(f"{key}: {ctx.timing.max_cas_retries} lost CAS races moving to {to}")


def _allowed(ctx: JournalContext, state: PayoutState, to: PayoutState) -> bool:
    if to in MOVES[state]:
        return True
    # Mutation for the simulation only: a claimed (paying) withdrawal may be rejected.
    return (not ctx.safeguards.claimed_never_rejected and state is PayoutState.PAYING
            and to is PayoutState.REJECTED)
