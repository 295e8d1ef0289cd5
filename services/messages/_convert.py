"""Journal values to the API's messages and back (the parts every service and client shares)."""

from __future__ import annotations

from services.api.abc.v1 import events_pb2, notify_pb2, types_pb2
from services.journal import Campaign, Fill, Filler, Finished, Purchase, Slot
from services.store import Json


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


def campaign_message(cid: str, c: Campaign) -> types_pb2.Campaign:
    return types_pb2.Campaign(campaign_id=cid, owner_id=c.owner, min_price=c.min_price,
                              slot_seconds=c.slot_seconds, ad_width=c.ad_width,
                              ad_height=c.ad_height)


def purchase_message(p: Purchase) -> types_pb2.Purchase:
    return types_pb2.Purchase(slot=p.slot, price=p.price, bought_at_ms=p.bought_at,
                              start_ms=p.start, end_ms=p.end)


def price_curve(c: Campaign) -> types_pb2.PriceCurve:
    message = types_pb2.PriceCurve(min_price=c.min_price)
    if c.last is not None:
        message.last.CopyFrom(purchase_message(c.last))
    return message


def filler_message(uid: str, fid: str, value: Json, with_image: bool = True
                   ) -> types_pb2.Filler:
    """Filler document ``value`` as the API's Filler; without ``with_image`` (a listing) its
    media type and size are kept, the bytes left out. An image stored before images were
    checked is never sent (docs/protocol.md, "Filler")."""
    f = Filler.from_json(value)
    return types_pb2.Filler(user_id=uid, filler_id=fid, text=f.text, link=f.link,
                            image=f.image if with_image else b"",
                            content_type=f.content_type, width=f.width, height=f.height)


def purchase_of(fill: types_pb2.FilledSlot) -> Purchase | None:
    """The purchase a finished slot records; None for a void."""
    if fill.void:
        return None
    return Purchase(fill.slot, fill.price, fill.bought_at_ms, fill.start_ms, fill.end_ms)


def campaign_of(snapshot: notify_pb2.CampaignSnapshot) -> Campaign:
    """The campaign a Watch snapshot describes (what a client needs to price it)."""
    s, last = snapshot, snapshot.curve.last
    return Campaign(s.campaign.owner_id, s.campaign.min_price, s.campaign.slot_seconds, s.head,
                    Purchase(last.slot, last.price, last.bought_at_ms, last.start_ms,
                             last.end_ms) if s.curve.HasField("last") else None,
                    ad_width=s.campaign.ad_width, ad_height=s.campaign.ad_height)
