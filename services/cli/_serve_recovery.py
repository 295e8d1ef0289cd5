"""``abc serve recovery``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from services.recovery import (
    CREDIT_INTERVAL_MS,
    ORDINAL,
    REPLICAS,
    SCHEDULE,
    SCHEDULES,
    TICK_MS,
    RecoveryConfig,
    start_recovery,
)
from services.runtime import LOG_LEVEL, PAYOUT_SETTINGS, ConfigError
from services.wiring import POLICY_SETTINGS

from ._common import fail
from ._options import add_service_options, add_setting, also_read, service_env
from ._serving import serve_until_stopped

NO_DEFAULT = ""  # --listen's default depends on the ordinal: the config picks it


def register(services: Any, _argv: Sequence[str]) -> None:
    p = services.add_parser(
        "recovery", help="one replica of the recovery posse (gRPC abc.v1.RecoveryService)",
        description="Each tick (a second by default), check the campaigns this replica's "
                    "schedule puts it on duty for (and every campaign at least every 10 s) "
                    "and finish interrupted purchases. The ordinal comes from --ordinal, "
                    "ABC_RECOVERY_ORDINAL, or the trailing -<i> of the hostname (a Kubernetes "
                    "StatefulSet pod). --listen defaults to 127.0.0.1:50060 + ordinal.",
        epilog=also_read(*POLICY_SETTINGS, *PAYOUT_SETTINGS, CREDIT_INTERVAL_MS, LOG_LEVEL),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_setting(p, "--ordinal", ORDINAL, type=int)
    add_setting(p, "--replicas", REPLICAS, type=int, metavar="N")
    add_setting(p, "--schedule", SCHEDULE, choices=list(SCHEDULES))
    add_setting(p, "--tick-ms", TICK_MS, type=int, metavar="MS")
    add_service_options(p, "recovery", NO_DEFAULT)
    p.set_defaults(run=run)


def config(args: argparse.Namespace) -> RecoveryConfig:
    return RecoveryConfig.from_env(service_env(args, "recovery", NO_DEFAULT, **{
        ORDINAL.var: _text(args.ordinal), REPLICAS.var: _text(args.replicas),
        SCHEDULE.var: args.schedule, TICK_MS.var: _text(args.tick_ms)}))


def run(args: argparse.Namespace) -> int:
    try:
        chosen = config(args)
    except ConfigError as exc:
        return fail(str(exc))
    return serve_until_stopped(
        "recovery", lambda telemetry: start_recovery(chosen, telemetry),
        {"abc.recovery.ordinal": chosen.ordinal, "abc.recovery.replicas": chosen.replicas},
        f" {chosen.ordinal}/{chosen.replicas}")


def _text(value: int | None) -> str | None:
    return None if value is None else str(value)
