"""The purchase service process: the journal on a store, served over gRPC, publishing a fill
event on NATS for every slot it finishes."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from services.api.abc.v1 import purchase_pb2, purchase_pb2_grpc
from services.runtime import (
    NATS_URL,
    PURCHASE_LISTEN,
    STORE_URL,
    Environ,
    ServerConfig,
    Telemetry,
)
from services.wiring import ServiceNode, serve_wired, wire

from ._servicer import PurchaseServicer

log = logging.getLogger("abc.purchase")

SERVICE_NAME = purchase_pb2.DESCRIPTOR.services_by_name["PurchaseService"].full_name
OPERATOR_ONLY = frozenset(f"/{SERVICE_NAME}/{method}" for method in (
    "Deposit", "ListPayouts", "MarkPaid", "Reject", "Retry", "GetLedger", "ResetPassword"))
"""The methods only an operator token may call: minting money, moving payouts, and setting a
password without the old one."""


@dataclass(frozen=True)
class PurchaseConfig:
    """store_url: the document store; nats_url: where fill events go (None: nowhere)."""

    store_url: str
    nats_url: str | None = None
    server: ServerConfig = field(default_factory=lambda: ServerConfig(listen=PURCHASE_LISTEN))

    @classmethod
    def from_env(cls, env: Environ = os.environ) -> PurchaseConfig:
        """From ``ABC_STORE_URL``, ``ABC_NATS_URL`` and the server's settings
        (``ABC_PURCHASE_LISTEN``, tokens, TLS)."""
        return cls(STORE_URL.text(env), NATS_URL.read(env),
                   ServerConfig.from_env("purchase", PURCHASE_LISTEN, env))


@dataclass
class PurchaseNode(ServiceNode):
    """A running purchase service; ``port`` is the one it listens on."""


async def start_purchase(config: PurchaseConfig,
                         telemetry: Telemetry | None = None) -> PurchaseNode:
    """Open the store, connect NATS in the background, and serve."""
    wiring = await wire("purchase", config.store_url, config.nats_url, telemetry, faults=True)
    servicer = PurchaseServicer(wiring.journal)

    def register(server: grpc.aio.Server) -> None:
        purchase_pb2_grpc.add_PurchaseServiceServicer_to_server(servicer, server)

    served = await serve_wired(wiring, config.server, [SERVICE_NAME], register, OPERATOR_ONLY)
    if wiring.link is None:
        log.warning("no NATS URL: fill events are not published (watchers poll the store)")
    log.info("purchase service on port %d, store %s, event loop %s", served.port,
             _redacted(config.store_url), type(asyncio.get_running_loop()).__module__)
    return PurchaseNode(served, wiring)


def purchase_event_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a purchase process runs on: uvloop's when it is installed (a
    dependency; grpc.aio serves on it, and a gRPC call costs ~12% less CPU there than on
    asyncio's own loop), else None: asyncio's."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _redacted(url: str) -> str:
    """A store URL fit for a log: no credentials."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}"
