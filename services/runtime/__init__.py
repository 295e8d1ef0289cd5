"""What every Abc process needs: gRPC server bootstrap with auth, health and reflection; the
NATS link; logging; the test-only fault switch. Thin on purpose."""

from ._auth import AuthInterceptor, Role, TokenError, Tokens, bearer
from ._faults import ENV as FAULT_ENV
from ._faults import EXIT_CODE as FAULT_EXIT_CODE
from ._faults import FaultConfigError, fault_switch
from ._logging import setup_logging
from ._nats import NatsLink
from ._server import Served, ServerConfig, ServerConfigError, is_loopback, serve
from ._signals import stop_on_signals
from ._telemetry import Telemetry, current_carrier, setup_telemetry, span_context_of
from ._traced_store import TracedStore
from ._tracing_grpc import ClientTracing, ServerTracing

__all__ = [
    "FAULT_ENV",
    "FAULT_EXIT_CODE",
    "AuthInterceptor",
    "ClientTracing",
    "FaultConfigError",
    "NatsLink",
    "Role",
    "Served",
    "ServerConfig",
    "ServerConfigError",
    "ServerTracing",
    "Telemetry",
    "TokenError",
    "Tokens",
    "TracedStore",
    "bearer",
    "current_carrier",
    "fault_switch",
    "is_loopback",
    "serve",
    "setup_logging",
    "setup_telemetry",
    "span_context_of",
    "stop_on_signals",
]
