"""A test server that speaks Couchbase's KV protocol (see README.md)."""

from .config import ConfigVariant
from .faults import Faults, Rule
from .server import WireServer, WriteSeen

__all__ = ["ConfigVariant", "Faults", "Rule", "WireServer", "WriteSeen"]
