"""``deposit``: credit an account, exactly once per deposit id, as one journal op.

intent (lock with the amount and deposit id) -> commit (insert deposit:<uid>:<id>) -> credit.
In doubt, a deposit rolls forward: nothing competes for its commit key but a replay of the
same deposit id, so the record may always be inserted on its behalf.
"""

from __future__ import annotations

from services.store import DocumentStore, NotFound

from ._account import unlocked_user
from ._context import JournalContext
from ._documents import MAX_MONEY, DepositLock, DepositRecord, User
from ._forward import run_forward
from ._ids import check_amount, check_id, deposit_key, user_key
from ._index import IndexKind, add_to_index
from ._outcomes import (
    AlreadyExists,
    Deposited,
    DepositOutcome,
    DuplicateDeposit,
    Interrupted,
    InvalidInput,
    Rejected,
    Resolution,
)


async def deposit(
    store: DocumentStore, ctx: JournalContext, uid: str, deposit_id: str, amount: int
) -> DepositOutcome:
    """Credit ``amount`` to ``uid`` once for ``deposit_id``; a replay is DuplicateDeposit."""
    try:
        check_id("user", uid)
        check_id("deposit_id", deposit_id)
        check_amount("amount", amount, 1, MAX_MONEY)
        return await _deposit(store, ctx, uid, deposit_id, amount)
    except Rejected as rejected:
        return rejected.outcome


async def _deposit(
    store: DocumentStore, ctx: JournalContext, uid: str, deposit_id: str, amount: int
) -> DepositOutcome:
    user_doc = await unlocked_user(store, ctx, uid)
    earlier = await _earlier(store, uid, deposit_id)
    if earlier is not None:
        return _replayed(deposit_id, earlier, amount)
    if User.from_json(user_doc.value).balance + amount > MAX_MONEY:
        return InvalidInput("amount", f"the balance would exceed {MAX_MONEY}")
    # Listed before it can exist, so the audit finds every deposit record.
    await add_to_index(store, ctx, IndexKind.DEPOSITS, f"{uid}:{deposit_id}")
    lock = DepositLock(ctx.new_id(), deposit_id, amount, ctx.trace_context(), ctx.clock())
    ran = await run_forward(store, ctx, uid, user_doc, lock)
    if ran.resolution is None:
        # Not landed (yet), or already settled by a resolver: a replay of the same deposit id
        # is safe either way and tells which.
        return Interrupted("deposit intent in doubt: repeat it with the same deposit id")
    if ran.resolution is not Resolution.ROLLED_FORWARD:
        found = await _earlier(store, uid, deposit_id)
        return DuplicateDeposit(deposit_id) if found is None else _replayed(deposit_id, found,
                                                                            amount)
    balance = ran.balance
    if balance is None:
        balance = User.from_json((await store.get(user_key(uid))).value).balance
    return Deposited(amount, balance)


async def _earlier(store: DocumentStore, uid: str, deposit_id: str) -> DepositRecord | None:
    try:
        return DepositRecord.from_json((await store.get(deposit_key(uid, deposit_id))).value)
    except NotFound:
        return None


def _replayed(deposit_id: str, earlier: DepositRecord, amount: int
              ) -> DuplicateDeposit | AlreadyExists:
    """A replay of an applied deposit id: the same amount is a duplicate (nothing to do);
    another amount is a different deposit under a used id."""
    if earlier.amount != amount:
        return AlreadyExists("deposit", deposit_id)
    return DuplicateDeposit(deposit_id)
