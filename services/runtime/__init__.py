"""What every Abc process needs: gRPC server bootstrap with auth, health and reflection; the
NATS link; logging; the test-only fault switch. Thin on purpose."""

from ._auth import AuthInterceptor, Role, TokenError, Tokens, bearer
from ._current import current_span
from ._durations import Durations
from ._faults import ENV as FAULT_ENV
from ._faults import EXIT_CODE as FAULT_EXIT_CODE
from ._faults import FaultConfigError, fault_switch
from ._logging import setup_logging
from ._nats import NatsLink
from ._server import Served, ServerConfig, ServerConfigError, is_loopback, serve
from ._settings import (
    ALLOW_PLAINTEXT,
    LOG_LEVEL,
    NATS_URL,
    NOTIFY_LISTEN,
    PAYOUT_SETTINGS,
    PURCHASE_LISTEN,
    STORE_URL,
    TLS_CERT,
    TLS_KEY,
    TOKENS,
    TOKENS_FILE,
    ConfigError,
    Environ,
    Setting,
    listen_setting,
    overlaid,
)
from ._signals import stop_on_signals
from ._telemetry import Telemetry, current_carrier, setup_telemetry
from ._traced_store import TracedStore
from ._tracing_grpc import ClientTracing, ServerTracing
from ._w3c import context_of, current_context_carrier, span_context_of

__all__ = [
    "ALLOW_PLAINTEXT",
    "FAULT_ENV",
    "FAULT_EXIT_CODE",
    "LOG_LEVEL",
    "NATS_URL",
    "NOTIFY_LISTEN",
    "PAYOUT_SETTINGS",
    "PURCHASE_LISTEN",
    "STORE_URL",
    "TLS_CERT",
    "TLS_KEY",
    "TOKENS",
    "TOKENS_FILE",
    "AuthInterceptor",
    "ClientTracing",
    "ConfigError",
    "Durations",
    "Environ",
    "FaultConfigError",
    "NatsLink",
    "Role",
    "Served",
    "ServerConfig",
    "ServerConfigError",
    "ServerTracing",
    "Setting",
    "Telemetry",
    "TokenError",
    "Tokens",
    "TracedStore",
    "bearer",
    "context_of",
    "current_carrier",
    "current_context_carrier",
    "current_span",
    "fault_switch",
    "is_loopback",
    "listen_setting",
    "overlaid",
    "serve",
    "setup_logging",
    "setup_telemetry",
    "span_context_of",
    "stop_on_signals",
]
