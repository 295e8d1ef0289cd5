"""The recovery service process: one posse replica on a store, with its Status over gRPC,
publishing the fill event of every slot it finishes and the heads its checks see move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import grpc

from services.api.abc.v1 import recovery_pb2, recovery_pb2_grpc
from services.runtime import Telemetry
from services.wiring import ServiceNode, serve_wired, wire

from ._config import RecoveryConfig, RecoveryConfigError
from ._replica import Replica
from ._schedules import make_schedule
from ._servicer import RecoveryServicer

log = logging.getLogger("abc.recovery")

SERVICE_NAME = recovery_pb2.DESCRIPTOR.services_by_name["RecoveryService"].full_name


@dataclass
class RecoveryNode(ServiceNode):
    replica: Replica
    task: asyncio.Task[None]
    stopping: asyncio.Event

    async def stop_parts(self) -> None:
        self.stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def start_recovery(config: RecoveryConfig,
                         telemetry: Telemetry | None = None) -> RecoveryNode:
    try:
        schedule = make_schedule(config.schedule, config.ordinal, config.replicas)
    except ValueError as exc:
        raise RecoveryConfigError(str(exc)) from exc
    wiring = await wire("recovery", config.store_url, config.nats_url, telemetry)
    replica = Replica(wiring.journal, schedule, config.ordinal, config.replicas,
                      tick_ms=config.tick_ms, on_head=wiring.publisher.submit_head)
    servicer = RecoveryServicer(replica)

    def register(server: grpc.aio.Server) -> None:
        recovery_pb2_grpc.add_RecoveryServiceServicer_to_server(servicer, server)

    served = await serve_wired(wiring, config.server, [SERVICE_NAME], register)
    stopping = asyncio.Event()
    task = asyncio.create_task(replica.run(stopping), name="posse")
    log.info("recovery replica %d of %d (%s) on port %d", config.ordinal, config.replicas,
             schedule.name, served.port)
    return RecoveryNode(served, wiring, replica, task, stopping)
