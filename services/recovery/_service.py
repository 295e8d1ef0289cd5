"""The recovery service process: one posse replica on a store, with its Status over gRPC,
publishing the fill event of every slot it finishes and the heads its checks see move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from dataclasses import dataclass, field

import grpc

from services.api.abc.v1 import recovery_pb2, recovery_pb2_grpc
from services.runtime import ServerConfig, Telemetry
from services.wiring import ServiceNode, serve_wired, wire

from ._replica import Replica
from ._schedules import make_schedule
from ._servicer import RecoveryServicer

log = logging.getLogger("abc.recovery")

SERVICE_NAME = recovery_pb2.DESCRIPTOR.services_by_name["RecoveryService"].full_name
_ORDINAL_SUFFIX = re.compile(r"-(\d+)$")
RECOVERY_PORT_BASE = 50060  # replica i listens on this + i (abc up, abc recovery status)


def recovery_listen(ordinal: int, base: int = RECOVERY_PORT_BASE) -> str:
    """Where replica ``ordinal`` listens on this machine by default."""
    return f"127.0.0.1:{base + ordinal}"


class RecoveryConfigError(ValueError):
    pass


def ordinal_from_hostname(hostname: str | None = None) -> int | None:
    """The trailing ``-<i>`` of a StatefulSet pod's hostname (``abc-recovery-2`` -> 2)."""
    found = _ORDINAL_SUFFIX.search(hostname if hostname is not None else socket.gethostname())
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class RecoveryConfig:
    """ordinal: this replica, from 0; replicas: N; schedule: a name from SCHEDULES."""

    store_url: str
    ordinal: int
    replicas: int
    schedule: str = "ordinal-shard"
    nats_url: str | None = None
    server: ServerConfig = field(default_factory=lambda: ServerConfig(listen="127.0.0.1:50060"))
    tick_ms: int = 1000  # PROTOCOL.md's second; shorter trades store reads for faster repair

    def __post_init__(self) -> None:
        if not 50 <= self.tick_ms <= 10_000:
            raise RecoveryConfigError(f"tick {self.tick_ms} ms: want 50 to 10000")
        if self.replicas < 1 or not 0 <= self.ordinal < self.replicas:
            raise RecoveryConfigError(
                f"ordinal {self.ordinal} of {self.replicas} replicas: want 0 <= ordinal < "
                "replicas (set --ordinal/ABC_RECOVERY_ORDINAL and --replicas)")


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
