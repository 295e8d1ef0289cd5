"""The recovery service process: one posse replica on a store, with its Status over gRPC,
publishing the fill event of every slot it finishes and the heads its checks see move, and
beside it this replica's payer, paying withdrawals out through the configured rail."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import grpc

from services.api.abc.v1 import recovery_pb2, recovery_pb2_grpc
from services.payouts import make_rail
from services.runtime import Telemetry
from services.wiring import ServiceNode, serve_wired, wire

from ._config import RecoveryConfig, RecoveryConfigError
from ._payer import Payer
from ._replica import Replica
from ._schedules import make_schedule
from ._servicer import RecoveryServicer

log = logging.getLogger("abc.recovery")

STOP_PAYER_S = 1.0
SERVICE_NAME = recovery_pb2.DESCRIPTOR.services_by_name["RecoveryService"].full_name


@dataclass
class RecoveryNode(ServiceNode):
    replica: Replica
    task: asyncio.Task[None]
    stopping: asyncio.Event
    payer: Payer
    payer_task: asyncio.Task[None]

    async def stop_parts(self) -> None:
        self.stopping.set()
        # A payer mid-call is cut off after a moment: its claim is re-driven, same key.
        _, pending = await asyncio.wait({self.payer_task}, timeout=STOP_PAYER_S)
        for task in pending:
            task.cancel()
        for task in (self.task, self.payer_task):
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def start_recovery(config: RecoveryConfig,
                         telemetry: Telemetry | None = None) -> RecoveryNode:
    try:
        schedule = make_schedule(config.schedule, config.ordinal, config.replicas)
    except ValueError as exc:
        raise RecoveryConfigError(str(exc)) from exc
    wiring = await wire("recovery", config.store_url, config.nats_url, telemetry, faults=True)
    replica = Replica(wiring.journal, schedule, config.ordinal, config.replicas,
                      tick_ms=config.tick_ms, on_head=wiring.publisher.submit_head,
                      credit_interval_ms=config.credit_interval_ms)
    payer = Payer(wiring.journal, make_rail(config.payout), config.ordinal, config.replicas,
                  lease_ms=config.payout.lease_ms, interval_ms=config.tick_ms)
    servicer = RecoveryServicer(replica)

    def register(server: grpc.aio.Server) -> None:
        recovery_pb2_grpc.add_RecoveryServiceServicer_to_server(servicer, server)

    served = await serve_wired(wiring, config.server, [SERVICE_NAME], register)
    stopping = asyncio.Event()
    task = asyncio.create_task(replica.run(stopping), name="posse")
    payer_task = asyncio.create_task(payer.run(stopping), name="payer")
    log.info("recovery replica %d of %d (%s) on port %d; payer %s on the %s rail",
             config.ordinal, config.replicas, schedule.name, served.port, payer.payer_id,
             payer.rail.name)
    return RecoveryNode(served, wiring, replica, task, stopping, payer, payer_task)
