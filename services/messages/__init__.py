"""Journal values as the API's messages and back: what the purchase and notify services
serve, what fill events carry, and what a client (``abc watch``, the demo) reads back."""

from ._convert import (
    campaign_message,
    campaign_of,
    fill_event,
    filled_slot,
    filler_message,
    price_curve,
    purchase_message,
    purchase_of,
)

__all__ = [
    "campaign_message",
    "campaign_of",
    "fill_event",
    "filled_slot",
    "filler_message",
    "price_curve",
    "purchase_message",
    "purchase_of",
]
