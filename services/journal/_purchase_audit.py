"""Invariant 10 over a snapshot: the purchase lists (docs/protocol.md, "The invariants").
Every purchase listed under a user is a real purchase of theirs, as its receipt and slot say;
each list is whole and its pages' ``below`` as its readers rely on; every purchase of a run
credited since the lists exist is listed."""

from __future__ import annotations

from ._documents import Fill
from ._ids import credit_key, purchase_page_key, purchases_key, receipt_key, slot_key
from ._purchases import ListedPurchase, PurchasePage
from ._snapshot import Snapshot, Violation

LISTED = 10


def check_purchase_lists(snap: Snapshot) -> list[Violation]:
    found: list[Violation] = []
    listed: set[tuple[str, str, int]] = set()  # (buyer, campaign, slot)
    for uid, head in snap.purchase_heads.items():
        pages = _pages(snap, uid, head)
        found += _check_pages(snap, uid, head, pages)
        for key, page in pages:
            for purchase in page.entries if page is not None else ():
                listed.add((uid, purchase.campaign, purchase.slot))
                found += _check_purchase(snap, uid, key, purchase)
    return found + _check_credited_are_listed(snap, listed)


def _pages(snap: Snapshot, uid: str, head: PurchasePage
           ) -> list[tuple[str, PurchasePage | None]]:
    """The list's pages as its readers see them, oldest first, with their keys: sealed
    pages 1..k-1 (None: missing) and head k."""
    sealed = [(purchase_page_key(uid, n), snap.purchase_pages.get((uid, n)))
              for n in range(1, head.number)]
    return [*sealed, (purchases_key(uid), head)]


def _check_pages(snap: Snapshot, uid: str, head: PurchasePage,
                 pages: list[tuple[str, PurchasePage | None]]) -> list[Violation]:
    """Every sealed page under the head there, full and numbered; none above the head; each
    page's ``below`` at least every bought_at of the pages under it."""
    found: list[Violation] = []
    latest = 0  # the latest bought_at of the pages below
    for number, (key, page) in enumerate(pages, start=1):
        if page is None:
            found.append(Violation(LISTED, f"sealed page {number} under head page "
                                           f"{head.number} is missing", (key,)))
            continue
        if page is not head and (page.number != number or not page.full):
            found.append(Violation(LISTED, f"sealed page {number} is numbered {page.number} "
                                           f"with {len(page.rows)} of {page.size} entries",
                                   (key,)))
        if page.below < latest:
            found.append(Violation(LISTED, f"page {number}'s below {page.below} is before a "
                                           f"purchase at {latest} in a page under it", (key,)))
        latest = max([latest, *(p.bought_at for p in page.entries)])
    found += [Violation(LISTED, f"sealed page {number} above head page {head.number}",
                        (purchase_page_key(uid, number),))
              for (owner, number) in snap.purchase_pages
              if owner == uid and number > head.number]
    return found


def _check_purchase(snap: Snapshot, uid: str, key: str, p: ListedPurchase) -> list[Violation]:
    """A listed purchase is a receipt of ``uid``'s at its price, and copies its slot."""
    receipt = snap.receipts.get((p.campaign, p.slot))
    if receipt is None or (receipt.buyer, receipt.price) != (uid, p.price):
        return [Violation(LISTED, f"listed purchase {p.campaign}:{p.slot} at {p.price} is no "
                                  f"receipt of {uid}'s", (key, receipt_key(p.campaign, p.slot)))]
    slot = snap.slots.get((p.campaign, p.slot))
    if not isinstance(slot, Fill) or ListedPurchase.of(p.campaign, p.slot, slot) != p:
        return [Violation(LISTED, f"listed purchase {p.campaign}:{p.slot} disagrees with its "
                                  "slot (filler or times)", (key, slot_key(p.campaign, p.slot)))]
    return []


def _check_credited_are_listed(snap: Snapshot, listed: set[tuple[str, str, int]]
                               ) -> list[Violation]:
    """A run marked ``listed`` listed its purchases before it was credited."""
    found: list[Violation] = []
    for (cid, first), run in snap.credits.items():
        if not run.listed:
            continue  # credited before the lists existed
        for n in range(run.first, run.last + 1):
            slot = snap.slots.get((cid, n))
            if isinstance(slot, Fill) and (slot.buyer, cid, n) not in listed:
                found.append(Violation(LISTED, f"credited purchase {cid}:{n} is not in "
                                               f"{slot.buyer}'s list",
                                       (credit_key(cid, first), purchases_key(slot.buyer))))
    return found
