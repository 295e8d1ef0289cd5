"""Login: stamp the account's ``last_login`` and run the resolver on it.

The stamp is a lock-free write to the user doc (it keeps ``lock`` and ``balance`` as read), which
is one reason an op's effect CAS can lose while its lock still names it, and must retry.
"""

from __future__ import annotations

from dataclasses import replace

from services.store import CasMismatch, Document, DocumentStore, InDoubt

from ._account import read_user
from ._context import JournalContext
from ._documents import User
from ._ids import check_id, user_key
from ._outcomes import InvalidInput, Missing, Rejected, Resolution
from ._resolver import resolve_account


async def login(
    store: DocumentStore, ctx: JournalContext, uid: str
) -> Resolution | Missing | InvalidInput:
    """What the resolver found on ``uid``'s account; it is settled when this returns."""
    try:
        check_id("user", uid)
        stamped = await _stamp(store, ctx, uid)
    except Rejected as rejected:
        assert isinstance(rejected.outcome, Missing | InvalidInput)
        return rejected.outcome
    return await resolve_account(store, ctx, uid, stamped)


async def _stamp(store: DocumentStore, ctx: JournalContext, uid: str) -> Document | None:
    """The user doc as stamped (what the resolver starts from), or None if not stamped."""
    for _ in range(ctx.timing.max_cas_retries):
        doc = await read_user(store, uid)
        stamped = replace(User.from_json(doc.value), last_login=ctx.clock()).to_json()
        try:
            return Document(stamped, await store.replace(user_key(uid), stamped, doc.cas))
        except CasMismatch:
            continue
        except InDoubt:
            return None  # cosmetic: landed or not, the login goes on to the resolver
    # A stamp is cosmetic: losing it to a busy account is no reason to refuse the login.
    return None
