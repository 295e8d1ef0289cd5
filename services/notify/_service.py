"""The notify service process: the hub on a store and NATS, served over gRPC."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import grpc

from services.api.abc.v1 import notify_pb2
from services.runtime import (
    NATS_URL,
    NOTIFY_LISTEN,
    STORE_URL,
    Environ,
    ServerConfig,
    Telemetry,
)
from services.store import DocumentStore
from services.wiring import ServiceNode, serve_wired, wire

from ._hub import Hub
from ._servicer import NotifyServicer, handlers

log = logging.getLogger("abc.notify")

SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name


@dataclass(frozen=True)
class NotifyConfig:
    """store_url: where to read campaigns; nats_url: fill events (None: poll only)."""

    store_url: str
    nats_url: str | None = None
    server: ServerConfig = field(default_factory=lambda: ServerConfig(listen=NOTIFY_LISTEN))
    poll_ms: int = 100
    safety_ms: int = 5000

    @classmethod
    def from_env(cls, env: Environ = os.environ) -> NotifyConfig:
        """From ``ABC_STORE_URL``, ``ABC_NATS_URL`` and the server's settings
        (``ABC_NOTIFY_LISTEN``, tokens, TLS)."""
        return cls(STORE_URL.text(env), NATS_URL.read(env),
                   ServerConfig.from_env("notify", NOTIFY_LISTEN, env))


@dataclass
class NotifyNode(ServiceNode):
    hub: Hub

    async def stop_parts(self) -> None:
        await self.hub.stop()


async def start_notify(config: NotifyConfig, store: DocumentStore | None = None,
                       telemetry: Telemetry | None = None) -> NotifyNode:
    """Serve Watch and GetCampaign; ``store`` overrides ``config.store_url`` (tests count
    reads through a wrapper)."""
    wiring = await wire("notify", store if store is not None else config.store_url,
                        config.nats_url, telemetry)
    hub = Hub(wiring.store, wiring.link, wiring.journal.now, config.poll_ms, config.safety_ms)
    servicer = NotifyServicer(hub)

    def register(server: grpc.aio.Server) -> None:
        methods = handlers(servicer)
        server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler(SERVICE_NAME, methods),))
        server.add_registered_method_handlers(SERVICE_NAME, methods)  # type: ignore[attr-defined]

    served = await serve_wired(wiring, config.server, [SERVICE_NAME], register)
    if wiring.link is None:
        log.warning("no NATS URL: polling the store for every watched campaign")
    hub.start()
    log.info("notify service on port %d", served.port)
    return NotifyNode(served, wiring, hub)
