"""Passwords over the credential document (docs/protocol.md, "Credentials"): authenticate,
change, reset, and the password of an account being created.

Every attempt is counted as a failure (by CAS) *before* its password is checked, and a success
takes the count back: so concurrent guesses cannot all slip into one window (the CAS lets one
through at a time, and the fifth closes the door), and a guesser that dies mid-check has still
paid for its guess. Any valid id gets the same treatment, known or not, with or without a
password: the same writes, one argon2 check, one answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from services.store import CasMismatch, Document, DocumentStore, Exists, InDoubt, NotFound

from ._account import read_user
from ._context import JournalContext
from ._credentials import (
    Credential,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from ._documents import User
from ._ids import check_id, credential_key, user_key
from ._outcomes import (
    BadCredentials,
    InvalidInput,
    JournalError,
    Missing,
    PasswordSet,
    Rejected,
    Throttled,
)

T = TypeVar("T")
Change = Callable[[Credential, int], Credential | T]
"""Given the credential as read and the clock: the one to write, or anything else to stop."""


async def authenticate(store: DocumentStore, ctx: JournalContext, uid: str, password: str
                       ) -> User | BadCredentials | Throttled | InvalidInput:
    """``uid``'s account when ``password`` is its password."""
    checked = await _attempt(store, ctx, uid, ("password", password))
    if not isinstance(checked, str):
        return checked
    await _forgive(store, ctx, uid, checked, password)
    try:
        return User.from_json((await store.get(user_key(uid))).value)
    except NotFound:  # never written so (a hash is set only on an account that exists)
        return BadCredentials()


async def change_password(store: DocumentStore, ctx: JournalContext, uid: str, old: str,
                          new: str) -> PasswordSet | BadCredentials | Throttled | InvalidInput:
    """``new`` in place of ``old``, which is checked (and counted) as ``authenticate`` does."""
    checked = await _attempt(store, ctx, uid, ("old_password", old), ("new_password", new))
    if not isinstance(checked, str):
        return checked
    hashed = await hash_password(new)

    def swap(current: Credential, _now: int) -> Credential | BadCredentials:
        # Changed since we checked (another change, a reset): ours is no longer the password.
        return Credential(hashed) if current.hash == checked else BadCredentials()

    done = await _update(store, ctx, uid, swap)
    return done if isinstance(done, BadCredentials) else PasswordSet(uid)


async def reset_password(store: DocumentStore, ctx: JournalContext, uid: str, new: str
                         ) -> PasswordSet | Missing | InvalidInput:
    """The operator's: ``new`` without the old one, the failure count cleared."""
    try:
        check_id("user", uid)
        check_password("new_password", new)
        await read_user(store, uid)
    except Rejected as rejected:
        assert isinstance(rejected.outcome, Missing | InvalidInput)
        return rejected.outcome
    hashed = await hash_password(new)
    await _update(store, ctx, uid, lambda _current, _now: Credential(hashed))
    return PasswordSet(uid)


async def attach_password(store: DocumentStore, ctx: JournalContext, uid: str,
                          hashed: str) -> None:
    """The password of an account *this caller's insert just created*: set unless one is
    there already (an operator's reset got in first, and stands)."""
    await _update(store, ctx, uid, lambda current, _now: (
        None if current.hash is not None else Credential(hashed)))


async def _attempt(store: DocumentStore, ctx: JournalContext, uid: str,
                   tried: tuple[str, str], *also: tuple[str, str]
                   ) -> str | BadCredentials | Throttled | InvalidInput:
    """``tried`` (its field name, the password) checked as ``_check`` does, once ``uid``, it
    and the passwords of ``also`` are valid (else nothing is written)."""
    try:
        check_id("user", uid)
        for field, password in (tried, *also):
            check_password(field, password)
    except Rejected as rejected:
        assert isinstance(rejected.outcome, InvalidInput)
        return rejected.outcome
    return await _check(store, ctx, uid, tried[1])


async def _check(store: DocumentStore, ctx: JournalContext, uid: str, password: str
                 ) -> str | BadCredentials | Throttled:
    """The hash ``password`` matched, after counting the attempt; or why not."""

    def count(current: Credential, now: int) -> Credential | Throttled:
        wait = current.wait_ms(now)
        return Throttled(wait) if wait > 0 else current.failed(now)

    counted = await _update(store, ctx, uid, count)
    if isinstance(counted, Throttled):
        return counted
    if await verify_password(counted.hash, password):
        assert counted.hash is not None
        return counted.hash
    return BadCredentials()


async def _forgive(store: DocumentStore, ctx: JournalContext, uid: str, checked: str,
                   password: str) -> None:
    """After a success: the count cleared (and the hash renewed if its parameters are old),
    unless the password changed meanwhile. Best effort: a count left standing only delays."""
    hashed = await hash_password(password) if needs_rehash(checked) else checked

    def clear(current: Credential, _now: int) -> Credential | None:
        return Credential(hashed) if current.hash == checked else None

    try:
        await _update(store, ctx, uid, clear)
    except (InDoubt, JournalError):
        return


async def _update(store: DocumentStore, ctx: JournalContext, uid: str,
                  change: Change[T]) -> Credential | T:
    """``change`` of ``uid``'s credential (an empty one when there is none) written by CAS,
    or insert when absent; a lost race re-reads and asks ``change`` again, at most
    ``max_cas_retries`` times. ``change`` returns the credential to write, or anything else
    to write nothing and return that."""
    key = credential_key(uid)
    for _ in range(ctx.timing.max_cas_retries):
        doc = await _read(store, key)
        current = Credential() if doc is None else Credential.from_json(doc.value)
        wanted = change(current, ctx.clock())
        if not isinstance(wanted, Credential):
            return wanted
        try:
            if doc is None:
                await store.insert(key, wanted.to_json())
            else:
                await store.replace(key, wanted.to_json(), doc.cas)
        except (Exists, CasMismatch):
            continue
        return wanted
    raise JournalError(f"{key}: {ctx.timing.max_cas_retries} lost CAS races")


async def _read(store: DocumentStore, key: str) -> Document | None:
    try:
        return await store.get(key)
    except NotFound:
        return None
