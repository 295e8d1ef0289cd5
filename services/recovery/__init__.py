"""The recovery service: replica i of N of the posse that finishes interrupted purchases and
credits sellers their sales, with the payer that pays withdrawals out beside it."""

from ._accounts import resolve_locked_accounts
from ._config import (
    CREDIT_INTERVAL_MS,
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
from ._crediting import CreditPacer
from ._payer import PAYER_PREFIX, Backoff, Payer, PayerCounters
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
    "CREDIT_INTERVAL_MS",
    "MAX_INTERVAL_S",
    "ORDINAL",
    "PAYER_PREFIX",
    "RECOVERY_PORT_BASE",
    "REPLICAS",
    "SCHEDULE",
    "SCHEDULES",
    "SERVICE_NAME",
    "STATUS_REPLICAS",
    "TICK_MS",
    "Backoff",
    "CreditPacer",
    "OrdinalShard",
    "Payer",
    "PayerCounters",
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
