"""``abc serve purchase``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from services.purchase import PurchaseConfig, purchase_event_loop, start_purchase
from services.runtime import LOG_LEVEL, PURCHASE_LISTEN
from services.wiring import POLICY_SETTINGS

from ._options import add_service_options, also_read, service_env
from ._serving import serve_until_stopped


def register(services: Any, _argv: Sequence[str]) -> None:
    p = services.add_parser(
        "purchase", help="the purchase service (gRPC abc.v1.PurchaseService)",
        description="Serve the purchase journal over gRPC; publish fill events on NATS.",
        epilog=also_read(*POLICY_SETTINGS, LOG_LEVEL),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_service_options(p, "purchase", PURCHASE_LISTEN)
    p.set_defaults(run=run)


def config(args: argparse.Namespace) -> PurchaseConfig:
    return PurchaseConfig.from_env(service_env(args, "purchase", PURCHASE_LISTEN))


def run(args: argparse.Namespace) -> int:
    return serve_until_stopped("purchase",
                               lambda telemetry: start_purchase(config(args), telemetry),
                               loop_factory=purchase_event_loop())
