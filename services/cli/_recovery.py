"""``abc recover accounts`` and ``abc recovery status``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf import json_format

from services.api.abc.v1 import recovery_pb2, recovery_pb2_grpc
from services.journal import Journal
from services.recovery import STATUS_REPLICAS, recovery_listen, resolve_locked_accounts
from services.store import StoreUrlError, Unavailable

from ._common import CliError, fail, open_store_or_explain
from ._options import TOKEN, add_setting, add_store_option


def register(commands: Any, _argv: Sequence[str]) -> None:
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
    add_setting(p, "--replicas", STATUS_REPLICAS, type=int, metavar="N")
    p.add_argument("--target", action="append", default=None, metavar="HOST:PORT",
                   help="a replica's address (repeatable; overrides --replicas)")
    add_setting(p, "--token", TOKEN)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run_recovery_status)


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
