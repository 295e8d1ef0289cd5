"""The reads behind a gateway's lists: campaigns (all, or one owner's), a campaign's finished
slots, a user's fillers, a user's purchases. Each reads list documents and then only the
documents of one page (``count`` of them, a little more when entries without a document are
skipped; a user's purchases: the pages of their list down to the last purchase of the page),
never the whole store. Store errors propagate (``Journal`` turns them into ``Interrupted``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.store import DocumentStore, Json, NotFound

from ._account import read_or_missing, read_user
from ._documents import Campaign, Slot, slot_from_json
from ._ids import campaign_key, check_id, filler_key, fillers_key, owned_key, slot_key
from ._index import IndexKind, list_entries, list_index
from ._purchases import ListedPurchase, Purchases, newest_purchases

READ_AT_ONCE = 32
"""How many documents a list reads from the store at once."""


async def campaigns_after(store: DocumentStore, owner: str | None, after: str | None,
                          count: int) -> list[tuple[str, Campaign]]:
    """At most ``count`` campaigns with ids above ``after`` (None: from the first), in id
    order: every campaign from the index, or ``owner``'s from its ``owned:<uid>`` list (an
    unknown owner is Missing). An entry without a document (a creation not finished) is left
    out, and so is an owned entry whose campaign has another owner (a lost creation's)."""
    if owner is None:
        ids = await list_index(store, IndexKind.CAMPAIGNS)
    else:
        check_id("owner", owner)
        await read_user(store, owner)
        ids = await list_entries(store, owned_key(owner))
    found = await _read_after(store, ids, after, count, campaign_key,
                              lambda value: owner is None or value["owner"] == owner)
    return [(cid, Campaign.from_json(value)) for cid, value in found]


async def fillers_after(store: DocumentStore, uid: str, after: str | None, count: int
                        ) -> list[tuple[str, Json]]:
    """At most ``count`` of ``uid``'s fillers with ids above ``after``, in id order, from its
    ``fillers:<uid>`` list (fillers uploaded before that list existed are not in it). An
    unknown user is Missing."""
    check_id("user", uid)
    await read_user(store, uid)
    ids = await list_entries(store, fillers_key(uid))
    return await _read_after(store, ids, after, count, lambda fid: filler_key(uid, fid),
                             lambda value: True)


async def get_filler(store: DocumentStore, uid: str, fid: str) -> Json:
    """Filler ``fid`` of ``uid``'s; Missing if there is none."""
    check_id("user", uid)
    check_id("filler", fid)
    return (await read_or_missing(store, filler_key(uid, fid), "filler", fid)).value


PurchaseOrder = tuple[int, str, int]
"""A purchase's place in its buyer's list: (bought_at, campaign, slot), newest first."""


def purchase_order(p: ListedPurchase) -> PurchaseOrder:
    return p.bought_at, p.campaign, p.slot


async def purchases_before(store: DocumentStore, uid: str, before: PurchaseOrder | None,
                           start_page: int | None, count: int) -> Purchases:
    """At most ``count`` of ``uid``'s listed purchases ordered before ``before`` (None: from
    the newest), newest first, each once; from ``start_page`` down when given (what an
    earlier page's walk started at). An unknown user is Missing."""
    check_id("user", uid)
    await read_user(store, uid)
    return await newest_purchases(
        store, uid, count, lambda p: before is None or purchase_order(p) < before,
        purchase_order, start_page)


async def slots_below(store: DocumentStore, cid: str, below: int | None, count: int
                      ) -> list[tuple[int, Slot]]:
    """At most ``count`` of campaign ``cid``'s finished slots numbered below ``below`` (None:
    from its head), newest first. Slots 1 to head are all finished: each is a fill or a
    void. An unknown campaign is Missing."""
    check_id("campaign", cid)
    doc = await read_or_missing(store, campaign_key(cid), "campaign", cid)
    head = Campaign.from_json(doc.value).head
    top = head if below is None else min(head, below - 1)
    wanted = list(range(top, max(top - count, 0), -1))
    found: list[tuple[int, Slot]] = []
    for start in range(0, len(wanted), READ_AT_ONCE):
        batch = wanted[start:start + READ_AT_ONCE]
        read = await asyncio.gather(*(_value(store, slot_key(cid, n)) for n in batch))
        found += [(n, slot_from_json(value)) for n, value in zip(batch, read, strict=True)
                  if value is not None]
    return found


async def _read_after(store: DocumentStore, ids: list[str], after: str | None, count: int,
                      key_of: Callable[[str], str], keep: Callable[[Json], bool]
                      ) -> list[tuple[str, Json]]:
    """The documents of the first ``count`` of the sorted ``ids`` above ``after`` that exist
    and are kept, read a batch at a time until there are enough."""
    todo = [i for i in ids if after is None or i > after]
    found: list[tuple[str, Json]] = []
    while todo and len(found) < count:
        size = min(READ_AT_ONCE, count - len(found))
        batch, todo = todo[:size], todo[size:]
        read = await asyncio.gather(*(_value(store, key_of(i)) for i in batch))
        found += [(i, value) for i, value in zip(batch, read, strict=True)
                  if value is not None and keep(value)]
    return found[:count]


async def _value(store: DocumentStore, key: str) -> Json | None:
    try:
        return (await store.get(key)).value
    except NotFound:
        return None
