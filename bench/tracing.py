"""Benchmark of tracing's overhead (not a test): purchases per second through two real purchase
service processes, one with tracing off and one exporting every span by OTLP/gRPC (always
sampled), driven the same way in the same run. Prints Markdown; run from the repo root:
``python bench/tracing.py [--purchases N] [--clients N] [--rounds N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path

# Run as a plain script (``python bench/tracing.py``, no PYTHONPATH, no install): put the repo
# root on the import path so ``services`` is found; the server processes get it as PYTHONPATH.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc
from _report import cpu_s, header, pct, table
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.journal import Journal
from services.lab.cluster import NatsServer, clean_env, free_port, serving
from services.lab.loadgen import World, audit_url, balance_for, set_up
from services.store import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 16
DEFAULT_PURCHASES = 1500  # per variant per round
QUICK_PURCHASES = 300
DEFAULT_ROUNDS = 3
QUICK_ROUNDS = 1
WARM_UP = 100  # purchases per server before the timed rounds
TARGET = 0.85  # tracing on / off, purchases per second
SAMPLED_RATIO = 0.1
VARIANTS = ("off", "on", "sampled")
TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
METRICS_SERVICE = "opentelemetry.proto.collector.metrics.v1.MetricsService"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--purchases", type=int, default=None, metavar="N",
                        help=f"purchases per variant per round (default {DEFAULT_PURCHASES}, "
                             f"or {QUICK_PURCHASES} with --quick)")
    parser.add_argument("--clients", type=int, default=CLIENTS, metavar="N",
                        help="concurrent gRPC clients (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=None, metavar="N",
                        help=f"rounds of off and on (default {DEFAULT_ROUNDS}, or "
                             f"{QUICK_ROUNDS} with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    purchases = args.purchases or (QUICK_PURCHASES if args.quick else DEFAULT_PURCHASES)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    if purchases < args.clients or args.clients < 1:
        parser.error("--purchases must be at least --clients, and --clients at least 1")
    started = time.perf_counter()
    header("Tracing overhead benchmark", "bench/tracing.py")
    with tempfile.TemporaryDirectory(prefix="abc-bench-tracing-") as tmp:
        bench = _Bench(Path(tmp), args.clients, purchases, rounds)
        ok = bench.run()
    print(f"\nBench time {time.perf_counter() - started:.1f} s.")
    return 0 if ok else 1  # 1: a purchase failed or an audit found a violation (not the target)


# --- the collector: takes OTLP exports as raw bytes, parsed only after the timed runs -------


class RawCollector:
    """OTLP/gRPC trace and metrics services that keep each request's bytes and answer at once:
    the bench process (which also runs the clients) spends nothing parsing during a run."""

    def __init__(self) -> None:
        self.traces: list[bytes] = []
        self.metric_exports = 0
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self._server.add_generic_rpc_handlers([
            grpc.method_handlers_generic_handler(TRACE_SERVICE, {
                "Export": grpc.unary_unary_rpc_method_handler(self._trace)}),
            grpc.method_handlers_generic_handler(METRICS_SERVICE, {
                "Export": grpc.unary_unary_rpc_method_handler(self._metrics)})])
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    def _trace(self, request: bytes, _context: grpc.ServicerContext) -> bytes:
        with self._lock:
            self.traces.append(request)
        return b""  # an empty ExportTraceServiceResponse: all accepted

    def _metrics(self, _request: bytes, _context: grpc.ServicerContext) -> bytes:
        with self._lock:
            self.metric_exports += 1
        return b""

    def spans(self) -> int:
        with self._lock:
            payloads = list(self.traces)
        return sum(len(ss.spans) for payload in payloads
                   for rs in trace_service_pb2.ExportTraceServiceRequest.FromString(
                       payload).resource_spans
                   for ss in rs.scope_spans)

    def stop(self) -> None:
        self._server.stop(grace=None).wait(5)


# --- the servers -----------------------------------------------------------------------------


@dataclass
class Server:
    variant: str
    process: subprocess.Popen[bytes]
    target: str
    log: Path
    db: Path

    def cpu_s(self) -> float | None:
        return cpu_s(self.process.pid)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """SERVING, and on NATS (so every finished slot's event is really published)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the {self.variant} server exited:\n{self.log.read_text()}")
            if "connected to NATS" in self.log.read_text() and serving(self.target):
                return
            time.sleep(0.05)
        raise SystemExit(f"the {self.variant} server is not ready:\n{self.log.read_text()}")


    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM: the traced server exports what it still buffers on the way out."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _server_env(variant: str, collector: RawCollector) -> dict[str, str]:
    env = clean_env()
    if variant == "off":
        return env
    # The defaults otherwise (OTEL_BSP_*: a batch of 512 or every 5 s; metrics every 60 s).
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.port}",
               OTEL_EXPORTER_OTLP_INSECURE="true", OTEL_TRACES_SAMPLER="always_on")
    if variant == "sampled":
        env.update(OTEL_TRACES_SAMPLER="parentbased_traceidratio",
                   OTEL_TRACES_SAMPLER_ARG=str(SAMPLED_RATIO))
    return env


def start_server(tmp: Path, variant: str, db: Path, nats_url: str, collector: RawCollector,
                 wrapper: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Server:
    """``abc serve purchase`` on ``db`` as ``variant`` traces, its output in
    ``purchase-<db's stem>.log``; ``wrapper`` runs it (valgrind, say), ``env`` adds to its
    environment."""
    port, log = free_port(), tmp / f"purchase-{db.stem}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*wrapper, sys.executable, "-m", "services.cli", "serve", "purchase", "--listen",
             f"127.0.0.1:{port}", "--store", f"sqlite:///{db}", "--nats-url", nats_url],
            cwd=ROOT, env={**_server_env(variant, collector), **(env or {})},
            stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    return Server(variant, process, f"127.0.0.1:{port}", log, db)


# --- the load --------------------------------------------------------------------------------


@dataclass
class Run:
    variant: str
    round: int
    purchases: int
    elapsed_s: float = 0.0
    server_cpu_s: float | None = None
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def bought(self) -> int:
        return self.outcomes["OK"]

    @property
    def per_s(self) -> float:
        return self.bought / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def cpu_ms_per_purchase(self) -> float | None:
        if self.server_cpu_s is None or not self.bought:
            return None
        return self.server_cpu_s * 1000 / self.bought

    def latency_ms(self, percent: int) -> float:
        return pct(self.latencies_ms, percent)


async def drive(target: str, users: Sequence[str], campaigns: Sequence[str], run: Run) -> None:
    """``len(users)`` clients at once, client i as user i, buying campaigns i, i+N, ...: each
    campaign once (a fresh campaign's purchase is the uncontended path, at ``min_price``)."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = purchase_pb2_grpc.PurchaseServiceStub(channel)

        async def client(i: int) -> None:
            for cid in campaigns[i::len(users)]:
                began = time.perf_counter()
                try:
                    await stub.Buy(pb.BuyRequest(user_id=users[i], campaign_id=cid,
                                                 max_price=1000), timeout=30)
                    run.outcomes["OK"] += 1
                except grpc.aio.AioRpcError as exc:
                    run.outcomes[exc.code().name] += 1
                run.latencies_ms.append((time.perf_counter() - began) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(len(users))))
        run.elapsed_s = time.perf_counter() - began


async def make_world(db: Path, clients: int, campaigns: int) -> World:
    """A sqlite world at ``db``: ``clients`` funded users, ``campaigns`` fresh campaigns (each
    bought once: the uncontended path)."""
    store = await SqliteStore(db).open()
    try:
        return await set_up(Journal(store), clients, campaigns, balance_for(clients),
                            min_price=10, slot_seconds=60)
    finally:
        await store.close()


# --- the bench -------------------------------------------------------------------------------


class _Bench:
    def __init__(self, tmp: Path, clients: int, purchases: int, rounds: int) -> None:
        self.tmp = tmp
        self.clients = clients
        self.purchases = purchases
        self.rounds = rounds
        self.users: tuple[str, ...] = ()
        self.campaigns: tuple[str, ...] = ()

    def run(self) -> bool:
        self._intro()
        db = self.tmp / "world.db"
        setup_s = self._prepare(db)
        print(f"World: {len(self.users)} users, {len(self.campaigns)} campaigns on sqlite "
              f"(set up in {setup_s:.1f} s, copied for each server).\n")
        nats = NatsServer(self.tmp / "nats.log").start()
        collector = RawCollector()
        servers: dict[str, Server] = {}
        try:
            for variant in VARIANTS:
                copy = self.tmp / f"{variant}.db"
                shutil.copyfile(db, copy)
                servers[variant] = start_server(self.tmp, variant, copy, nats.url, collector)
            for server in servers.values():
                server.wait_ready()
            runs = self._rounds(servers)
        finally:
            for server in servers.values():
                server.stop()
            nats.stop()
        spans, metric_exports = collector.spans(), collector.metric_exports
        collector.stop()
        violations = {v: len(asyncio.run(audit_url(f"sqlite:///{s.db}", quiescent=True)))
                      for v, s in servers.items()}
        return self._report(runs, spans, metric_exports, violations)

    def _intro(self) -> None:
        print(f"Three `abc serve purchase` processes on copies of one sqlite world, all on NATS "
              f"(every finished slot publishes its fill event): **off** has no `OTEL_*` "
              f"settings (the API's no-op tracer); **on** exports every span and metric by "
              f"OTLP/gRPC to a collector in the bench process (`OTEL_TRACES_SAMPLER=always_on`, "
              f"batched by the default `OTEL_BSP_*` settings); **sampled** is the same with "
              f"`OTEL_TRACES_SAMPLER=parentbased_traceidratio`, "
              f"`OTEL_TRACES_SAMPLER_ARG={SAMPLED_RATIO}`, for contrast. {self.clients} "
              f"concurrent gRPC clients (grpc.aio, one channel), each with its own account, "
              f"buy {self.purchases} fresh campaigns per variant per round, each campaign once "
              f"(the uncontended path: 2 reads, 5 writes). {WARM_UP} purchases warm each "
              f"server up first; the rounds alternate the order of the variants. The clients "
              f"and the collector share the bench process, which costs every variant the same "
              f"except for receiving the spans. Server CPU is the server process's user + "
              f"system time (all threads, incl. the span exporter's) during the run.\n")

    def _prepare(self, db: Path) -> float:
        began = time.perf_counter()
        campaigns = WARM_UP * len(VARIANTS) + self.purchases * self.rounds * len(VARIANTS)
        world = asyncio.run(make_world(db, self.clients, campaigns))
        self.users, self.campaigns = world.users, world.campaigns
        return time.perf_counter() - began

    def _rounds(self, servers: dict[str, Server]) -> list[Run]:
        left = list(self.campaigns)

        def take(n: int) -> list[str]:
            taken, left[:] = left[:n], left[n:]
            return taken

        for variant in VARIANTS:
            asyncio.run(drive(servers[variant].target, self.users, take(WARM_UP),
                               Run(variant, 0, WARM_UP)))
        runs = []
        for round_ in range(1, self.rounds + 1):
            order = VARIANTS if round_ % 2 else VARIANTS[::-1]
            for variant in order:
                server, run = servers[variant], Run(variant, round_, self.purchases)
                cpu_before = server.cpu_s()
                asyncio.run(drive(server.target, self.users, take(self.purchases), run))
                cpu_after = server.cpu_s()
                if cpu_before is not None and cpu_after is not None:
                    run.server_cpu_s = cpu_after - cpu_before
                runs.append(run)
        return runs

    def _report(self, runs: list[Run], spans: int, metric_exports: int,
                violations: dict[str, int]) -> bool:
        print("## Purchases per second\n")
        table(["round", "tracing", "purchases", "bought", "other outcomes", "seconds",
                "purchases/s", "p50 ms", "p99 ms", "server CPU ms/purchase"],
               [[str(r.round), r.variant, str(r.purchases), str(r.bought),
                 ", ".join(f"{n} {k}" for k, n in sorted(r.outcomes.items()) if k != "OK")
                 or "0", f"{r.elapsed_s:.2f}", f"{r.per_s:,.0f}", f"{r.latency_ms(50):.2f}",
                 f"{r.latency_ms(99):.2f}", _ms(r.cpu_ms_per_purchase)] for r in runs])
        rate = {v: statistics.median(r.per_s for r in runs if r.variant == v) for v in VARIANTS}
        cpu = {v: _median([r.cpu_ms_per_purchase for r in runs if r.variant == v])
               for v in VARIANTS}
        ratio = rate["on"] / rate["off"] if rate["off"] else 0.0
        print(f"\n## Summary (medians over {self.rounds} round(s))\n")
        rows = []
        base = cpu["off"]
        for v in VARIANTS:
            mine = cpu[v]
            extra = None if mine is None or base is None else mine - base
            rows.append([v, f"{rate[v]:,.0f}", f"{rate[v] / rate['off']:.3f}", _ms(mine),
                         "" if v == "off" else _ms(extra)])
        table(["tracing", "purchases/s", "/ off", "server CPU ms/purchase",
                "extra CPU ms/purchase"], rows)
        verdict = "within the target" if ratio >= TARGET else "**NOT within the target**"
        print(f"\nTracing on (always sampled) / off: **{ratio:.3f}** (target >= {TARGET}): "
              f"{verdict}.")
        traced = WARM_UP + sum(r.purchases for r in runs if r.variant == "on")
        sampled = WARM_UP + sum(r.purchases for r in runs if r.variant == "sampled")
        print(f"\nSpans received: {spans:,} for {traced:,} always-sampled purchases and "
              f"{sampled:,} sampled at {SAMPLED_RATIO} (incl. warm-up); {metric_exports} metric "
              f"exports. Quiescent audit violations: "
              + ", ".join(f"{v} {n}" for v, n in violations.items()) + ".")
        failed = sum(r.purchases - r.bought for r in runs)
        if failed:
            print(f"\n**{failed} purchases did not succeed** (see the other outcomes above).")
        return not failed and not any(violations.values())


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    sys.exit(main())
