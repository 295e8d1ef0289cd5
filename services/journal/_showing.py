"""What a campaign shows now: the slot whose time covers ``now``, and its filler."""

from __future__ import annotations

from dataclasses import dataclass

from services.store import DocumentStore, Json, NotFound

from ._documents import Campaign, Fill, slot_from_json
from ._ids import filler_key, slot_key

MAX_LOOKBACK = 1000  # slots queued ahead of now that one lookup will step back over


@dataclass(frozen=True, slots=True)
class Showing:
    slot: int
    fill: Fill
    filler: Json | None  # the filler document; None if bought without one, missing, or not asked


async def showing(store: DocumentStore, cid: str, campaign: Campaign, now: int,
                  with_filler: bool = True) -> Showing | None:
    """The finished slot whose ``[start, end)`` covers ``now``, or None. Slots start where
    the previous real one ends, so step back from the last purchase until one starts at or
    before now (none read when the last purchase has ended: nothing is showing). The filler
    document is read too unless not ``with_filler``."""
    last = campaign.last
    if last is None or last.end <= now:
        return None
    for n in range(last.slot, max(last.slot - MAX_LOOKBACK, 0), -1):
        slot = slot_from_json((await store.get(slot_key(cid, n))).value)
        if not isinstance(slot, Fill):
            continue
        if slot.end <= now:
            return None
        if slot.start <= now:
            return Showing(n, slot, await _filler(store, slot) if with_filler else None)
    return None


async def _filler(store: DocumentStore, fill: Fill) -> Json | None:
    if fill.filler is None:
        return None
    try:
        return (await store.get(filler_key(fill.buyer, fill.filler))).value
    except NotFound:
        return None
