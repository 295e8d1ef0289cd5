"""``abc serve recovery``, ``abc recover accounts`` and ``abc recovery status``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

import grpc
from google.protobuf import json_format

from services.api.abc.v1 import recovery_pb2, recovery_pb2_grpc
from services.journal import Journal
from services.recovery import (
    SCHEDULES,
    RecoveryConfig,
    RecoveryConfigError,
    ordinal_from_hostname,
    recovery_listen,
    resolve_locked_accounts,
    start_recovery,
)
from services.runtime import (
    ServerConfigError,
    TokenError,
    setup_logging,
    setup_telemetry,
    stop_on_signals,
)
from services.store import StoreUrlError, Unavailable

from ._common import CliError, add_store_option, fail, open_store_or_explain
from ._options import add_nats_option, add_server_options, env, server_config


def register_serve(services: Any) -> None:
    p = services.add_parser(
        "recovery", help="one replica of the recovery posse (gRPC abc.v1.RecoveryService)",
        description="Each second, check the campaigns this replica's schedule puts it on duty "
                    "for (and every campaign at least every 10 s) and finish interrupted "
                    "purchases. The ordinal comes from --ordinal, ABC_RECOVERY_ORDINAL, or the "
                    "trailing -<i> of the hostname (a Kubernetes StatefulSet pod).")
    p.add_argument("--ordinal", type=int, default=_int_env("ABC_RECOVERY_ORDINAL"),
                   help="this replica, from 0 (env ABC_RECOVERY_ORDINAL; default: hostname)")
    p.add_argument("--replicas", type=int, default=_int_env("ABC_RECOVERY_REPLICAS") or 1,
                   metavar="N", help="the replica count (env ABC_RECOVERY_REPLICAS; default 1)")
    p.add_argument("--schedule", choices=list(SCHEDULES),
                   default=env("ABC_RECOVERY_SCHEDULE", "ordinal-shard"),
                   help="who checks what when (env ABC_RECOVERY_SCHEDULE; default %(default)s)")
    p.add_argument("--tick-ms", type=int, default=_int_env("ABC_RECOVERY_TICK_MS") or 1000,
                   metavar="MS",
                   help="how often to tick (env ABC_RECOVERY_TICK_MS; default %(default)s, "
                        "PROTOCOL.md's second: a repair waits for the next tick, so about half "
                        "a tick plus 100 ms on average)")
    add_server_options(p, "RECOVERY", "")
    add_store_option(p)
    add_nats_option(p)
    p.set_defaults(run=run_serve_recovery)


def register(commands: Any) -> None:
    recover = commands.add_parser("recover", help="operator repairs after an incident")
    actions = recover.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser(
        "accounts", help="resolve every locked account",
        description="Run the account resolver on every locked account found through the user "
                    "index (each may wait ~2 s for an operation still in flight).")
    add_store_option(p)
    p.set_defaults(run=run_recover_accounts)

    status = commands.add_parser("recovery", help="inspect the recovery replicas")
    actions = status.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = actions.add_parser("status", help="every replica's Status",
                           description="Call RecoveryService.Status on each replica.")
    p.add_argument("--replicas", type=int, default=_int_env("ABC_RECOVERY_REPLICAS") or 3,
                   metavar="N", help="replicas at 127.0.0.1:5006<i> (default %(default)s)")
    p.add_argument("--target", action="append", default=None, metavar="HOST:PORT",
                   help="a replica's address (repeatable; overrides --replicas)")
    p.add_argument("--token", default=os.environ.get("ABC_TOKEN"), help="bearer token")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_recovery_status)


def _int_env(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value and value.isdigit() else None


def run_serve_recovery(args: argparse.Namespace) -> int:
    setup_logging("abc-recovery")
    ordinal = args.ordinal if args.ordinal is not None else ordinal_from_hostname() or 0
    if not args.listen:
        args.listen = recovery_listen(ordinal)
    try:
        config = RecoveryConfig(args.store, ordinal, args.replicas, args.schedule,
                                args.nats_url, server_config(args), args.tick_ms)
        return asyncio.run(_serve(config))
    except (RecoveryConfigError, ServerConfigError, TokenError, StoreUrlError,
            Unavailable) as exc:
        return fail(str(exc))


async def _serve(config: RecoveryConfig) -> int:
    telemetry = setup_telemetry("abc-recovery", {"abc.recovery.ordinal": config.ordinal,
                                                 "abc.recovery.replicas": config.replicas})
    node = await start_recovery(config, telemetry)
    print(f"abc-recovery {config.ordinal}/{config.replicas} listening on port {node.port}",
          flush=True)
    await stop_on_signals().wait()
    await node.stop()
    telemetry.shutdown()
    return 0


def run_recover_accounts(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_recover_accounts(args.store))
    except CliError as exc:
        return fail(str(exc))


async def _recover_accounts(url: str) -> int:
    store = await open_store_or_explain(url)

    def progress(done: int, total: int, uid: str, what: str) -> None:
        if what not in ("unlocked", "not created"):
            print(f"  {uid}: {what}")
        if done % 100 == 0 or done == total:
            print(f"recover: {done}/{total} accounts", file=sys.stderr)

    try:
        tally = await resolve_locked_accounts(Journal(store), progress)
    except (Unavailable, StoreUrlError) as exc:
        raise CliError(f"store failed: {exc}; run it again (resolving is idempotent)") from exc
    finally:
        await store.close()
    print(", ".join(f"{n} {what}" for what, n in sorted(tally.items())) or "no accounts")
    return 0


def run_recovery_status(args: argparse.Namespace) -> int:
    targets = args.target or [recovery_listen(i) for i in range(args.replicas)]
    metadata = (("authorization", f"Bearer {args.token}"),) if args.token else ()
    failed = 0
    for target in targets:
        with grpc.insecure_channel(target) as channel:
            try:
                reply = recovery_pb2_grpc.RecoveryServiceStub(channel).Status(
                    recovery_pb2.StatusRequest(), metadata=metadata, timeout=5)
            except grpc.RpcError as exc:
                print(f"{target}: unreachable ({exc.code().name})")
                failed += 1
                continue
        if args.json:
            print(json_format.MessageToJson(reply, preserving_proto_field_name=True))
            continue
        print(f"{target}: replica {reply.ordinal}/{reply.replicas} {reply.schedule}: "
              f"{reply.campaigns_known} campaigns, {reply.checks} checks, "
              f"{reply.repairs} repairs, {reply.failed_checks} failed")
        for repair in reply.last_repairs[:5]:
            what = "void" if repair.void else f"{repair.delay_ms} ms after purchase"
            print(f"    repaired {repair.campaign_id} slot {repair.slot} ({what})")
    return 1 if failed else 0
