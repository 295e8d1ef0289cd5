"""Events on NATS: the subjects per campaign, the FillEvent message built from a finished
slot, and a best-effort publisher shared by every process that finishes slots (and by the
posse, for the heads it reads)."""

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
from ._publisher import EventPublisher
from ._subjects import FILL_WILDCARD, HEAD_WILDCARD, fill_subject, head_subject

__all__ = [
    "FILL_WILDCARD",
    "HEAD_WILDCARD",
    "EventPublisher",
    "campaign_message",
    "campaign_of",
    "fill_event",
    "fill_subject",
    "filled_slot",
    "filler_message",
    "head_subject",
    "price_curve",
    "purchase_message",
    "purchase_of",
]
