"""Settling a locked op from its commit key: the one decision both the driver (after a lost
or in-doubt commit insert) and the resolver (at login, before a new op, in recovery) make.

- committed by this attempt: roll forward (run the effects);
- committed by another attempt, or void: roll back (clear the lock, balance unchanged);
- absent: return None while the caller still waits; once it may settle, apply the op's rule
  for an absent commit: a purchase is *fenced* (a void inserted at its slot, so the late fill
  can never land); a deposit, credit, withdrawal or refund is *rolled forward* (its record
  inserted on its behalf, ``_forward.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from services.store import Document, DocumentStore, Exists, NotFound

from ._context import JournalContext
from ._documents import BuyLock, Fill, Lock, Void, slot_from_json
from ._effects import release_account
from ._finish import Finished, finish_slot
from ._forward import settle_forward
from ._ids import slot_key
from ._outcomes import Resolution


async def settle(
    store: DocumentStore, ctx: JournalContext, uid: str, lock: Lock, *, may_settle_absent: bool
) -> Resolution | None:
    """Settle ``lock`` (held on ``uid``); None if its commit is absent and we may not yet."""
    if isinstance(lock, BuyLock):
        return (await settle_buy(store, ctx, uid, lock, may_settle_absent)).resolution
    return await settle_forward(store, ctx, uid, lock, may_settle_absent)


@dataclass(frozen=True, slots=True)
class SettledBuy:
    resolution: Resolution | None  # None: the commit is absent and we may not fence yet
    finished: Finished | None = None  # slot n finished by this call (None: not finished here)


async def settle_buy(
    store: DocumentStore, ctx: JournalContext, uid: str, lock: BuyLock, may_fence: bool,
    locked: Document | None = None,
) -> SettledBuy:
    """``settle`` for a purchase, telling also how its slot was finished (for the driver).
    ``locked``: the user doc as the driver wrote its lock (a roll back starts from it: a read
    saved; a stale one only costs the CAS that finds it stale)."""
    key = slot_key(lock.campaign, lock.slot)
    try:
        slot = slot_from_json((await store.get(key)).value)
    except NotFound:
        if not may_fence:
            return SettledBuy(None)
        if ctx.safeguards.fence_in_doubt:
            try:
                with ctx.step("buy.fence", campaign=lock.campaign, slot=lock.slot):
                    await store.insert(key, Void(lock.attempt, uid).to_json())
            except Exists:
                return await settle_buy(store, ctx, uid, lock, False, locked)
            slot = Void(lock.attempt, uid)
        else:
            # Mutation for the simulation only: assume the fill never lands.
            with ctx.step("buy.rollback", user=uid):
                await release_account(store, ctx, uid, lock.attempt, 0)
            return SettledBuy(Resolution.ROLLED_BACK)
    ours = isinstance(slot, Fill) and slot.attempt == lock.attempt
    if not ours:
        with ctx.step("buy.rollback", user=uid):
            await release_account(store, ctx, uid, lock.attempt, 0, locked)
    finished = None
    # Ours or not, slot n must be finished before anyone can buy n+1: help finish it.
    if ours or ctx.safeguards.finish_before_buy:
        finished = await finish_slot(store, ctx, lock.campaign, lock.slot, slot=slot)
    return SettledBuy(Resolution.ROLLED_FORWARD if ours else Resolution.ROLLED_BACK, finished)
