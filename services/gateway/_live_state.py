"""One watched campaign as this gateway knows it from its notify Watch: the campaign, its head,
its price curve, the slot showing and a ring of recent fills (each with its ad and the SSE frame
it was sent as), and the JSON every live view is built from.

Everything a browser or a publisher gets is data, never HTML: an ad's text as text, its link
only when it is http(s) (else ""), its image as a URL on this gateway. The price follows
types.proto's PriceCurve rule, in integers (``price_at``)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from services.api.abc.v1 import notify_pb2, types_pb2

from ._ads import IMAGE_TYPES, safe_href
from ._sse import Frame, event_frame

RING = 128  # recent fills kept per campaign: what a reconnecting browser can be replayed


def image_url(cid: str, slot: int) -> str:
    """Where this gateway serves the image of ``cid``'s slot ``slot``."""
    return f"/api/v1/campaigns/{quote(cid, safe='')}/ad/image?slot={slot}"


@dataclass(frozen=True, slots=True)
class AdView:
    """A slot's ad as the live views show it."""

    text: str
    link: str  # http(s) with a host, or "" whatever the store holds
    image_url: str  # on this gateway, or "" for a text-only ad
    width: int
    height: int

    @property
    def href(self) -> str | None:
        """The link to follow (templates/_ads.html's ``ad_card`` reads it)."""
        return self.link or None

    def json(self) -> dict[str, Any]:
        return {"text": self.text, "link": self.link, "image_url": self.image_url,
                "width": self.width, "height": self.height}


def ad_view(fill: types_pb2.FilledSlot, filler: types_pb2.Filler) -> AdView:
    shown = filler.image and filler.content_type in IMAGE_TYPES  # as purchase checked it
    image = image_url(fill.campaign_id, fill.slot) if shown else ""
    return AdView(filler.text, safe_href(filler.link) or "", image, filler.width,
                  filler.height)


@dataclass(frozen=True, slots=True)
class SlotView:
    """A finished slot with its ad (None: a void, no filler, or one that could not be read)."""

    fill: types_pb2.FilledSlot
    ad: AdView | None

    def json(self) -> dict[str, Any]:
        f = self.fill
        return {"campaign_id": f.campaign_id, "slot": f.slot, "void": f.void,
                "buyer_id": f.buyer_id, "filler_id": f.filler_id, "price": f.price,
                "bought_at_ms": f.bought_at_ms,
                "start_ms": f.start_ms, "end_ms": f.end_ms,
                "filler": None if self.ad is None else self.ad.json()}


def price_at(curve: types_pb2.PriceCurve, now_ms: int) -> int:
    """The next slot's price at ``now_ms`` (types.proto PriceCurve): ``min_price`` with no last
    purchase or once it ended; before that the straight line from twice its price down to
    ``min_price``, rounded up."""
    floor = curve.min_price
    if not curve.HasField("last") or now_ms >= curve.last.end_ms:
        return floor
    last = curve.last
    top = 2 * last.price
    if now_ms <= last.bought_at_ms or last.end_ms <= last.bought_at_ms:
        return max(top, floor)
    fallen = (top - floor) * (now_ms - last.bought_at_ms) // (last.end_ms - last.bought_at_ms)
    return max(top - fallen, floor)


def curve_json(curve: types_pb2.PriceCurve) -> dict[str, Any]:
    last = curve.last if curve.HasField("last") else None
    return {"min_price": curve.min_price, "last": None if last is None else {
        "price": last.price, "bought_at_ms": last.bought_at_ms, "end_ms": last.end_ms}}


class CampaignState:
    """Built from a Watch's first snapshot (with the showing slot's ad), then advanced by each
    fill in slot order."""

    def __init__(self, snapshot: notify_pb2.CampaignSnapshot, showing: SlotView | None,
                 ring: int = RING) -> None:
        self.campaign = snapshot.campaign
        self.head = snapshot.head
        self.curve = types_pb2.PriceCurve()
        self.curve.CopyFrom(snapshot.curve)
        self.current = showing  # showing when the snapshot was taken
        self.recent: deque[tuple[SlotView, Frame]] = deque(maxlen=ring)

    @property
    def cid(self) -> str:
        return self.campaign.campaign_id

    def advance(self, view: SlotView, sent_at_ms: int, now_ms: int) -> Frame:
        """Apply the fill of slot ``view.fill.slot`` (head + 1, or beyond after a gap, which
        empties the ring: it must stay contiguous); its fill frame."""
        fill = view.fill
        if fill.slot != self.head + 1:
            self.recent.clear()
        self.head = fill.slot
        if not fill.void:
            self.curve.last.CopyFrom(types_pb2.Purchase(
                slot=fill.slot, price=fill.price, bought_at_ms=fill.bought_at_ms,
                start_ms=fill.start_ms, end_ms=fill.end_ms))
        data = {**view.json(), "curve": curve_json(self.curve),
                "current_price": price_at(self.curve, now_ms), "as_of_ms": now_ms}
        frame = event_frame("fill", fill.slot, data,
                            sent_at_ms if fill.void else fill.bought_at_ms)
        self.recent.append((view, frame))
        return frame

    def showing(self, now_ms: int) -> SlotView | None:
        """The slot whose time covers ``now_ms``, if this gateway knows it."""
        for view, _ in reversed(self.recent):
            if view.fill.void:
                continue
            if view.fill.end_ms <= now_ms:
                return None
            if view.fill.start_ms <= now_ms:
                return view
        current = self.current
        if current is not None and current.fill.start_ms <= now_ms < current.fill.end_ms:
            return current
        return None

    def upcoming(self, now_ms: int) -> list[SlotView]:
        """Slots bought and not begun yet, in order."""
        return [view for view, _ in self.recent
                if not view.fill.void and view.fill.start_ms > now_ms]

    def slot(self, n: int) -> SlotView | None:
        """Slot ``n`` if it is showing when the snapshot came or among the recent fills."""
        for view, _ in reversed(self.recent):
            if view.fill.slot == n:
                return view
        return self.current if self.current is not None and self.current.fill.slot == n \
            else None

    def missed_since(self, after: int) -> list[Frame] | None:
        """The fill frames after slot ``after`` up to head; None if the ring does not reach
        back that far."""
        if after >= self.head:
            return []
        missed = [(view, frame) for view, frame in self.recent if view.fill.slot > after]
        if missed and missed[0][0].fill.slot == after + 1:
            return [frame for _, frame in missed]
        return None

    def snapshot_frame(self, now_ms: int) -> Frame:
        """The campaign as it is now: what a new browser starts from."""
        showing = self.showing(now_ms)
        c = self.campaign
        data = {"campaign_id": c.campaign_id, "head": self.head, "min_price": c.min_price,
                "slot_seconds": c.slot_seconds, "ad_width": c.ad_width,
                "ad_height": c.ad_height, "curve": curve_json(self.curve),
                "current_price": price_at(self.curve, now_ms), "as_of_ms": now_ms,
                "current": None if showing is None else showing.json(),
                "upcoming": [view.json() for view in self.upcoming(now_ms)]}
        return event_frame("snapshot", self.head, data)
