"""A recovery replica's configuration: which replica of how many, its schedule and tick, how
often it may credit one seller, how its payer pays, and where it serves; from
``ABC_RECOVERY_*``, ``ABC_PAYOUT_*`` and the shared settings."""

from __future__ import annotations

import dataclasses
import os
import re
import socket
from dataclasses import dataclass, field

from services.payouts import PayoutConfig
from services.runtime import (
    NATS_URL,
    STORE_URL,
    ConfigError,
    Environ,
    ServerConfig,
    Setting,
)

from ._crediting import CREDIT_INTERVAL_MS as DEFAULT_CREDIT_INTERVAL_MS
from ._schedules import SCHEDULES

RECOVERY_PORT_BASE = 50060  # replica i listens on this + i (abc up, abc recovery status)
_ORDINAL_SUFFIX = re.compile(r"-(\d+)$")

ORDINAL = Setting("ABC_RECOVERY_ORDINAL", None,
                  "this replica, from 0 (unset: the trailing -<i> of the hostname, as a "
                  "StatefulSet pod has; else 0)")
REPLICAS = Setting("ABC_RECOVERY_REPLICAS", "1", "the replica count N")
SCHEDULE = Setting("ABC_RECOVERY_SCHEDULE", "ordinal-shard",
                   f"who checks what when: {', '.join(SCHEDULES)}")
TICK_MS = Setting("ABC_RECOVERY_TICK_MS", "1000",
                  "how often to tick, 50 to 10000 ms (the protocol's second: a repair waits "
                  "for the next tick, so about half a tick plus 100 ms on average)")
CREDIT_INTERVAL_MS = Setting("ABC_RECOVERY_CREDIT_INTERVAL_MS",
                             str(DEFAULT_CREDIT_INTERVAL_MS),
                             "the least time between two credit ops of one seller by one "
                             "replica, 100 to 60000 ms (a sale reaches its seller within about "
                             "one or two ticks)")
STATUS_REPLICAS = dataclasses.replace(REPLICAS, default="3")
"""``abc recovery status``'s replica count: the three that ``abc up`` starts, by default."""


def recovery_listen(ordinal: int, base: int = RECOVERY_PORT_BASE) -> str:
    """Where replica ``ordinal`` listens on this machine by default."""
    return f"127.0.0.1:{base + ordinal}"


class RecoveryConfigError(ConfigError):
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
    server: ServerConfig = field(default_factory=lambda: ServerConfig(
        listen=recovery_listen(0)))
    tick_ms: int = 1000  # the protocol's second; shorter trades store reads for faster repair
    credit_interval_ms: int = DEFAULT_CREDIT_INTERVAL_MS
    payout: PayoutConfig = field(default_factory=PayoutConfig)

    def __post_init__(self) -> None:
        if not 50 <= self.tick_ms <= 10_000:
            raise RecoveryConfigError(f"tick {self.tick_ms} ms: want 50 to 10000")
        if self.replicas < 1 or not 0 <= self.ordinal < self.replicas:
            raise RecoveryConfigError(
                f"ordinal {self.ordinal} of {self.replicas} replicas: want 0 <= ordinal < "
                "replicas (set --ordinal/ABC_RECOVERY_ORDINAL and --replicas)")
        if not 100 <= self.credit_interval_ms <= 60_000:
            raise RecoveryConfigError(
                f"credit interval {self.credit_interval_ms} ms: want 100 to 60000")
        if self.schedule not in SCHEDULES:
            raise RecoveryConfigError(
                f"schedule {self.schedule!r}: want one of {', '.join(SCHEDULES)}")

    @classmethod
    def from_env(cls, env: Environ = os.environ) -> RecoveryConfig:
        """From ``ABC_RECOVERY_ORDINAL`` (else the hostname's ``-<i>``, else 0),
        ``ABC_RECOVERY_REPLICAS``, ``_SCHEDULE``, ``_TICK_MS``, ``_CREDIT_INTERVAL_MS``,
        ``ABC_PAYOUT_*``, the store and NATS URLs, and the server's settings
        (``ABC_RECOVERY_LISTEN``, default port 50060 + ordinal)."""
        ordinal = ORDINAL.integer(env)
        if ordinal is None:
            ordinal = ordinal_from_hostname() or 0
        return cls(STORE_URL.text(env), ordinal, REPLICAS.integer(env) or 0,
                   SCHEDULE.text(env), NATS_URL.read(env),
                   ServerConfig.from_env("recovery", recovery_listen(ordinal), env),
                   TICK_MS.integer(env) or 0, CREDIT_INTERVAL_MS.integer(env) or 0,
                   PayoutConfig.from_env(env))
