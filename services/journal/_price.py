"""The original's price rule: double the last price, falling linearly to the minimum when the
last slot ends. Integer arithmetic, rounded up."""

from __future__ import annotations

from ._documents import Campaign


def price_at(campaign: Campaign, now: int) -> int:
    """The price of the next slot at ``now`` (ms)."""
    last = campaign.last
    if last is None or now >= last.end:
        return campaign.min_price
    top = 2 * last.price
    if now <= last.bought_at or last.end <= last.bought_at:
        return max(top, campaign.min_price)
    fallen = (top - campaign.min_price) * (now - last.bought_at) // (last.end - last.bought_at)
    return max(top - fallen, campaign.min_price)


def slot_window(campaign: Campaign, now: int) -> tuple[int, int]:
    """Start and end (ms) of a slot bought at ``now``: it starts when the last one ends."""
    start = now if campaign.last is None else max(now, campaign.last.end)
    return start, start + campaign.slot_seconds * 1000
