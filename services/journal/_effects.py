"""The idempotent effects of a journal op: anyone may run them, any number of times.

- ``release_account``: CAS the user doc from "locked by this attempt" to "unlocked, balance
  changed by delta"; a lost CAS is re-read and retried for as long as the lock still names
  the attempt. Once it names anything else the effect is done (by us or by someone else).
- ``advance_campaign``: CAS ``head`` from n-1 to n; nothing if ``head >= n`` already.
- ``advance_credited``: CAS the credited hint up to a run's last slot, never back.
"""

from __future__ import annotations

from dataclasses import replace

from services.store import CasMismatch, Document, DocumentStore

from ._context import JournalContext
from ._documents import Campaign, Purchase, User
from ._ids import campaign_key, user_key
from ._outcomes import JournalError


async def release_account(
    store: DocumentStore, ctx: JournalContext, uid: str, attempt: str, delta: int,
    known: Document | None = None,
) -> bool:
    """Clear ``attempt``'s lock on ``uid`` together with ``delta``; True if this call did it."""
    key = user_key(uid)
    doc = known if known is not None else await store.get(key)
    for round_ in range(ctx.timing.max_cas_retries):
        user = User.from_json(doc.value)
        blind = round_ > 0 and not ctx.safeguards.debit_only_while_locked
        if not user.locked_by(attempt) and not blind:
            return False
        try:
            await store.replace(key, user.settled(delta).to_json(), doc.cas)
            return True
        except CasMismatch:
            doc = await store.get(key)
    raise JournalError(f"{key}: {ctx.timing.max_cas_retries} lost CAS races settling {attempt}")


async def advance_campaign(
    store: DocumentStore, ctx: JournalContext, cid: str, n: int, purchase: Purchase | None,
    known: Document | None = None,
) -> bool:
    """Move ``head`` from n-1 to n (and ``last`` to ``purchase`` unless a void); never back,
    never past an unfinished slot. True if this call moved it."""
    key = campaign_key(cid)
    doc = known if known is not None else await store.get(key)
    if not ctx.safeguards.never_backwards:
        # Mutation for the simulation only: a blind overwrite from a possibly stale read.
        await store.upsert(key, Campaign.from_json(doc.value).advanced(n, purchase).to_json())
        return True
    for _ in range(ctx.timing.max_cas_retries):
        campaign = Campaign.from_json(doc.value)
        if campaign.head >= n:
            return False
        if campaign.head != n - 1:
            raise JournalError(f"{key}: head {campaign.head} is behind slot {n} - 1")
        try:
            await store.replace(key, campaign.advanced(n, purchase).to_json(), doc.cas)
            return True
        except CasMismatch:
            doc = await store.get(key)
    raise JournalError(f"{key}: {ctx.timing.max_cas_retries} lost CAS races advancing to {n}")


async def advance_credited(store: DocumentStore, ctx: JournalContext, cid: str, last: int) -> bool:
    """Move the campaign's ``credited`` hint up to ``last``, never back. True if this call
    moved it. Only a hint: a creditor follows the chain of runs past it."""
    key = campaign_key(cid)
    for _ in range(ctx.timing.max_cas_retries):
        doc = await store.get(key)
        campaign = Campaign.from_json(doc.value)
        if campaign.credited >= last:
            return False
        try:
            await store.replace(key, replace(campaign, credited=last).to_json(), doc.cas)
            return True
        except CasMismatch:
            continue
    raise JournalError(f"{key}: {ctx.timing.max_cas_retries} lost CAS races advancing credited")
