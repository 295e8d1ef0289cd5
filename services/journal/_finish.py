"""Finishing slot n: the roll-forward that the driver, the posse and the resolver all run.

1. insert ``txn:c:n``, the receipt with the operator's fee (exists is fine); none for a void;
2. release the buyer: clear that attempt's lock with the debit (a void: no debit);
3. advance the campaign from n-1 to n.
Publishing the fill event is the caller's business (the journal knows no NATS).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from services.store import Document, DocumentStore, Exists

from ._context import JournalContext
from ._documents import Campaign, Fill, Receipt, Slot, Void, fee_of, slot_from_json
from ._effects import advance_campaign, release_account
from ._ids import campaign_key, receipt_key, slot_key


@dataclass(frozen=True, slots=True)
class Finished:
    """What finishing slot ``slot`` of ``campaign`` found and did."""

    campaign: str
    slot: int
    filled: Slot
    released: bool  # this call cleared the buyer's (or fenced attempt's) lock
    advanced: bool  # this call moved head to ``slot``
    after: Campaign | None = None  # the campaign once ``slot`` is finished (head >= slot)


async def finish_slot(
    store: DocumentStore, ctx: JournalContext, cid: str, n: int, *,
    slot: Slot | None = None, campaign: Document | None = None, buyer: Document | None = None,
) -> Finished:
    """Roll slot n forward; idempotent. ``slot``, ``campaign`` and ``buyer`` are what the
    caller already read (saving reads), or None to read them here."""
    if slot is None:
        slot = slot_from_json((await store.get(slot_key(cid, n))).value)
    links = [slot.trace] if isinstance(slot, Fill) and slot.trace else []
    with ctx.span("finish_slot", {"campaign": cid, "slot": n}, links):
        finished = await _finish(store, ctx, cid, n, slot, campaign, buyer)
        ctx.on_finished(finished)
    return finished


async def _finish(
    store: DocumentStore, ctx: JournalContext, cid: str, n: int, slot: Slot,
    campaign: Document | None, buyer: Document | None,
) -> Finished:
    if campaign is None:
        campaign = await store.get(campaign_key(cid))
    read = Campaign.from_json(campaign.value)
    if isinstance(slot, Void):
        with ctx.step("finish.release", user=slot.user):
            released = await release_account(store, ctx, slot.user, slot.attempt, 0, buyer)
        purchase = None
    else:
        with ctx.step("finish.receipt"):
            await _write_receipt(store, cid, n, slot, read)
        with ctx.step("finish.debit", user=slot.buyer, price=slot.price):
            released = await release_account(store, ctx, slot.buyer, slot.attempt, -slot.price,
                                             buyer)
        purchase = slot.purchase(n)
    with ctx.step("finish.advance"):
        advanced = await advance_campaign(store, ctx, cid, n, purchase, campaign)
    # What the advance wrote, or found written (head moves from n-1 to n one way only), so a
    # caller who wants the next price need not read the campaign again.
    after = read if read.head >= n else read.advanced(n, purchase)
    return Finished(cid, n, slot, released, advanced, after)


async def _write_receipt(store: DocumentStore, cid: str, n: int, fill: Fill,
                         campaign: Campaign) -> None:
    # From immutable fields only (the fill, the campaign's owner and fee), so every finisher
    # writes the same receipt.
    receipt = Receipt(fill.buyer, campaign.owner, fill.price, fill.attempt,
                      fee_of(fill.price, campaign.fee_bps))
    with contextlib.suppress(Exists):  # written already: by us earlier, or by a helper
        await store.insert(receipt_key(cid, n), receipt.to_json())
