"""``abc audit`` and ``abc dump``: an operator's checks and backups of a store."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

from services.journal import audit, read_documents

from ._common import CliError, fail, open_store_or_explain
from ._options import add_store_option


def register(commands: Any, _argv: Sequence[str]) -> None:
    p = commands.add_parser(
        "audit", help="check every invariant of the purchase journal",
        description="Walk the index documents and check docs/protocol.md's invariants. Exit 0 if "
                    "all hold, 1 on any violation (each printed with its keys). Run it with "
                    "writers stopped: its reads are not one snapshot.")
    add_store_option(p)
    p.add_argument("--quiescent", action="store_true",
                   help="also check the after-recovery invariants (no locks, every receipt, "
                        "money conserved)")
    p.set_defaults(run=run_audit)
    d = commands.add_parser(
        "dump", help="print every document as a JSON line",
        description='Every document reachable from the indexes, one JSON object a line: '
                    '{"key": ..., "cas": ..., "value": ...}.')
    add_store_option(d)
    d.set_defaults(run=run_dump)


def run_audit(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_audit(args.store, args.quiescent))
    except CliError as exc:
        return fail(str(exc))


async def _audit(url: str, quiescent: bool) -> int:
    store = await open_store_or_explain(url)
    try:
        violations = await audit(store, quiescent)
    finally:
        await store.close()
    for violation in violations:
        print(violation)
    kind = "quiescent audit" if quiescent else "audit"
    print(f"{kind}: {len(violations)} violation(s)", file=sys.stderr)
    return 1 if violations else 0


def run_dump(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_dump(args.store))
    except CliError as exc:
        return fail(str(exc))


async def _dump(url: str) -> int:
    store = await open_store_or_explain(url)
    try:
        async for key, value, cas in read_documents(store):
            sys.stdout.write(json.dumps({"key": key, "cas": cas, "value": value}) + "\n")
    finally:
        await store.close()
    return 0
