"""What every running service has: its gRPC server, its store, maybe a NATS link; and the
order they are stopped in (calls drained first, the store closed last)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc

from services.store import DocumentStore

from ._nats import NatsLink
from ._server import Served, ServerConfig, serve


@dataclass
class ServiceNode:
    served: Served
    store: DocumentStore
    link: NatsLink | None

    @property
    def port(self) -> int:
        return self.served.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Drain calls in flight (up to ``grace_s``), stop the service's own parts, then
        NATS and the store."""
        await self.served.stop(grace_s)
        await self.stop_parts()
        if self.link is not None:
            await self.link.close()
        await self.store.close()

    async def stop_parts(self) -> None:
        """What a service runs besides its server (a publisher, a tick loop); overridden."""


async def serve_store(
    store: DocumentStore, config: ServerConfig, service_names: Iterable[str],
    register: Callable[[grpc.aio.Server], None], operator_only: frozenset[str] = frozenset(),
) -> Served:
    """``serve``, closing ``store`` if the server can't start (bad config, address in use)."""
    try:
        return await serve(config, service_names, register, operator_only)
    except BaseException:
        await store.close()
        raise
