"""A user's purchases, listed by the creditors, off the buy path (docs/protocol.md, "A user's
purchases"): a list of bounded pages, read newest page first.

``purchases:<uid>`` is the **head**, the page still filling: ``{"page": k, "size": E,
"below": M, "entries": [...]}`` with at most E entries. ``purchases:<uid>:<p>`` for p < k are
the **sealed** pages, each a full head copied as it was, never written again. ``below`` is
the latest ``bought_at`` in all older pages, so a reader walking down from the head knows
when no older page can hold a newer purchase. ``size`` is fixed when the list is created and
carried from page to page, so every writer agrees on when a page is full.

An append reads the head and CASes it with the new entries (at most E: a full head is first
sealed by inserting its copy, then the head moves to page k+1 by CAS). Every write is settled
by reading again: entries already in the head (or, after a write in doubt, in pages sealed
since) are not written twice. A purchase can still be listed twice (a creditor died after
listing its run, the next one listed it again after the page was sealed); readers drop the
second copy, which the newest-first walk always meets before it hands either out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from services.store import CasMismatch, Document, DocumentStore, Exists, InDoubt, Json, NotFound

from ._context import JournalContext
from ._documents import Fill
from ._ids import purchase_page_key, purchases_key
from ._outcomes import JournalError


@dataclass(frozen=True, slots=True)
class ListedPurchase:
    """One purchase as its buyer's list keeps it: all a reader shows, so a list needs no
    receipt or slot reads. Stored as ``[campaign, slot, price, filler, bought_at, start,
    end]``."""

    campaign: str
    slot: int
    price: int
    filler: str | None
    bought_at: int
    start: int
    end: int

    @classmethod
    def of(cls, cid: str, n: int, fill: Fill) -> ListedPurchase:
        return cls(cid, n, fill.price, fill.filler, fill.bought_at, fill.start, fill.end)

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> ListedPurchase:
        return cls(*value)

    def to_json(self) -> list[Any]:
        return [self.campaign, self.slot, self.price, self.filler, self.bought_at,
                self.start, self.end]

    @property
    def ident(self) -> tuple[str, int]:
        """Campaign and slot: what a second copy of this purchase has in common with it."""
        return self.campaign, self.slot


@dataclass(frozen=True, slots=True)
class PurchasePage:
    """One page of a purchase list (the head, or a sealed page). ``rows`` are its entries as
    stored: an append touches only the rows it adds (a page is rewritten on every append, so
    its entries are parsed only by readers, ``entries``)."""

    number: int
    size: int
    below: int  # the latest bought_at of every older page (0: none)
    rows: tuple[list[Any], ...]

    @classmethod
    def from_json(cls, value: Json) -> PurchasePage:
        return cls(value["page"], value["size"], value["below"], tuple(value["entries"]))

    def to_json(self) -> Json:
        return {"page": self.number, "size": self.size, "below": self.below,
                "entries": list(self.rows)}

    @property
    def entries(self) -> list[ListedPurchase]:
        return [ListedPurchase.from_json(row) for row in self.rows]

    @property
    def idents(self) -> set[tuple[str, int]]:
        """Campaign and slot of every entry."""
        return {(row[0], row[1]) for row in self.rows}

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.size

    @property
    def upto(self) -> int:
        """The latest bought_at in this page and every older one."""
        return max([self.below, *(int(row[4]) for row in self.rows)])

    def appended(self, more: Sequence[ListedPurchase]) -> PurchasePage:
        """This page with as many of ``more`` as fit: the head of the next page if this one
        is full."""
        if self.full:
            return PurchasePage(self.number + 1, self.size, self.upto,
                                tuple(p.to_json() for p in more[:self.size]))
        room = self.size - len(self.rows)
        return replace(self, rows=(*self.rows, *(p.to_json() for p in more[:room])))


@dataclass(frozen=True, slots=True)
class Purchases:
    """A read of a purchase list: the purchases asked for, and the page the walk started
    at (a later walk of the same pages may start there: pages after it hold only purchases
    listed since)."""

    purchases: list[ListedPurchase]
    start_page: int


async def list_purchases(store: DocumentStore, ctx: JournalContext, uid: str,
                         purchases: Sequence[ListedPurchase]) -> None:
    """``purchases`` (of one buyer, ``uid``) in its list: present afterwards, whoever put
    them there. A write lost to a race or left in doubt is settled by reading the head
    again; ``JournalError`` once more than ``max_cas_retries`` writes did not land."""
    todo = list(purchases)
    doubt: int | None = None  # the page a write of ours in doubt was to
    failures = 0
    doc = await _head_doc(store, uid)
    # Bounded: a write that lands lists at least one purchase, one that does not is counted.
    for _ in range(len(todo) + ctx.timing.max_cas_retries + 1):
        head = _new_head(ctx) if doc is None else PurchasePage.from_json(doc.value)
        seen = await _listed_in(store, uid, head, doubt)
        todo = [p for p in todo if p.ident not in seen]
        if not todo:
            return
        written = head.appended(todo)
        try:
            if head.full:
                await _seal(store, ctx, uid, head)
            cas = await _write_head(store, ctx, uid, written, doc)
        except (Exists, CasMismatch):
            failures += 1
        except InDoubt as exc:
            failures += 1
            doubt = written.number if exc.key == purchases_key(uid) else doubt
        else:
            doubt = None
            todo = todo[len(written.rows) - (0 if head.full else len(head.rows)):]
            if not todo:
                return
            doc = Document(written.to_json(), cas)  # what we wrote is the head: no re-read
            continue
        doc = await _head_doc(store, uid)
    raise JournalError(f"purchases of {uid}: {failures} writes lost or in doubt")


async def newest_purchases(store: DocumentStore, uid: str, count: int | None,
                           keep: Callable[[ListedPurchase], bool],
                           order: Callable[[ListedPurchase], Any],
                           start_page: int | None = None) -> Purchases:
    """At most ``count`` (None: all) of ``uid``'s listed purchases that ``keep`` accepts,
    the greatest by ``order`` first, each once. ``order`` must sort by ``bought_at`` first:
    the walk goes down from the head (or from sealed page ``start_page``) and stops as soon
    as ``count`` kept purchases are later than everything in the pages below."""
    try:
        doc = await store.get(purchases_key(uid))
    except NotFound:
        return Purchases([], 0)
    head = PurchasePage.from_json(doc.value)
    first = head.number
    if start_page is not None and 1 <= start_page < head.number:
        first = start_page
    found: dict[tuple[str, int], ListedPurchase] = {}
    for number in range(first, 0, -1):
        page = head if number == head.number else await sealed_page(store, uid, number)
        found.update((p.ident, p) for p in page.entries if keep(p))
        later = sum(1 for p in found.values() if p.bought_at > page.below)
        if count is not None and later >= count:
            break
    return Purchases(sorted(found.values(), key=order, reverse=True)[:count], first)


async def sealed_page(store: DocumentStore, uid: str, number: int) -> PurchasePage:
    """Sealed page ``number`` of ``uid``'s list (below its head's, so it exists)."""
    try:
        return PurchasePage.from_json((await store.get(purchase_page_key(uid, number))).value)
    except NotFound:
        raise JournalError(f"purchases of {uid}: sealed page {number} is missing") from None


async def _write_head(store: DocumentStore, ctx: JournalContext, uid: str,
                      head: PurchasePage, doc: Document | None) -> int:
    """``head`` written over ``doc`` as read (inserted when there was none): its cas."""
    with ctx.step("credit.list", user=uid, page=head.number):
        if doc is None:
            return await store.insert(purchases_key(uid), head.to_json())
        return await store.replace(purchases_key(uid), head.to_json(), doc.cas)


async def _head_doc(store: DocumentStore, uid: str) -> Document | None:
    try:
        return await store.get(purchases_key(uid))
    except NotFound:
        return None


def _new_head(ctx: JournalContext) -> PurchasePage:
    """An empty page 1 (its first write inserts it)."""
    return PurchasePage(1, ctx.policy.purchase_page, 0, ())


async def _listed_in(store: DocumentStore, uid: str, head: PurchasePage, doubt: int | None
                     ) -> set[tuple[str, int]]:
    """What is listed in ``head`` and, after a write in doubt to page ``doubt``, in the
    pages sealed since (where that write may have gone)."""
    seen = head.idents
    if doubt is not None:
        for number in range(doubt, head.number):
            seen |= (await sealed_page(store, uid, number)).idents
    return seen


async def _seal(store: DocumentStore, ctx: JournalContext, uid: str, head: PurchasePage
                ) -> None:
    """The full ``head`` copied to its sealed page. A full head never changes until it
    moves on, so every sealer writes the same copy: ``Exists`` is done. In doubt: raised;
    the next try inserts it again, which settles it."""
    with ctx.step("credit.seal", user=uid, page=head.number), contextlib.suppress(Exists):
        await store.insert(purchase_page_key(uid, head.number), head.to_json())
