"""Journal values to the API's messages (the parts every service shares)."""

from __future__ import annotations

from services.api.abc.v1 import events_pb2, types_pb2
from services.journal import Fill, Finished, Slot


def filled_slot(cid: str, n: int, slot: Slot) -> types_pb2.FilledSlot:
    if not isinstance(slot, Fill):
        return types_pb2.FilledSlot(campaign_id=cid, slot=n, void=True)
    return types_pb2.FilledSlot(
        campaign_id=cid, slot=n, buyer_id=slot.buyer, price=slot.price,
        filler_id=slot.filler or "", bought_at_ms=slot.bought_at, start_ms=slot.start,
        end_ms=slot.end)


def fill_event(finished: Finished, publisher: str, now_ms: int) -> events_pb2.FillEvent:
    return events_pb2.FillEvent(
        slot=filled_slot(finished.campaign, finished.slot, finished.filled),
        publisher=publisher, published_at_ms=now_ms)
