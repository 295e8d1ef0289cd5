"""After the run, before the verdict: let recovery finish. Every user logs in (the resolver
settles whatever lock a kill left behind); every campaign's head stops moving with no slot
head+1 left (read in process on the store); the watcher catches up with every head."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.journal import Campaign, campaign_key, slot_key
from services.store import DocumentStore, NotFound

from ._pool import PurchasePool
from ._watcher import FillWatcher

LOGIN_CONCURRENCY = 16
SETTLE_S = 30.0  # the posse checks every campaign at least every 10 s
LOOK_EVERY_S = 1.0
CATCH_UP_S = 10.0  # notify re-reads every watched campaign every 5 s at worst


@dataclass
class Settled:
    logins: Counter[str] = field(default_factory=Counter)  # resolutions of the final logins
    in_doubt: list[str] = field(default_factory=list)  # users whose login never settled
    heads: dict[str, int] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)  # campaigns with slot head+1 left
    behind: list[str] = field(default_factory=list)  # campaigns the watcher did not catch up on


async def log_everyone_in(pool: PurchasePool, users: Sequence[str], settled: Settled) -> None:
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def one(uid: str) -> None:
        async with gate:
            resolution = await pool.login(uid)
        if resolution is None:
            settled.in_doubt.append(uid)
        else:
            settled.logins[resolution] += 1

    await asyncio.gather(*(one(uid) for uid in users))


async def await_finished_campaigns(store: DocumentStore, campaigns: Sequence[str],
                                   settled: Settled) -> None:
    """Until two looks in a row find the same heads and no slot head+1 (or SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    previous: dict[str, int] | None = None
    while True:
        heads, unfinished = await _look(store, campaigns)
        settled.heads, settled.unfinished = heads, unfinished
        if (not unfinished and heads == previous) or time.monotonic() > deadline:
            return
        previous = heads
        await asyncio.sleep(LOOK_EVERY_S)


async def _look(store: DocumentStore, campaigns: Sequence[str]) -> tuple[dict[str, int],
                                                                          list[str]]:
    heads, unfinished = {}, []
    for cid in campaigns:
        head = Campaign.from_json((await store.get(campaign_key(cid))).value).head
        heads[cid] = head
        try:
            await store.get(slot_key(cid, head + 1))
            unfinished.append(cid)
        except NotFound:
            pass
    return heads, unfinished


async def await_watcher(watcher: FillWatcher, settled: Settled) -> None:
    deadline = time.monotonic() + CATCH_UP_S
    while True:
        settled.behind = [cid for cid, head in settled.heads.items()
                          if watcher.seen[cid].last < head]
        if not settled.behind or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.2)
