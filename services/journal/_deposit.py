"""``deposit``: credit an account, exactly once per deposit id, as one journal op.

intent (lock with the amount and deposit id) -> commit (insert deposit:<uid>:<id>) -> credit.
In doubt, a deposit rolls forward: nothing competes for its commit key but a replay of the
same deposit id, so the record may always be inserted on its behalf.
"""

from __future__ import annotations

from services.store import CasMismatch, Document, DocumentStore, Exists, InDoubt

from ._account import exists, unlocked_user
from ._context import JournalContext
from ._documents import MAX_MONEY, DepositLock, DepositRecord, User
from ._effects import release_account
from ._ids import check_amount, check_id, deposit_key, user_key
from ._index import IndexKind, add_to_index
from ._outcomes import (
    AccountBusy,
    Deposited,
    DepositOutcome,
    DuplicateDeposit,
    Interrupted,
    InvalidInput,
    Rejected,
    Resolution,
)
from ._settle import settle


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
    if await exists(store, deposit_key(uid, deposit_id)):
        return DuplicateDeposit(deposit_id)
    user = User.from_json(user_doc.value)
    if user.balance + amount > MAX_MONEY:
        return InvalidInput("amount", f"the balance would exceed {MAX_MONEY}")
    # Listed before it can exist, so the audit finds every deposit record.
    await add_to_index(store, ctx, IndexKind.DEPOSITS, f"{uid}:{deposit_id}")
    lock = DepositLock(ctx.new_id(), deposit_id, amount, ctx.trace_context())
    locked = User(user.balance, lock, user.last_login).to_json()
    try:
        with ctx.step("deposit.intent", user=uid, amount=amount):
            cas = await store.replace(user_key(uid), locked, user_doc.cas)
    except CasMismatch:
        return AccountBusy(uid)
    except InDoubt:
        return await _settle_in_doubt_intent(store, ctx, uid, lock)
    record = DepositRecord(uid, lock.attempt, amount).to_json()
    try:
        with ctx.step("deposit.commit", user=uid):
            await store.insert(deposit_key(uid, deposit_id), record)
    except (Exists, InDoubt):
        return await _settled(store, ctx, uid, lock)
    with ctx.step("deposit.credit", user=uid, amount=amount):
        await release_account(store, ctx, uid, lock.attempt, amount, Document(locked, cas))
    return Deposited(amount, user.balance + amount)


async def _settle_in_doubt_intent(
    store: DocumentStore, ctx: JournalContext, uid: str, lock: DepositLock
) -> DepositOutcome:
    doc = await store.get(user_key(uid))
    if not User.from_json(doc.value).locked_by(lock.attempt):
        # Not landed (yet), or already settled by a resolver: a replay of the same deposit id
        # is safe either way and tells which.
        return Interrupted("deposit intent in doubt: repeat it with the same deposit id")
    ctx.on_step("deposit.intent")
    return await _settled(store, ctx, uid, lock)


async def _settled(
    store: DocumentStore, ctx: JournalContext, uid: str, lock: DepositLock
) -> DepositOutcome:
    resolution = await settle(store, ctx, uid, lock, may_settle_absent=True)
    if resolution is Resolution.ROLLED_FORWARD:
        balance = User.from_json((await store.get(user_key(uid))).value).balance
        return Deposited(lock.amount, balance)
    return DuplicateDeposit(lock.deposit_id)
