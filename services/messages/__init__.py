"""Journal values as the API's messages and back: what the purchase and notify services
serve, what fill events carry, and what a client (``abc watch``, the demo) reads back; and
refusals as the rich status every service answers with (``_refusals.py``)."""

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
from ._refusals import DOMAIN, Refusal, abort, exists, invalid, missing, store_failed

__all__ = [
    "DOMAIN",
    "Refusal",
    "abort",
    "campaign_message",
    "campaign_of",
    "exists",
    "fill_event",
    "filled_slot",
    "filler_message",
    "invalid",
    "missing",
    "price_curve",
    "purchase_message",
    "purchase_of",
    "store_failed",
]
