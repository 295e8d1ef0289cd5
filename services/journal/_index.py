"""Sharded index documents: how recovery, the audit and dump find every campaign, user,
deposit and filler without a scan (the store has none).

``index:<kind>:<shard>`` holds ``{"ids": [...]}``; an entry's shard is a stable hash of it.
An entry is added *before* the document it names is created, so a crash in between leaves an
entry whose document is absent (readers skip it), never a document nobody can find.
"""

from __future__ import annotations

import enum
import hashlib

from services.store import CasMismatch, DocumentStore, Exists, InDoubt, NotFound

from ._context import JournalContext
from ._outcomes import JournalError

SHARDS = 16  # fixed: changing it would need moving every entry


class IndexKind(enum.Enum):
    USERS = "users"  # entry: uid
    CAMPAIGNS = "campaigns"  # entry: cid
    DEPOSITS = "deposits"  # entry: "<uid>:<deposit id>"
    FILLERS = "fillers"  # entry: "<uid>:<filler id>"
    WITHDRAWALS = "withdrawals"  # entry: "<uid>:<withdrawal id>"


def shard_of(entry: str) -> int:
    return int.from_bytes(hashlib.sha1(entry.encode()).digest()[:4], "big") % SHARDS


def index_key(kind: IndexKind, shard: int) -> str:
    return f"index:{kind.value}:{shard}"


async def add_to_index(store: DocumentStore, ctx: JournalContext, kind: IndexKind,
                       entry: str) -> None:
    """Idempotent: present afterwards, whoever put it there."""
    await add_entry(store, ctx, index_key(kind, shard_of(entry)), entry)


async def add_entry(store: DocumentStore, ctx: JournalContext, key: str, entry: str) -> None:
    """``entry`` in the list document ``key`` (``{"ids": [...]}``): idempotent, present
    afterwards whoever put it there. An in-doubt write is settled by reading the list again,
    so this never blindly writes twice."""
    for _ in range(ctx.timing.max_cas_retries):
        try:
            doc = await store.get(key)
        except NotFound:
            try:
                await store.insert(key, {"ids": [entry]})
                return
            except (Exists, InDoubt):
                continue
        ids = doc.value["ids"]
        if entry in ids:
            return
        try:
            await store.replace(key, {"ids": [*ids, entry]}, doc.cas)
            return
        except (CasMismatch, InDoubt):
            continue
    raise JournalError(f"list {key}: {ctx.timing.max_cas_retries} lost CAS races")


async def list_index(store: DocumentStore, kind: IndexKind) -> list[str]:
    """Every entry of an index, sorted."""
    entries: list[str] = []
    for shard in range(SHARDS):
        try:
            doc = await store.get(index_key(kind, shard))
        except NotFound:
            continue
        entries.extend(doc.value["ids"])
    return sorted(entries)


async def list_entries(store: DocumentStore, key: str) -> list[str]:
    """The entries of the list document ``key``, sorted (none if it does not exist)."""
    try:
        return sorted((await store.get(key)).value["ids"])
    except NotFound:
        return []
