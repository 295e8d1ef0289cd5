"""``credit``: the owner's share of a run of a campaign's sold slots, as one journal op.

The runs form a chain from slot 1: ``credit:<cid>:1`` covers 1..b, the next starts at b+1, and
each is keyed by its *first* slot, so two creditors can never both credit a run that starts at
one slot. The campaign's ``credited`` is only a hint of where the chain ends.

Before the intent: the seller unlocked; a = the slot after the chain's end; b = min(head,
a + batch - 1); the amount = the shares of the real slots a..b, read from their slots (a void
has no share); the run's purchases listed under their buyers (``_purchases.py``, one append
per buyer: what ``ListPurchases`` and the statement read). intent (lock the seller with the
run) -> commit (insert credit:<cid>:<a>) -> apply (clear the lock, add the amount) -> advance
the hint. In doubt it rolls forward. A creditor that dies while listing leaves the run
uncredited, so the next one lists it again (idempotently) before it credits it.
"""

from __future__ import annotations

import functools

from services.store import DocumentStore, NotFound

from ._account import read_or_missing, unlocked_user
from ._context import JournalContext
from ._documents import MAX_MONEY, Campaign, Fill, User, fee_of, slot_from_json
from ._forward import run_forward
from ._ids import campaign_key, check_id, credit_key, owned_key, purchases_key, slot_key
from ._index import list_entries
from ._money_out import CreditLock, CreditRecord
from ._outcomes import (
    Credited,
    CreditOutcome,
    Interrupted,
    InvalidInput,
    JournalError,
    NothingToCredit,
    Rejected,
    Resolution,
)
from ._purchases import ListedPurchase, list_purchases


async def credit(store: DocumentStore, ctx: JournalContext, cid: str,
                 owner: str | None = None) -> CreditOutcome:
    """Credit the next run of ``cid``'s finished, uncredited slots to its owner (nothing if
    ``owner`` is given and is not the campaign's)."""
    try:
        check_id("campaign", cid)
        return await _credit(store, ctx, cid, owner)
    except Rejected as rejected:
        return rejected.outcome


async def credit_owner(store: DocumentStore, ctx: JournalContext, uid: str
                       ) -> list[CreditOutcome]:
    """Credit every campaign ``uid`` owns (before a withdrawal of theirs), a run each."""
    return [await credit(store, ctx, cid, uid)
            for cid in await list_entries(store, owned_key(uid))]


async def _credit(store: DocumentStore, ctx: JournalContext, cid: str,
                  owner: str | None) -> CreditOutcome:
    campaign = Campaign.from_json(
        (await read_or_missing(store, campaign_key(cid), "campaign", cid)).value)
    seller = campaign.owner
    if owner is not None and owner != seller:
        return NothingToCredit(cid, campaign.credited)  # a stray entry of a lost creation
    user_doc = await unlocked_user(store, ctx, seller)
    first = await chain_end(store, cid, campaign)
    last = min(campaign.head, first + ctx.policy.credit_batch - 1)
    if first > last:
        return NothingToCredit(cid, first - 1)
    sold = await sales(store, cid, first, last)
    amount = sum(fill.price - fee_of(fill.price, campaign.fee_bps) for fill in sold.values())
    if User.from_json(user_doc.value).balance + amount > MAX_MONEY:
        return InvalidInput("amount", f"the seller's balance would exceed {MAX_MONEY}")
    await _list_under_buyers(store, ctx, cid, sold)
    lock = CreditLock(ctx.new_id(), cid, first, last, amount, ctx.trace_context(),
                      ctx.clock(), listed=True)
    ran = await run_forward(store, ctx, seller, user_doc, lock)
    if ran.resolution is None:
        return Interrupted("credit intent in doubt: the next credit settles it")
    if ran.resolution is not Resolution.ROLLED_FORWARD:
        # Another creditor's run starts at ``first`` (it got there between our reads).
        return NothingToCredit(cid, first - 1)
    return Credited(cid, seller, first, last, amount, ran.balance)


async def chain_end(store: DocumentStore, cid: str, campaign: Campaign) -> int:
    """The first slot after the chain of credit runs, followed from the ``credited`` hint."""
    first = campaign.credited + 1
    for _ in range(campaign.head + 2):  # bounded: each run covers at least one slot <= head
        try:
            record = CreditRecord.from_json((await store.get(credit_key(cid, first))).value)
        except NotFound:
            return first
        first = record.last + 1
    raise JournalError(f"campaign {cid}: the credit chain runs past head {campaign.head}")


async def sales(store: DocumentStore, cid: str, first: int, last: int) -> dict[int, Fill]:
    """The fills of finished slots ``first``..``last`` (a void is left out). A share is the
    fill's price less the fee at the campaign's fixed ``fee_bps``: what its receipt says
    (invariant 7), without reading the receipt."""
    sold: dict[int, Fill] = {}
    for n in range(first, last + 1):
        try:
            slot = slot_from_json((await store.get(slot_key(cid, n))).value)
        except NotFound:
            raise JournalError(f"campaign {cid}: finished slot {n} is empty") from None
        if isinstance(slot, Fill):
            sold[n] = slot
    return sold


async def _list_under_buyers(store: DocumentStore, ctx: JournalContext, cid: str,
                             sold: dict[int, Fill]) -> None:
    """The run's purchases in their buyers' lists (one append per buyer, in slot order),
    before the run is credited: they are real purchases whatever becomes of this credit. If
    any append fails, the op ends here (the next creditor lists the run again)."""
    by_buyer: dict[str, list[ListedPurchase]] = {}
    for n, fill in sold.items():
        by_buyer.setdefault(fill.buyer, []).append(ListedPurchase.of(cid, n, fill))
    # Grouped with this process's other appends to the same list (of the same store).
    await ctx.group_writes([
        (f"{id(store)}:{purchases_key(buyer)}", purchases,
         functools.partial(list_purchases, store, ctx, buyer))
        for buyer, purchases in by_buyer.items()])
