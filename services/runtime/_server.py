"""A gRPC server as every Abc service runs one: auth, health, reflection, TLS, and the
refusal to serve a non-loopback address without tokens."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from ._auth import AuthInterceptor, Tokens
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
SERVER_OPTIONS = [("grpc.server.max_pending_requests", MAX_PENDING_CALLS),
                  ("grpc.server.max_pending_requests_hard_limit", 2 * MAX_PENDING_CALLS)]


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
    """Start a server with ``register``'s servicers plus health and reflection."""
    config.check()
    names = list(service_names)
    open_ = not config.tokens.by_token
    server = grpc.aio.server(options=SERVER_OPTIONS, interceptors=[
        ServerTracing(), AuthInterceptor(config.tokens, operator_only, open_)])
    register(server)
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
         reflection.SERVICE_NAME], server)
    port = _bind(server, config)
    await server.start()
    for name in ["", *names]:
        await health.set(name, health_pb2.HealthCheckResponse.SERVING)
    if open_:
        log.warning("serving %s OPEN: no tokens configured (loopback only, for development)",
                    config.listen)
    return Served(server, port, health)


def _bind(server: grpc.aio.Server, config: ServerConfig) -> int:
    if config.tls_cert is not None and config.tls_key is not None:
        try:
            credentials = grpc.ssl_server_credentials(
                [(config.tls_key.read_bytes(), config.tls_cert.read_bytes())])
        except OSError as exc:
            raise ServerConfigError(f"can't read TLS files: {exc}") from exc
        port = server.add_secure_port(config.listen, credentials)
    else:
        port = server.add_insecure_port(config.listen)
    if port == 0:
        raise ServerConfigError(f"can't listen on {config.listen} (address in use?)")
    return port
