"""``abc serve notify``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from services.notify import NotifyConfig, start_notify
from services.runtime import LOG_LEVEL, NOTIFY_LISTEN

from ._options import add_service_options, also_read, service_env
from ._serving import serve_until_stopped


def register(services: Any, _argv: Sequence[str]) -> None:
    p = services.add_parser(
        "notify", help="the notify service (gRPC abc.v1.NotifyService)",
        description="Push every finished slot to Watch streams: from NATS fill events, "
                    "polling the store only while events can't be trusted.",
        epilog=also_read(LOG_LEVEL),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_service_options(p, "notify", NOTIFY_LISTEN)
    p.set_defaults(run=run)


def config(args: argparse.Namespace) -> NotifyConfig:
    return NotifyConfig.from_env(service_env(args, "notify", NOTIFY_LISTEN))


def run(args: argparse.Namespace) -> int:
    return serve_until_stopped("notify",
                               lambda telemetry: start_notify(config(args), telemetry=telemetry))
