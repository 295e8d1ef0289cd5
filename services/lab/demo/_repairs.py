"""The posse's repairs, as RecoveryService.Status reports them, polled from every replica.

A replica's counters start from zero when it restarts (a new ``started_at_ms``), so each
incarnation's last count is banked before the next one's is read; a repair made by a replica
that was killed before the next poll is not counted. Delays come from the replicas' recent
repairs (each seen once)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import grpc

from services.api.abc.v1 import recovery_pb2, recovery_pb2_grpc

from ._pool import open_channel

if TYPE_CHECKING:
    from services.api.abc.v1.recovery_pb2_grpc import RecoveryServiceAsyncStub as Stub

POLL_S = 0.5
TIMEOUT_S = 1.0


class RepairTally:
    def __init__(self, targets: Sequence[str]) -> None:
        self.targets = tuple(targets)
        self.delays_ms: list[int] = []  # of repaired purchases (voids have none)
        self.voids = 0
        self._banked = 0  # repairs of replicas' earlier incarnations
        self._current: dict[str, tuple[int, int]] = {}  # target -> (started_at_ms, repairs)
        self._seen: set[tuple[str, int, str, int, int]] = set()

    @property
    def repairs(self) -> int:
        return self._banked + sum(repairs for _, repairs in self._current.values())

    async def run(self) -> None:
        """Poll until cancelled."""
        channels = [open_channel(target) for target in self.targets]
        try:
            stubs: list[Stub] = [recovery_pb2_grpc.RecoveryServiceStub(c) for c in channels]
            while True:
                await self.poll(stubs)
                await asyncio.sleep(POLL_S)
        finally:
            for channel in channels:
                await channel.close(None)

    async def poll(self, stubs: Sequence[Stub]) -> None:
        for target, stub in zip(self.targets, stubs, strict=True):
            with contextlib.suppress(grpc.aio.AioRpcError):  # dead now: counted when back
                self._take(target, await stub.Status(recovery_pb2.StatusRequest(),
                                                     timeout=TIMEOUT_S))

    def _take(self, target: str, status: recovery_pb2.StatusResponse) -> None:
        started, _ = self._current.get(target, (status.started_at_ms, 0))
        if started != status.started_at_ms:
            self._banked += self._current[target][1]
        self._current[target] = (status.started_at_ms, status.repairs)
        for repair in status.last_repairs:
            key = (target, status.started_at_ms, repair.campaign_id, repair.slot,
                   repair.repaired_at_ms)
            if key in self._seen:
                continue
            self._seen.add(key)
            if repair.void:
                self.voids += 1
            else:
                self.delays_ms.append(repair.delay_ms)
