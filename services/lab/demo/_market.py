"""What the buyers know of prices: each campaign as the watcher last saw it, and the moment its
price falls within the buyers' ``max_price``. Between two purchases the price only falls, so
that moment is exact until the next fill: buyers sleep until it and then ask all at once,
which is where lost races come from."""

from __future__ import annotations

from collections.abc import Iterable

from services.api.abc.v1 import types_pb2
from services.journal import Campaign, price_at
from services.messages import purchase_of

NEVER = 2**62


def affordable_at(campaign: Campaign, max_price: int) -> int:
    """The first millisecond at which the price is at most ``max_price`` (0: any time)."""
    if campaign.min_price > max_price:
        return NEVER
    last = campaign.last
    if last is None or price_at(campaign, last.bought_at) <= max_price:
        return 0
    low, high = last.bought_at, last.end  # the price falls monotonically to min at last.end
    while low < high:
        mid = (low + high) // 2
        if price_at(campaign, mid) <= max_price:
            high = mid
        else:
            low = mid + 1
    return low


class PriceBoard:
    def __init__(self, max_price: int) -> None:
        self.max_price = max_price
        self._campaigns: dict[str, Campaign] = {}
        self._affordable_at: dict[str, int] = {}
        self._held_until: dict[str, int] = {}

    def show(self, cid: str, campaign: Campaign) -> None:
        self._campaigns[cid] = campaign
        self._affordable_at[cid] = affordable_at(campaign, self.max_price)
        self._held_until.pop(cid, None)

    def fill(self, fill: types_pb2.FilledSlot) -> None:
        """A finished slot (one the board has not seen: replays of older ones are ignored)."""
        campaign = self._campaigns.get(fill.campaign_id)
        if campaign is None or fill.slot <= campaign.head:
            return
        self.show(fill.campaign_id, campaign.advanced(fill.slot, purchase_of(fill)))

    def head(self, cid: str) -> int:
        """The last finished slot of ``cid`` the board knows of."""
        campaign = self._campaigns.get(cid)
        return 0 if campaign is None else campaign.head

    def hold(self, cid: str, until_ms: int) -> None:
        """A Buy of ``cid`` was refused: its price has changed (or may have), so
        leave it alone until the fill arrives, or ``until_ms``."""
        self._held_until[cid] = until_ms

    def affordable(self, now_ms: int) -> list[str]:
        return [cid for cid, at in self._affordable_at.items()
                if at <= now_ms and self._held_until.get(cid, 0) <= now_ms]

    def next_affordable(self, now_ms: int) -> int | None:
        """The earliest moment after ``now_ms`` at which some campaign becomes affordable."""
        later = [max(at, self._held_until.get(cid, 0))
                 for cid, at in self._affordable_at.items()]
        return min((at for at in later if now_ms < at < NEVER), default=None)

    def soonest(self, campaigns: Iterable[str], now_ms: int) -> tuple[str, int] | None:
        """Of ``campaigns``, the one whose price falls within the max price next (the moment
        its buyers will ask), if any is still to come."""
        upcoming = [(at, cid) for cid in campaigns
                    if now_ms < (at := self._affordable_at.get(cid, NEVER)) < NEVER]
        return None if not upcoming else min(upcoming)[::-1]
