"""The recovery service: replica i of N of the posse that finishes interrupted purchases."""

from ._accounts import resolve_locked_accounts
from ._config import (
    ORDINAL,
    RECOVERY_PORT_BASE,
    REPLICAS,
    SCHEDULE,
    STATUS_REPLICAS,
    TICK_MS,
    RecoveryConfig,
    RecoveryConfigError,
    ordinal_from_hostname,
    recovery_listen,
)
from ._replica import RepairRecord, Replica
from ._schedules import (
    MAX_INTERVAL_S,
    SCHEDULES,
    OrdinalShard,
    RandomDuty,
    RoundRobin,
    Schedule,
    due,
    make_schedule,
)
from ._service import SERVICE_NAME, RecoveryNode, start_recovery
from ._servicer import RecoveryServicer

__all__ = [
    "MAX_INTERVAL_S",
    "ORDINAL",
    "RECOVERY_PORT_BASE",
    "REPLICAS",
    "SCHEDULE",
    "SCHEDULES",
    "SERVICE_NAME",
    "STATUS_REPLICAS",
    "TICK_MS",
    "OrdinalShard",
    "RandomDuty",
    "RecoveryConfig",
    "RecoveryConfigError",
    "RecoveryNode",
    "RecoveryServicer",
    "RepairRecord",
    "Replica",
    "RoundRobin",
    "Schedule",
    "due",
    "make_schedule",
    "ordinal_from_hostname",
    "recovery_listen",
    "resolve_locked_accounts",
    "start_recovery",
]
