"""Process wiring, above the journal, the runtime and events: the store opened and traced,
the journal's context with its hooks, NATS and the publisher, and a served node's shutdown
order. Purchase, notify and recovery all start from here."""

from ._node import ServiceNode, serve_wired
from ._wiring import Wiring, wire

__all__ = ["ServiceNode", "Wiring", "serve_wired", "wire"]
