"""Journal values to the purchase API's messages."""

from __future__ import annotations

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import types_pb2
from services.events import filled_slot
from services.journal import Campaign, Purchase, Showing, User

RESOLUTIONS = {
    "clean": pb.LoginResponse.CLEAN,
    "rolled_forward": pb.LoginResponse.ROLLED_FORWARD,
    "rolled_back": pb.LoginResponse.ROLLED_BACK,
    "resolved_elsewhere": pb.LoginResponse.RESOLVED_ELSEWHERE,
    "in_doubt": pb.LoginResponse.STILL_IN_DOUBT,
}


def account(uid: str, user: User) -> pb.Account:
    return pb.Account(user_id=uid, balance=user.balance, locked=user.lock is not None)


def campaign(cid: str, c: Campaign) -> pb.Campaign:
    return pb.Campaign(campaign_id=cid, owner_id=c.owner, min_price=c.min_price,
                       slot_seconds=c.slot_seconds)


def purchase(p: Purchase) -> types_pb2.Purchase:
    return types_pb2.Purchase(slot=p.slot, price=p.price, bought_at_ms=p.bought_at,
                              start_ms=p.start, end_ms=p.end)


def curve(c: Campaign) -> types_pb2.PriceCurve:
    message = types_pb2.PriceCurve(min_price=c.min_price)
    if c.last is not None:
        message.last.CopyFrom(purchase(c.last))
    return message


def filler(uid: str, fid: str, value: dict[str, str]) -> types_pb2.Filler:
    return types_pb2.Filler(user_id=uid, filler_id=fid, text=value["text"], link=value["link"],
                            image_base64=value["image"])


def showing_parts(
    cid: str, show: Showing | None
) -> tuple[types_pb2.FilledSlot | None, types_pb2.Filler | None]:
    if show is None:
        return None, None
    slot = filled_slot(cid, show.slot, show.fill)
    if show.filler is None or show.fill.filler is None:
        return slot, None
    return slot, filler(show.fill.buyer, show.fill.filler, show.filler)
