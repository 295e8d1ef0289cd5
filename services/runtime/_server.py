"""A gRPC server as every Abc service runs one: auth, health, reflection, TLS, the keepalive
policy, and the refusal to serve a non-loopback address without tokens."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from services.api.source_info import SOURCE_CODE_INFO

from ._auth import AuthInterceptor, Tokens
from ._reflection import enable_reflection
from ._settings import (
    ALLOW_PLAINTEXT,
    TLS_CERT,
    TLS_KEY,
    TOKENS,
    TOKENS_FILE,
    ConfigError,
    Environ,
    listen_setting,
)
from ._tracing_grpc import ServerTracing

log = logging.getLogger("abc.server")


class ServerConfigError(ConfigError):
    """A server configuration we refuse to start with."""


@dataclass(frozen=True)
class ServerConfig:
    """Where and how a service listens.

    listen: "host:port"; port 0 picks a free one.
    tokens: bearer tokens; with none, only a loopback address is served (open, for development).
    tls_cert, tls_key: PEM files; required off loopback unless allow_plaintext.
    allow_plaintext: serve a non-loopback address without TLS (e.g. behind a mesh that
        encrypts); tokens are still required.
    """

    listen: str = "127.0.0.1:50051"
    tokens: Tokens = field(default_factory=lambda: Tokens({}))
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_plaintext: bool = False

    @classmethod
    def from_env(cls, service: str, listen: str, env: Environ) -> ServerConfig:
        """``service``'s server from ``ABC_<SERVICE>_LISTEN`` (default ``listen``), the tokens
        (``ABC_TOKENS``, ``ABC_TOKENS_FILE``) and TLS (``ABC_TLS_CERT``, ``ABC_TLS_KEY``,
        ``ABC_ALLOW_PLAINTEXT``)."""
        return cls(listen=listen_setting(service, listen).text(env),
                   tokens=Tokens.load(TOKENS.read(env), TOKENS_FILE.path(env)),
                   tls_cert=TLS_CERT.path(env), tls_key=TLS_KEY.path(env),
                   allow_plaintext=ALLOW_PLAINTEXT.flag(env))

    @property
    def loopback(self) -> bool:
        return is_loopback(self.listen)

    def check(self) -> None:
        if self.loopback:
            return
        if not self.tokens.by_token:
            raise ServerConfigError(
                f"refusing to serve {self.listen} without tokens: configure ABC_TOKENS "
                "(or --tokens-file), or bind to 127.0.0.1")
        if (self.tls_cert is None or self.tls_key is None) and not self.allow_plaintext:
            raise ServerConfigError(
                f"refusing to serve {self.listen} without TLS: give --tls-cert and --tls-key "
                "(or --allow-plaintext behind an encrypting proxy)")


def is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# gRPC core holds calls that no handler has taken yet, and cancels those beyond
# grpc.server.max_pending_requests (1,000 by default): gateways reconnecting to a restarted
# notify all at once, or a burst of Buy calls, would see CANCELLED. A pending call costs
# little memory; the limit stays, far above any burst we expect.
MAX_PENDING_CALLS = 20_000

# Keepalive. A gateway pings its connections to find dead backends; grpc core's default server
# policy takes a ping that comes less than 5 minutes after the previous one, while the server
# has sent nothing, as abuse, and the third such "strike" gets GOAWAY too_many_pings, which
# ends every call on the connection: a Watch on a quiet campaign, pinged every 10 s by a Go,
# Java or Envoy gateway, died after ~40 s. The policy below (README, "Keepalive"; the comment
# above each service in protos/) is what every Abc server runs.

# The least time between a client's pings, while the server sends nothing, that is not a
# strike. We recommend gateways ping every 10 s or more; every 2 s or slower is always welcome
# (twice this, for timer and network jitter), so clients tuned for fast failover are too. A
# ping and its ack are 17 bytes each: one a second per connection costs nothing, and a flood
# is still cut off.
KEEPALIVE_MIN_PING_INTERVAL_MS = 1_000
# Early pings (above) tolerated before GOAWAY too_many_pings. They add up until the server
# next sends something on the connection (for a quiet Watch, the next fill), so this absorbs
# occasional jitter, not a client that pings too fast all along.
KEEPALIVE_MAX_PING_STRIKES = 5
# Take pings by the rule above on a connection with no call in flight too (grpc core's default
# is one ping per 2 hours there), so a gateway's idle channel may be kept warm; and let the
# server's own keepalive pings (below) go out on idle connections.
KEEPALIVE_PERMIT_WITHOUT_CALLS = 1
# After this long without hearing from a client the server pings it itself (grpc core's
# default: 2 hours), so a gateway that vanished without closing its connection (a node gone,
# a NAT entry expired) is noticed and its Watch streams released within 80 s.
KEEPALIVE_TIME_MS = 60_000
# How long the server waits for the ack of its own ping before closing the connection.
KEEPALIVE_TIMEOUT_MS = 20_000

SERVER_OPTIONS: list[tuple[str, int]] = [
    ("grpc.server.max_pending_requests", MAX_PENDING_CALLS),
    ("grpc.server.max_pending_requests_hard_limit", 2 * MAX_PENDING_CALLS),
    ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MIN_PING_INTERVAL_MS),
    ("grpc.http2.max_ping_strikes", KEEPALIVE_MAX_PING_STRIKES),
    ("grpc.keepalive_permit_without_calls", KEEPALIVE_PERMIT_WITHOUT_CALLS),
    ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
    ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
]


@dataclass
class Served:
    server: grpc.aio.Server
    port: int
    health: HealthServicer

    async def stop(self, grace_s: float = 5.0) -> None:
        """Say NOT_SERVING, then let calls in flight finish for up to ``grace_s``."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace_s)


async def serve(
    config: ServerConfig, service_names: Iterable[str],
    register: Callable[[grpc.aio.Server], None], operator_only: frozenset[str] = frozenset(),
) -> Served:
    """Start a server with ``register``'s servicers plus health and reflection (v1 and
    v1alpha, serving the API's comments), under the keepalive policy above."""
    config.check()
    names = list(service_names)
    open_ = not config.tokens.by_token
    server = grpc.aio.server(options=SERVER_OPTIONS, interceptors=[
        ServerTracing(), AuthInterceptor(config.tokens, operator_only, open_)])
    register(server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    enable_reflection(server, [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name],
                      SOURCE_CODE_INFO)
    port = _bind(server, config)
    await server.start()
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    if open_:
        log.warning("serving %s OPEN: no tokens configured (loopback only, for development)",
                    config.listen)
    return Served(server, port, health)


def _bind(server: grpc.aio.Server, config: ServerConfig) -> int:
    credentials = None
    if config.tls_cert is not None and config.tls_key is not None:
        try:
            credentials = grpc.ssl_server_credentials(
                [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())])
        except OSError as exc:
            raise ServerConfigError(f"can't read TLS files: {exc}") from exc
    try:
        if credentials is not None:
            port = server.add_secure_port(config.listen, credentials)
        else:
            port = server.add_insecure_port(config.listen)
    except RuntimeError:  # grpcio raises where it used to return 0
        port = 0
    if port == 0:
        raise ServerConfigError(f"can't listen on {config.listen} (address in use?)")
    return port
