"""``RecoveryService.Status``: what this replica is and has done."""

from __future__ import annotations

from typing import Any

import grpc

from services.api.abc.v1 import recovery_pb2 as pb
from services.api.abc.v1 import recovery_pb2_grpc

from ._replica import Replica


class RecoveryServicer(recovery_pb2_grpc.RecoveryServiceServicer):
    def __init__(self, replica: Replica) -> None:
        self.replica = replica

    async def Status(self, request: pb.StatusRequest,
                     context: grpc.aio.ServicerContext[Any, Any]) -> pb.StatusResponse:
        r, c = self.replica, self.replica.counters
        return pb.StatusResponse(
            ordinal=r.ordinal, replicas=r.replicas, schedule=r.schedule.name,
            campaigns_known=len(r.campaigns), checks=c.checks, repairs=c.repairs,
            failed_checks=c.failed_checks, started_at_ms=r.started_at,
            last_repairs=[pb.Repair(campaign_id=x.campaign, slot=x.slot, void=x.void,
                                    repaired_at_ms=x.repaired_at, delay_ms=x.delay_ms)
                          for x in c.last_repairs])
