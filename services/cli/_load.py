"""``abc load``: a fresh world of users and campaigns on a store, concurrent buyers purchasing
through the real journal, progress on stderr and a summary of what they saw."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import Any

from services.journal import Journal, JournalContext, audit
from services.lab.loadgen import (
    LoadStats,
    SetupError,
    World,
    balance_for,
    run_buyers,
    set_up,
)

from ._common import CliError, fail, open_store_or_explain
from ._options import add_store_option

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def register(commands: Any, _argv: Sequence[str]) -> None:
    p = commands.add_parser(
        "load", help="run concurrent buyers against a store and summarize what they saw",
        description="Create a fresh world on the store (users with opening deposits, an owner, "
                    "campaigns; every id prefixed with a run id, so repeated runs on one file "
                    "each add a new world), run concurrent buyers until the purchase attempts "
                    "are used up, then print attempts, purchases, lost races, other outcomes, "
                    "throughput and latency, and the command that audits the store.")
    add_store_option(p)
    p.add_argument("--users", type=int, default=20, metavar="N",
                   help="buyer accounts (default %(default)s; buyers beyond N share accounts)")
    p.add_argument("--campaigns", type=int, default=20, metavar="M",
                   help="campaigns (default %(default)s)")
    p.add_argument("--buyers", type=int, default=8, metavar="B",
                   help="concurrent buyers (default %(default)s)")
    p.add_argument("--purchases", type=int, default=400, metavar="P",
                   help="purchase attempts in all (default %(default)s)")
    p.add_argument("--hot", action="store_true",
                   help="every buyer buys from the first campaign (default: uniformly among all)")
    p.add_argument("--seconds", type=float, default=60.0, metavar="S",
                   help="stop buying after S seconds even if attempts remain (default %(default)s)")
    p.set_defaults(run=run_load)


def run_load(args: argparse.Namespace) -> int:
    for name in ("users", "campaigns", "buyers", "purchases"):
        if getattr(args, name) < 1:
            return fail(f"--{name} must be at least 1")
    if not args.seconds > 0:
        return fail("--seconds must be more than 0")
    try:
        return asyncio.run(_load(args))
    except CliError as exc:
        return fail(str(exc))


async def _load(args: argparse.Namespace) -> int:
    store = await open_store_or_explain(args.store, create=True)
    try:
        journal = Journal(store, JournalContext(), take_turns=True)
        run_id = _run_id()
        print(f"load: setting up world {run_id} on {args.store}: {args.users} users, "
              f"{args.campaigns} campaigns", file=sys.stderr)
        try:
            world = await set_up(journal, args.users, args.campaigns, balance_for(args.users),
                                 prefix=f"{run_id}-")
        except SetupError as exc:
            raise CliError(str(exc)) from exc
        progress = _Progress(args.purchases)
        stats = await run_buyers(journal, args.buyers, args.purchases, world.campaigns,
                                 users=world.users, hot=args.hot, deadline_s=args.seconds,
                                 on_progress=progress.show)
        progress.done()
        _print_summary(world, stats, args)
        if args.store.startswith("memory:"):
            # Nothing outlives this process: audit here, since no later command can.
            violations = await audit(store, quiescent=True)
            for violation in violations:
                print(violation)
            print(f"quiescent audit (in process, memory store): {len(violations)} violation(s)")
            return 1 if violations else 0
    finally:
        await store.close()
    print(f"\naudit the store: abc audit --store {args.store} --quiescent")
    return 0


def _run_id() -> str:
    """A short id from the clock (milliseconds in base 36), so that each run's ids are new."""
    ms = time.time_ns() // 1_000_000
    digits = ""
    while ms:
        ms, d = divmod(ms, 36)
        digits = _DIGITS[d] + digits
    return digits


class _Progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()
        self.shown = False

    def show(self, stats: LoadStats) -> None:
        line = (f"load: {stats.attempts}/{self.total} attempts, {stats.bought} bought, "
                f"{stats.purchases_per_s:.0f} purchases/s")
        print(f"\r{line}" if self.tty else line, end="" if self.tty else "\n", file=sys.stderr,
              flush=True)
        self.shown = True

    def done(self) -> None:
        if self.tty and self.shown:
            print(file=sys.stderr)


def _print_summary(world: World, stats: LoadStats, args: argparse.Namespace) -> None:
    mode = "one hot campaign" if args.hot else f"{len(world.campaigns)} campaigns, uniform"
    print(f"world {world.prefix.rstrip('-')}: {len(world.users)} users, {mode}, "
          f"{args.buyers} buyers, store {args.store}")
    rows: list[tuple[str, str]] = [
        ("attempts", str(stats.attempts)),
        ("bought", str(stats.bought)),
        ("lost races", str(stats.lost_races)),
    ]
    rows += [(f"other: {name}", str(n)) for name, n in sorted(stats.others.items())]
    if not stats.others:
        rows.append(("other outcomes", "0"))
    rows += [
        ("elapsed", f"{stats.elapsed_s:.2f} s"),
        ("purchases/s", f"{stats.purchases_per_s:.0f}"),
        ("attempts/s", f"{stats.attempts_per_s:.0f}"),
        ("latency p50", f"{stats.latency_ms(50):.2f} ms"),
        ("latency p99", f"{stats.latency_ms(99):.2f} ms"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value:>12}")
    if stats.attempts < args.purchases:
        print(f"  (stopped at --seconds {args.seconds:g} with {args.purchases - stats.attempts} "
              "attempts left)")
    priced_out = stats.others.get("PriceAboveMax", 0) + stats.others.get("InsufficientFunds", 0)
    if priced_out:
        print(f"  note: {priced_out} attempts were priced out (PriceAboveMax, InsufficientFunds).\n"
              "  Each purchase queues a slot after the last one and doubles the price, so a\n"
              "  campaign sells a burst of about 40 slots, then waits for its queue to play out.\n"
              "  Spread the load over more --campaigns.")
