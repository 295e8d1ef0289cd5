"""The posse's check of one campaign (docs/protocol.md, "Recovery: the posse").

Read head; look at slot head+1; if it is there, give its driver ``posse_wait_ms`` to finish
(it almost always does), read the campaign again, and if head is still behind, finish it.

The driver's time is counted from the purchase's ``bought_at`` (its lock, just before the
fill), so a slot found already older than ``posse_wait_ms`` is not waited on again: its
driver had its chance, most likely it died. Only timing rides on that clock reading: finishing
is idempotent, so a skewed clock at worst has the posse and a live driver finish the same
slot together, which the protocol allows anyway. A void (fence) carries no time: the full wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.store import DocumentStore, NotFound

from ._context import JournalContext
from ._documents import Campaign, Fill, Slot, slot_from_json
from ._finish import Finished, finish_slot
from ._ids import campaign_key, slot_key


@dataclass(frozen=True, slots=True)
class Check:
    """One check: the head seen, the slot this check finished (a repair), if any, and the
    campaign's ``credited`` hint as first read (behind head: sales wait for their credit)."""

    campaign: str
    head: int
    repaired: Finished | None = None
    credited: int = 0

    @property
    def uncredited(self) -> bool:
        return self.credited < self.head

    @property
    def bought_at(self) -> int | None:
        """When the repaired purchase was made (ms), to measure the repair's delay."""
        if self.repaired is None or not isinstance(self.repaired.filled, Fill):
            return None
        return self.repaired.filled.bought_at


async def check_campaign(store: DocumentStore, ctx: JournalContext, cid: str) -> Check:
    """One posse check; raises store NotFound for a campaign that does not exist."""
    seen = Campaign.from_json((await store.get(campaign_key(cid))).value)
    head, credited = seen.head, seen.credited
    n = head + 1
    try:
        slot = slot_from_json((await store.get(slot_key(cid, n))).value)
    except NotFound:
        return Check(cid, head, credited=credited)
    left = _driver_time_left(ctx, slot)
    if left > 0:
        await ctx.sleep(left)
    campaign = await store.get(campaign_key(cid))
    if Campaign.from_json(campaign.value).head >= n:
        return Check(cid, n, credited=credited)
    finished = await finish_slot(store, ctx, cid, n, slot=slot, campaign=campaign)
    return Check(cid, n, finished, credited)


def _driver_time_left(ctx: JournalContext, slot: Slot) -> int:
    """How much longer (ms) the slot's driver gets before the posse finishes the slot."""
    wait = ctx.timing.posse_wait_ms
    if not isinstance(slot, Fill):
        return wait
    return min(wait, max(0, slot.bought_at + wait - ctx.clock()))
