"""Process wiring, above the journal, the runtime and events: the store opened and traced,
the journal's context with its hooks, NATS and the publisher, and a served node's shutdown
order. Purchase, notify and recovery all start from here."""

from ._node import ServiceNode, serve_wired
from ._policy import POLICY_SETTINGS, policy_from_env
from ._wiring import Wiring, wire

__all__ = ["POLICY_SETTINGS", "ServiceNode", "Wiring", "policy_from_env", "serve_wired", "wire"]
