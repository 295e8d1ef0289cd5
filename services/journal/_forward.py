"""The ops whose absent commit rolls forward: deposit, credit, withdraw and refund.

Nothing but a replay of the same id competes for their commit key (a replay must take the
same account's lock first), so whoever settles a lock whose commit is absent may insert the
commit record on the lock's behalf. One shape for all four: intent (CAS the lock in), commit
(insert the record naming the attempt), effect (clear this attempt's lock together with the
balance change), then the op's after-step (credit: the campaign's hint; refund: close the
withdrawal). ``forward_of`` says what each lock commits and changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.store import CasMismatch, Document, DocumentStore, Exists, InDoubt, Json, NotFound

from ._context import JournalContext
from ._documents import DepositLock, DepositRecord, User
from ._effects import advance_credited, release_account
from ._ids import credit_key, deposit_key, refund_key, user_key, withdrawal_key
from ._money_out import (
    CreditLock,
    CreditRecord,
    PayoutState,
    RefundLock,
    RefundRecord,
    Withdrawal,
    WithdrawLock,
)
from ._outcomes import AccountBusy, Rejected, Resolution
from ._payout import move_payout

ForwardLock = DepositLock | CreditLock | WithdrawLock | RefundLock
After = Callable[[DocumentStore, JournalContext], Awaitable[object]]


async def _nothing(_store: DocumentStore, _ctx: JournalContext) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Forward:
    """What one forward op commits and changes: ``kind`` names its steps (``<kind>.commit``,
    ``<kind>.rollback``, ``apply``); ``record`` names the attempt."""

    kind: str
    key: str
    record: Json
    delta: int
    apply: str
    after: After = _nothing


def forward_of(ctx: JournalContext, uid: str, lock: ForwardLock) -> Forward:
    match lock:
        case DepositLock():
            deposit = DepositRecord(uid, lock.attempt, lock.amount, lock.at)
            return Forward("deposit", deposit_key(uid, lock.deposit_id), deposit.to_json(),
                           lock.amount, "deposit.credit")
        case CreditLock():
            # The run is keyed by its first slot, so two runs can never start at one slot.
            at = lock.first if ctx.safeguards.credit_keyed_by_start else lock.last
            record = CreditRecord(uid, lock.attempt, lock.first, lock.last, lock.amount, lock.at,
                                  lock.listed)

            async def advance(store: DocumentStore, ctx: JournalContext) -> None:
                with ctx.step("credit.advance", campaign=lock.campaign, slot=lock.last):
                    await advance_credited(store, ctx, lock.campaign, lock.last)

            return Forward("credit", credit_key(lock.campaign, at), record.to_json(),
                           lock.amount, "credit.apply", advance)
        case WithdrawLock():
            return Forward("withdraw", withdrawal_key(uid, lock.withdrawal),
                           Withdrawal.of(lock).to_json(), -lock.total, "withdraw.debit")
        case RefundLock():
            async def close(store: DocumentStore, ctx: JournalContext) -> None:
                await move_payout(store, ctx, uid, lock.withdrawal, PayoutState.REFUNDED)

            return Forward("refund", refund_key(uid, lock.withdrawal),
                           RefundRecord(lock.attempt, lock.amount, lock.at).to_json(), lock.amount,
                           "refund.credit", close)


async def settle_forward(
    store: DocumentStore, ctx: JournalContext, uid: str, lock: ForwardLock, may_insert: bool,
) -> Resolution | None:
    """Settle ``lock`` from its commit key: ours -> effect and after-step; another attempt's
    -> roll back; absent -> insert it on the lock's behalf if ``may_insert``, else None."""
    op = forward_of(ctx, uid, lock)
    try:
        record = (await store.get(op.key)).value
    except NotFound:
        if not may_insert:
            return None
        try:
            with ctx.step(f"{op.kind}.commit", user=uid):
                await store.insert(op.key, op.record)
        except Exists:
            return await settle_forward(store, ctx, uid, lock, may_insert=False)
        record = op.record
    if record["attempt"] != lock.attempt:
        with ctx.step(f"{op.kind}.rollback", user=uid):
            await release_account(store, ctx, uid, lock.attempt, 0)
        return Resolution.ROLLED_BACK
    with ctx.step(op.apply, user=uid, amount=op.delta):
        await release_account(store, ctx, uid, lock.attempt, op.delta)
    await op.after(store, ctx)
    return Resolution.ROLLED_FORWARD


@dataclass(frozen=True, slots=True)
class Ran:
    """How a forward op ended for its driver: ``resolution`` None when its intent was in
    doubt and had not landed (nothing happened, or a resolver already settled it);
    ``balance`` when the driver saw its own effect land."""

    resolution: Resolution | None
    balance: int | None


async def run_forward(
    store: DocumentStore, ctx: JournalContext, uid: str, user_doc: Document, lock: ForwardLock,
    *, commit: bool = True,
) -> Ran:
    """Drive ``lock`` on ``uid`` (whose unlocked doc is ``user_doc``) from intent to
    after-step. Rejected(AccountBusy) if the intent CAS loses. ``commit`` False skips the
    commit insert (the simulation's refund mutation only)."""
    op = forward_of(ctx, uid, lock)
    user = User.from_json(user_doc.value)
    locked = User(user.balance, lock, user.last_login).to_json()
    try:
        with ctx.step(f"{op.kind}.intent", user=uid):
            cas = await store.replace(user_key(uid), locked, user_doc.cas)
    except CasMismatch:
        raise Rejected(AccountBusy(uid)) from None
    except InDoubt:
        if not User.from_json((await store.get(user_key(uid))).value).locked_by(lock.attempt):
            return Ran(None, None)
        ctx.on_step(f"{op.kind}.intent")
        return Ran(await settle_forward(store, ctx, uid, lock, may_insert=True), None)
    if commit:
        try:
            with ctx.step(f"{op.kind}.commit", user=uid):
                await store.insert(op.key, op.record)
        except (Exists, InDoubt):
            return Ran(await settle_forward(store, ctx, uid, lock, may_insert=True), None)
    with ctx.step(op.apply, user=uid, amount=op.delta):
        released = await release_account(store, ctx, uid, lock.attempt, op.delta,
                                         Document(locked, cas))
    await op.after(store, ctx)
    return Ran(Resolution.ROLLED_FORWARD, user.balance + op.delta if released else None)
