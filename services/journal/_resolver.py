"""The account resolver: run at login, before any new op on a locked account, and by
``abc recover accounts``. It reads the commit key of the op the lock names and settles it.

While the commit is absent the op may still be in flight on another node, so the resolver
waits (polling) for a grace period measured on *its own* clock from when *it* first saw the
lock - never from a time written in a document or by another node - then settles the op by
its rule for an absent commit.
"""

from __future__ import annotations

from services.store import Document, DocumentStore

from ._context import JournalContext
from ._documents import Lock, User
from ._ids import user_key
from ._outcomes import Resolution
from ._settle import settle


async def resolve_account(
    store: DocumentStore, ctx: JournalContext, uid: str, known: Document | None = None
) -> Resolution:
    """Settle whatever op holds ``uid``'s lock; raises store NotFound for an unknown user.
    ``known``: the user doc as the caller just read or wrote it (saves a read)."""
    doc = known if known is not None else await store.get(user_key(uid))
    user = User.from_json(doc.value)
    lock = user.lock
    if lock is None:
        return Resolution.CLEAN
    links = [lock.trace] if lock.trace else []
    with ctx.span("resolve_account", {"user": uid, "attempt": lock.attempt}, links):
        return await _resolve(store, ctx, uid, lock)


async def _resolve(store: DocumentStore, ctx: JournalContext, uid: str, lock: Lock) -> Resolution:
    first_seen = ctx.clock()
    polls = ctx.timing.resolve_grace_ms // max(ctx.timing.resolve_poll_ms, 1) + 1
    for _ in range(polls):
        grace_over = ctx.clock() - first_seen >= ctx.timing.resolve_grace_ms
        outcome = await settle(store, ctx, uid, lock, may_settle_absent=grace_over)
        if outcome is not None:
            return outcome
        await ctx.sleep(ctx.timing.resolve_poll_ms)
        user = User.from_json((await store.get(user_key(uid))).value)
        if not user.locked_by(lock.attempt):
            return Resolution.RESOLVED_ELSEWHERE
    # The clock did not reach the grace in the polls we allow (a clock that stalls): settle.
    outcome = await settle(store, ctx, uid, lock, may_settle_absent=True)
    return Resolution.IN_DOUBT if outcome is None else outcome
