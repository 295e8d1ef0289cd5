"""Reading an account to start a new op on it: a locked account is resolved first."""

from __future__ import annotations

from services.store import Document, DocumentStore, NotFound

from ._documents import User
from ._ids import user_key
from ._outcomes import AccountBusy, Missing, Rejected
from ._resolver import resolve_account
from ._runtime import Runtime


async def read_user(store: DocumentStore, uid: str) -> Document:
    try:
        return await store.get(user_key(uid))
    except NotFound:
        raise Rejected(Missing("user", uid)) from None


async def unlocked_user(store: DocumentStore, rt: Runtime, uid: str) -> Document:
    """The user doc with no lock, resolving a lock first; AccountBusy if a new one took it."""
    doc = await read_user(store, uid)
    if User.from_json(doc.value).lock is None:
        return doc
    await resolve_account(store, rt, uid)
    doc = await read_user(store, uid)
    if User.from_json(doc.value).lock is not None:
        raise Rejected(AccountBusy(uid))
    return doc
