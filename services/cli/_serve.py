"""``abc serve SERVICE``: run one service in this process (what ``abc up`` and a container
start). Every option has an ``ABC_*`` environment variable, shown in ``--help``."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from services.notify import NotifyConfig, start_notify
from services.purchase import PurchaseConfig, start_purchase
from services.runtime import (
    FaultConfigError,
    ServerConfigError,
    TokenError,
    setup_logging,
    setup_telemetry,
    stop_on_signals,
)
from services.store import StoreUrlError, Unavailable

from ._common import add_store_option, fail
from ._options import (
    NOTIFY_LISTEN,
    PURCHASE_LISTEN,
    add_nats_option,
    add_server_options,
    server_config,
)
from ._recovery import register_serve

log = logging.getLogger("abc.serve")


def register(commands: Any) -> None:
    p = commands.add_parser("serve", help="run one Abc service in this process",
                            description="Run one service until SIGINT or SIGTERM.")
    services = p.add_subparsers(dest="service", metavar="SERVICE", required=True)
    purchase = services.add_parser(
        "purchase", help="the purchase service (gRPC abc.v1.PurchaseService)",
        description="Serve the purchase journal over gRPC; publish fill events on NATS.")
    add_server_options(purchase, "PURCHASE", PURCHASE_LISTEN)
    add_store_option(purchase)
    add_nats_option(purchase)
    purchase.set_defaults(run=run_purchase)
    register_serve(services)
    notify = services.add_parser(
        "notify", help="the notify service (gRPC abc.v1.NotifyService)",
        description="Push every finished slot to Watch streams: from NATS fill events, "
                    "polling the store only while events can't be trusted.")
    add_server_options(notify, "NOTIFY", NOTIFY_LISTEN)
    add_store_option(notify)
    add_nats_option(notify)
    notify.set_defaults(run=run_notify)


def run_purchase(args: argparse.Namespace) -> int:
    setup_logging("abc-purchase")
    try:
        config = PurchaseConfig(args.store, args.nats_url, server_config(args))
        return asyncio.run(_serve_purchase(config))
    except (ServerConfigError, TokenError, FaultConfigError, StoreUrlError, Unavailable) as exc:
        return fail(str(exc))


def run_notify(args: argparse.Namespace) -> int:
    setup_logging("abc-notify")
    try:
        config = NotifyConfig(args.store, args.nats_url, server_config(args))
        return asyncio.run(_serve_notify(config))
    except (ServerConfigError, TokenError, StoreUrlError, Unavailable) as exc:
        return fail(str(exc))


async def _serve_notify(config: NotifyConfig) -> int:
    telemetry = setup_telemetry("abc-notify")
    node = await start_notify(config, telemetry=telemetry)
    print(f"abc-notify listening on port {node.port}", flush=True)
    await stop_on_signals().wait()
    await node.stop()
    telemetry.shutdown()
    return 0


async def _serve_purchase(config: PurchaseConfig) -> int:
    telemetry = setup_telemetry("abc-purchase")
    node = await start_purchase(config, telemetry)
    print(f"abc-purchase listening on port {node.port}", flush=True)
    await stop_on_signals().wait()
    log.info("stopping: draining calls in flight")
    await node.stop()
    telemetry.shutdown()
    return 0
