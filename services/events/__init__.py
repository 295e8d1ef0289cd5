"""Fill events: the NATS subject per campaign, the FillEvent message built from a finished
slot, and a best-effort publisher shared by every process that finishes slots."""

from ._convert import fill_event, filled_slot
from ._publisher import FillPublisher
from ._subjects import FILL_WILDCARD, fill_subject

__all__ = ["FILL_WILDCARD", "FillPublisher", "fill_event", "fill_subject", "filled_slot"]
