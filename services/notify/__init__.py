"""The notify service: fills pushed to gateways over gRPC streams, from NATS events, with
the store polled only as the fallback."""

from ._feed import Feed
from ._hub import HEAD_GRACE_MS, Hub
from ._service import SERVICE_NAME, NotifyConfig, NotifyNode, start_notify
from ._servicer import MAX_CAMPAIGNS, NotifyServicer
from ._watcher import FellBehind, Watcher

__all__ = [
    "HEAD_GRACE_MS",
    "MAX_CAMPAIGNS",
    "SERVICE_NAME",
    "Feed",
    "FellBehind",
    "Hub",
    "NotifyConfig",
    "NotifyNode",
    "NotifyServicer",
    "Watcher",
    "start_notify",
]
