"""Reading documents an op needs: one that must exist (else the op is rejected as Missing),
and the account to start a new op on (a locked account is resolved first)."""

from __future__ import annotations

from services.store import Document, DocumentStore, NotFound

from ._context import JournalContext
from ._documents import User
from ._ids import user_key
from ._outcomes import AccountBusy, Missing, Rejected
from ._resolver import resolve_account


async def read_or_missing(store: DocumentStore, key: str, kind: str, ident: str) -> Document:
    """The document at ``key``; the op is rejected with Missing(kind, ident) if there is none."""
    try:
        return await store.get(key)
    except NotFound:
        raise Rejected(Missing(kind, ident)) from None


async def exists(store: DocumentStore, key: str) -> bool:
    try:
        await store.get(key)
    except NotFound:
        return False
    return True


async def read_user(store: DocumentStore, uid: str) -> Document:
    return await read_or_missing(store, user_key(uid), "user", uid)


async def unlocked_user(store: DocumentStore, ctx: JournalContext, uid: str) -> Document:
    """The user doc with no lock, resolving a lock first; AccountBusy if a new one took it."""
    doc = await read_user(store, uid)
    if User.from_json(doc.value).lock is None:
        return doc
    await resolve_account(store, ctx, uid, doc)
    doc = await read_user(store, uid)
    if User.from_json(doc.value).lock is not None:
        raise Rejected(AccountBusy(uid))
    return doc
