"""What every running service has: its gRPC server over its wiring; and the order they are
stopped in (calls drained first, the store closed last)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc

from services.runtime import Served, ServerConfig, serve

from ._wiring import Wiring


@dataclass
class ServiceNode:
    served: Served
    wiring: Wiring

    @property
    def port(self) -> int:
        return self.served.port

    async def stop(self, grace_s: float = 5.0) -> None:
        """Drain calls in flight (up to ``grace_s``), stop the service's own parts, then
        the wiring (publisher, NATS, store)."""
        await self.served.stop(grace_s)
        await self.stop_parts()
        await self.wiring.stop()

    async def stop_parts(self) -> None:
        """What a service runs besides its server (a tick loop, the hub); overridden."""


async def serve_wired(
    wiring: Wiring, config: ServerConfig, service_names: Iterable[str],
    register: Callable[[grpc.aio.Server], None], operator_only: frozenset[str] = frozenset(),
) -> Served:
    """``serve``, stopping ``wiring`` if the server can't start (bad config, address in use);
    the wiring is started once the server is."""
    try:
        served = await serve(config, service_names, register, operator_only)
    except BaseException:
        await wiring.stop()
        raise
    wiring.start()
    return served
