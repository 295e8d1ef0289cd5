"""The recovery service: replica i of N of the posse that finishes interrupted purchases."""

from ._accounts import resolve_locked_accounts
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
from ._service import (
    RECOVERY_PORT_BASE,
    SERVICE_NAME,
    RecoveryConfig,
    RecoveryConfigError,
    RecoveryNode,
    ordinal_from_hostname,
    recovery_listen,
    start_recovery,
)
from ._servicer import RecoveryServicer

__all__ = [
    "MAX_INTERVAL_S",
    "RECOVERY_PORT_BASE",
    "SCHEDULES",
    "SERVICE_NAME",
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
