"""``credit``: the owner's share of a run of a campaign's sold slots, as one journal op.

The runs form a chain from slot 1: ``credit:<cid>:1`` covers 1..b, the next starts at b+1, and
each is keyed by its *first* slot, so two creditors can never both credit a run that starts at
one slot. The campaign's ``credited`` is only a hint of where the chain ends.

Before the intent: the seller unlocked; a = the slot after the chain's end; b = min(head,
a + batch - 1); the amount = the shares of the real slots a..b (a void has no receipt and no
share). intent (lock the seller with the run) -> commit (insert credit:<cid>:<a>) -> apply
(clear the lock, add the amount) -> advance the hint. In doubt it rolls forward.
"""

from __future__ import annotations

from services.store import DocumentStore, NotFound

from ._account import read_or_missing, unlocked_user
from ._context import JournalContext
from ._documents import MAX_MONEY, Campaign, Receipt, User, Void, slot_from_json
from ._forward import run_forward
from ._ids import campaign_key, check_id, credit_key, owned_key, receipt_key, slot_key
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
    amount = sum([await share(store, cid, n) for n in range(first, last + 1)])
    if User.from_json(user_doc.value).balance + amount > MAX_MONEY:
        return InvalidInput("amount", f"the seller's balance would exceed {MAX_MONEY}")
    lock = CreditLock(ctx.new_id(), cid, first, last, amount, ctx.trace_context(),
                      ctx.clock())
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


async def share(store: DocumentStore, cid: str, n: int) -> int:
    """The seller's share of finished slot ``n``: its receipt's price less the fee; 0 for a
    void. A real slot at or below head always has its receipt (finish writes it first)."""
    try:
        return Receipt.from_json((await store.get(receipt_key(cid, n))).value).share
    except NotFound:
        slot = slot_from_json((await store.get(slot_key(cid, n))).value)
        if isinstance(slot, Void):
            return 0
        raise JournalError(f"campaign {cid}: finished slot {n} has no receipt") from None
