"""The purchase service: the journal served over gRPC, publishing fill events on NATS."""

from ._service import (
    OPERATOR_ONLY,
    SERVICE_NAME,
    PurchaseConfig,
    PurchaseNode,
    purchase_event_loop,
    start_purchase,
)
from ._servicer import PurchaseServicer

__all__ = [
    "OPERATOR_ONLY",
    "SERVICE_NAME",
    "PurchaseConfig",
    "PurchaseNode",
    "PurchaseServicer",
    "purchase_event_loop",
    "start_purchase",
]
