"""``abc demo``: the main job in one command, and the chaos that proves it.

Brings the whole system up as ``abc up`` does (NATS, purchase processes, notify, the recovery
posse, the web gateway) on a fresh store, creates funded users and campaigns (one hot, many
quiet), then for ``--duration`` seconds runs concurrent buyers over gRPC and a watcher on every
campaign while the chaos SIGKILLs and restarts purchase processes, recovery replicas and the
NATS server at moments drawn from ``--seed``; the gateway's URL is printed at the start, to
watch it all in a browser (the chaos spares the gateway and notify). Meanwhile the posse
credits the owner's shares as sales finish, the owner and some buyers withdraw, and the
replicas' payers pay them through a local payment system (a webhook rail) while the chaos
kills them too. Then it stops the chaos, restarts whatever is dead, stops the buyers, lets
recovery settle (every user logs in, every campaign finishes and is credited, every
withdrawal is paid), runs the quiescent audit in process and checks the books, every payment
and the watcher. Exit 0 only if all of it is clean, 1 if not, 130 on Ctrl-C (everything is
torn down either way).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import os
import random
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.lab.cluster import (
    Cluster,
    ClusterError,
    NatsServerError,
    StartAborted,
)
from services.lab.demo import DemoConfig, DemoError, Verdict, run_demo
from services.lab.payments import Mood, PaymentSystem, payment_system
from services.notify import MAX_CAMPAIGNS  # the demo watches every campaign on one stream
from services.recovery import recovery_listen

from ._common import fail
from ._options import DATA, described
from ._up import Stop, add_cluster_options, catch_stop_signals, layout_of, stop_requested

PAYOUT_LEASE_MS = 3000  # before a killed payer's claim is re-driven (production: 30 s)
PAYMENT_DELAY_S = 0.4  # the local payment system pays, then answers this late

def register(commands: Any, _argv: Sequence[str]) -> None:
    p = commands.add_parser(
        "demo", help="the whole system under chaos for a minute, then the proof it held",
        description=described(__doc__, 1),
        epilog="--data defaults to a fresh directory, .abc/demo-<date>-<time> (under ABC_DATA "
               "if set): a demo never mixes with an old store.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cluster_options(p)
    p.set_defaults(data=None)  # None: a fresh directory (see the epilog)
    p.add_argument("--duration", type=float, default=60.0, metavar="S",
                   help="seconds of buying under chaos (default %(default)s)")
    p.add_argument("--seed", type=int, default=None,
                   help="the chaos plan and the buyers' choices (default: drawn, and printed)")
    p.add_argument("--users", type=int, default=100, metavar="N",
                   help="funded users (default %(default)s)")
    p.add_argument("--campaigns", type=int, default=30, metavar="N",
                   help=f"campaigns, one of them hot, at most {MAX_CAMPAIGNS} "
                        "(default %(default)s)")
    p.add_argument("--buyers", type=int, default=24, metavar="N",
                   help="concurrent buyers (default %(default)s)")
    p.add_argument("--purchase-processes", type=int, default=2, metavar="N",
                   help="purchase processes: the first at --purchase-listen, the others on "
                        "the ports after it, skipping notify's (default %(default)s: 50051 "
                        "and 50053)")
    p.add_argument("--no-chaos", action="store_true", help="no kills: just the load and proof")
    p.add_argument("--headless", action="store_true",
                   help="a progress line every 5 s instead of the live view (also when the "
                        "output is not a terminal)")
    p.set_defaults(run=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    if not args.purchase_listen.rpartition(":")[2].isdigit():
        return fail("--purchase-listen: HOST:PORT")
    purchase = _purchase_addresses(args.purchase_listen, args.notify_listen,
                                   args.purchase_processes)
    problem = _check(args, purchase)
    if problem is not None:
        return fail(problem)
    if args.data is None:
        args.data = Path(DATA.text()) / time.strftime("demo-%Y%m%d-%H%M%S")
    elif (args.data / "abc.db").exists() and args.store is None:
        return fail(f"{args.data} already holds a store; a demo needs a fresh --data directory")
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    config = DemoConfig(duration_s=args.duration, seed=seed, users=args.users,
                        campaigns=args.campaigns, buyers=args.buyers, chaos=not args.no_chaos,
                        live=not args.headless and sys.stdout.isatty())
    with payment_system(Mood.SLOW, PAYMENT_DELAY_S) as payments:
        return _run(args, config, purchase, payments)


def _run(args: argparse.Namespace, config: DemoConfig, purchase: tuple[str, ...],
         payments: PaymentSystem) -> int:
    layout = layout_of(args, purchase)
    # The payers of the recovery replicas pay through the demo's local payment system; a
    # claim killed mid-payout is re-driven after a short lease, within the settling.
    env = {**(layout.env or os.environ), "ABC_PAYOUT_RAIL": "webhook",
           "ABC_PAYOUT_WEBHOOK_URL": payments.url, "ABC_PAYOUT_LEASE_MS": str(PAYOUT_LEASE_MS)}
    cluster = Cluster(dataclasses.replace(layout, env=env), interrupted=stop_requested)
    catch_stop_signals()
    seed = config.seed
    try:
        print(f"abc demo (seed {seed}; again: --seed {seed}): starting the system in "
              f"{args.data}...", flush=True)
        return asyncio.run(run_demo(cluster, config, payments, sys.stdout,
                                    stop_requested)).value
    except (Stop, StartAborted):
        print("\nstopping...", file=sys.stderr)
        return Verdict.INTERRUPTED.value
    except (NatsServerError, ClusterError, DemoError) as exc:
        print(f"abc demo: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        cluster.stop()
        print(f"everything stopped; store and logs in {args.data}", flush=True)


def _check(args: argparse.Namespace, purchase: tuple[str, ...]) -> str | None:
    for name in ("users", "buyers", "purchase_processes"):
        if getattr(args, name) < 1:
            return f"--{name.replace('_', '-')} must be at least 1"
    if not 2 <= args.campaigns <= MAX_CAMPAIGNS:
        return f"--campaigns must be 2 to {MAX_CAMPAIGNS}"
    if not args.duration > 0:
        return "--duration must be more than 0"
    if args.store is not None and args.store.startswith("memory:"):
        return "--store memory:// can't be shared by processes; use sqlite or couchbase"
    addresses = [*purchase, args.notify_listen, *(
        recovery_listen(i, args.recovery_port_base) for i in range(args.recovery_replicas)),
        *([args.gateway_listen] if args.gateway_listen is not None else [])]
    twice = sorted({a for a in addresses if addresses.count(a) > 1})
    if twice:
        return f"two processes would listen on {', '.join(twice)}: fewer --purchase-processes " \
               "or another --recovery-port-base"
    return None  # addresses already in use are refused by Cluster.start


def _purchase_addresses(first: str, notify: str, count: int) -> tuple[str, ...]:
    """``first``, then the same host on the ports after it, skipping ``notify``'s."""
    host, _, port = first.rpartition(":")
    ports = (p for p in itertools.count(int(port) + 1) if f"{host}:{p}" != notify)
    return (first, *(f"{host}:{next(ports)}" for _ in range(count - 1)))

