"""Events on NATS: the subjects per campaign and a best-effort publisher of fill and head
events, shared by every process that finishes slots (and by the posse, for the heads it
reads). The event messages themselves are ``abc.v1.FillEvent``/``HeadEvent`` (services.api);
they are built from journal values by services.messages."""

from ._publisher import EventPublisher
from ._subjects import FILL_WILDCARD, HEAD_WILDCARD, fill_subject, head_subject

__all__ = [
    "FILL_WILDCARD",
    "HEAD_WILDCARD",
    "EventPublisher",
    "fill_subject",
    "head_subject",
]
