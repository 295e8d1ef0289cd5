"""The purchase service process: the journal on a store, served over gRPC, publishing a fill
event on NATS for every slot it finishes."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import grpc

from services.api.abc.v1 import purchase_pb2, purchase_pb2_grpc
from services.events import EventPublisher
from services.journal import Journal, Runtime
from services.runtime import (
    NatsLink,
    ServerConfig,
    ServiceNode,
    Telemetry,
    fault_switch,
    serve_store,
)
from services.store import open_store

from ._servicer import PurchaseServicer

log = logging.getLogger("abc.purchase")

SERVICE_NAME = purchase_pb2.DESCRIPTOR.services_by_name["PurchaseService"].full_name
OPERATOR_ONLY = frozenset({f"/{SERVICE_NAME}/Deposit"})


@dataclass(frozen=True)
class PurchaseConfig:
    """store_url: the document store; nats_url: where fill events go (None: nowhere)."""

    store_url: str
    nats_url: str | None = None
    server: ServerConfig = field(default_factory=ServerConfig)


@dataclass
class PurchaseNode(ServiceNode):
    """A running purchase service; ``port`` is the one it listens on."""

    publisher: EventPublisher

    async def stop_parts(self) -> None:
        await self.publisher.stop()


async def start_purchase(config: PurchaseConfig,
                         telemetry: Telemetry | None = None) -> PurchaseNode:
    """Open the store, connect NATS in the background, and serve."""
    exit_after = fault_switch()  # before opening anything: a bad setting fails cleanly
    store = await open_store(config.store_url)
    link = NatsLink(config.nats_url) if config.nats_url else None
    runtime = Runtime()
    publisher = EventPublisher(link, "purchase", runtime.clock)
    runtime = dataclasses.replace(runtime, on_finished=publisher.submit)
    if exit_after is not None:
        runtime = dataclasses.replace(runtime, on_step=exit_after)
    journal_store = store
    if telemetry is not None:
        journal_store, runtime = telemetry.instrument(store, runtime)
    servicer = PurchaseServicer(Journal(journal_store, runtime))

    def register(server: grpc.aio.Server) -> None:
        purchase_pb2_grpc.add_PurchaseServiceServicer_to_server(servicer, server)

    served = await serve_store(store, config.server, [SERVICE_NAME], register, OPERATOR_ONLY)
    if link is not None:
        link.start()
    else:
        log.warning("no NATS URL: fill events are not published (watchers poll the store)")
    publisher.start()
    log.info("purchase service on port %d, store %s", served.port, _redacted(config.store_url))
    return PurchaseNode(served, store, link, publisher)


def _redacted(url: str) -> str:
    """A store URL fit for a log: no credentials."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}"
