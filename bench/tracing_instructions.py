"""What tracing costs a purchase on the event loop, counted in instructions (not a test, not
part of run_all): the same purchases in one process, untraced and traced, each run under
valgrind's callgrind, which counts the instructions executed; unlike seconds, the count is
the same run after run, whatever else the machine is doing (bench/tracing.py's ratio moved
by 0.2 between runs of unchanged code on a shared 2-CPU VM).

Run from the repo root: ``python bench/tracing_instructions.py [--purchases N]`` (valgrind
must be installed; ~3 min). Prints Markdown.

Each variant runs twice, with ``BASE`` purchases and with ``BASE + N``: the difference over
``N`` is the instructions per purchase, without the start-up (imports, the world's set-up).
The purchases are ``journal.buy`` calls through ``services.wiring`` on a fresh sqlite file
(64 campaigns, 16 buyers, the journal's clock 10,000x fast, so every purchase runs the
whole path), each under a SERVER span made as the gRPC interceptor makes it. No gRPC, no
NATS. Variants:

- ``off``: no ``OTEL_*`` settings (the API's no-op tracer, as a server without tracing);
- ``on``: every span made (``always_on``), ended into the batch queue, and dropped by the
  exporter instead of sent: the event loop's share only;
- ``on, encoded``: the same, and the exporter encodes each batch as OTLP (the export
  thread's Python, which shares the interpreter's lock with the loop), still not sent.

With ``--server`` it then counts a real ``abc serve purchase`` (every thread: gRPC, NATS, the
export thread's encoding and sending) under callgrind, untraced and traced (``always_on``,
exported to a collector in this process), driven by bench/tracing.py's 16 gRPC clients,
``SERVER_BASE`` and ``SERVER_BASE + SERVER_PURCHASES`` purchases on fresh campaigns (~2 min
more).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import header, table

if TYPE_CHECKING:
    from tracing import RawCollector

BASE = 100  # purchases in the shorter run of each pair
FLUSH_EVERY = 64  # purchases between two exports: ~512 spans, the default batch's size
DEFAULT_PURCHASES = 300
VARIANTS = ("off", "on", "on, encoded")
SERVER_BASE = 200  # purchases in the shorter server run of each pair
SERVER_PURCHASES = 400
_COLLECTED = re.compile(r"Collected : (\d+)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--purchases", type=int, default=DEFAULT_PURCHASES, metavar="N",
                        help="purchases counted per variant, beyond the shorter run's "
                             f"{BASE} (default %(default)s)")
    parser.add_argument("--server", action="store_true",
                        help=f"also count a real purchase server, off and on ({SERVER_PURCHASES} "
                             f"purchases beyond {SERVER_BASE}; ~2 min more)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PURCHASES"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_purchases(args.child[0], int(args.child[1])))
        return 0
    if args.purchases < 1:
        parser.error("--purchases must be at least 1")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    header("Tracing's cost in instructions", "bench/tracing_instructions.py")
    counts = {variant: _per_purchase(valgrind, variant, args.purchases)
              for variant in VARIANTS}
    off = counts["off"]
    table(["variant", "instructions per purchase", "/ off", "added by tracing"],
          [[variant, f"{n:,.0f}", f"{n / off:.3f}", f"{n - off:+,.0f}" if n != off else ""]
           for variant, n in counts.items()])
    print(f"\n{args.purchases} purchases counted per variant (runs of {BASE} and "
          f"{BASE + args.purchases}).")
    if args.server:
        served = _server_counts(valgrind)
        print("\n## The purchase server, every thread\n")
        table(["variant", "instructions per purchase", "/ off", "added by tracing"],
              [[variant, f"{n:,.0f}", f"{n / served['off']:.3f}",
                f"{n - served['off']:+,.0f}" if variant != "off" else ""]
               for variant, n in served.items()])
        print(f"\n{SERVER_PURCHASES} purchases counted per variant (runs of {SERVER_BASE} and "
              f"{SERVER_BASE + SERVER_PURCHASES}); includes gRPC, NATS and the span export.")
    print(f"\nBench time {time.perf_counter() - started:.0f} s.")
    return 0


def _per_purchase(valgrind: str, variant: str, purchases: int) -> float:
    short, long = (_instructions(valgrind, variant, n) for n in (BASE, BASE + purchases))
    return (long - short) / purchases


def _instructions(valgrind: str, variant: str, purchases: int) -> int:
    """The instructions callgrind counts in a child that makes ``purchases`` purchases."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ABC_", "OTEL_"))}
    env["PYTHONHASHSEED"] = "0"  # the same dict layouts, so the same count, every run
    done = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--child", variant, str(purchases)],
        env=env, capture_output=True, text=True, timeout=1800, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the {variant!r} run failed ({done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    return int(found.group(1))


# --- the server under callgrind -------------------------------------------------------------


def _server_counts(valgrind: str) -> dict[str, float]:
    """Instructions per purchase of a real purchase server, untraced and traced."""
    import tracing  # bench/tracing.py: its world, servers, clients and collector

    from services.lab.cluster import NatsServer

    lengths = (SERVER_BASE, SERVER_BASE + SERVER_PURCHASES)
    with tempfile.TemporaryDirectory(prefix="abc-bench-instructions-") as name:
        tmp = Path(name)
        world_db = tmp / "world.db"
        world = asyncio.run(tracing.make_world(world_db, tracing.CLIENTS, 2 * sum(lengths)))
        nats = NatsServer(tmp / "nats.log").start()
        collector = tracing.RawCollector()
        fresh = iter(world.campaigns)
        try:
            counts = {}
            for variant in ("off", "on"):
                short, long = (
                    _served(valgrind, tmp, world_db, variant, world.users,
                            [next(fresh) for _ in range(n)], nats.url, collector)
                    for n in lengths)
                counts[variant] = (long - short) / SERVER_PURCHASES
        finally:
            nats.stop()
            collector.stop()
    return counts


def _served(valgrind: str, tmp: Path, world_db: Path, variant: str, users: Sequence[str],
            campaigns: list[str], nats_url: str, collector: RawCollector) -> int:
    """The instructions of a server, from its start to its exit, that sold ``campaigns``."""
    import tracing

    db = tmp / f"{variant}-{len(campaigns)}.db"
    shutil.copyfile(world_db, db)
    server = tracing.start_server(
        tmp, variant, db, nats_url, collector,
        wrapper=[valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null"],
        env={"PYTHONHASHSEED": "0"})
    try:
        server.wait_ready(timeout_s=300)  # imports under callgrind take a while
        run = tracing.Run(variant, 1, len(campaigns))
        asyncio.run(tracing.drive(server.target, users, campaigns, run))
        if run.bought != len(campaigns):
            raise SystemExit(f"the {variant} server sold {run.bought} of {len(campaigns)}: "
                             f"{dict(run.outcomes)}")
    finally:
        server.stop(timeout_s=600)  # exports what it still holds, then exits (slowly here)
    found = _COLLECTED.search(server.log.read_text())
    if found is None:
        raise SystemExit(f"no count from the {variant} server:\n"
                         f"{server.log.read_text()[-2000:]}")
    return int(found.group(1))


# --- the child: purchases under callgrind ----------------------------------------------------


async def _purchases(variant: str, purchases: int) -> None:
    if variant != "off":
        # Nothing is sent: the endpoint is only there to switch exporting on. The loop exports
        # on its own thread every FLUSH_EVERY purchases (force_flush), as the export thread
        # would every 512 spans, and no batch is ever due for that thread: the same work
        # at the same points in every run. Keeping every span until the end instead let the
        # heap grow, and the garbage collector's full passes over it made the count depend
        # on what was imported before the telemetry was set up (~70,000 a purchase).
        os.environ.update(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9",
                          OTEL_TRACES_SAMPLER="always_on", OTEL_BSP_SCHEDULE_DELAY="3600000",
                          OTEL_BSP_MAX_QUEUE_SIZE="1000000",
                          OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1000000")
        _drop_exports(encode=variant == "on, encoded")
    import dataclasses

    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    from services.journal import Journal
    from services.lab.loadgen import balance_for, set_up, warped_context
    from services.runtime import setup_telemetry
    from services.runtime._current import make_current, restore
    from services.store import SqliteStore
    from services.wiring import wire

    telemetry = setup_telemetry("abc-purchase")
    tracer, provider = trace.get_tracer("abc.grpc"), trace.get_tracer_provider()
    call = {"rpc.system": "grpc", "rpc.service": "abc.v1.PurchaseService", "rpc.method": "Buy"}
    with tempfile.TemporaryDirectory(prefix="abc-bench-instructions-") as tmp:
        store = await SqliteStore(Path(tmp) / "world.db").open()
        try:
            wired = await wire("bench", store, None, telemetry)
            fast = warped_context(10_000)
            journal = Journal(wired.journal.store, dataclasses.replace(
                wired.journal.context, clock=fast.clock, timing=fast.timing), take_turns=True)
            world = await set_up(journal, 16, 64, balance_for(16))
            for i in range(purchases):
                if variant != "off" and i % FLUSH_EVERY == 0:
                    provider.force_flush()  # type: ignore[attr-defined]
                span = tracer.start_span("/abc.v1.PurchaseService/Buy", kind=SpanKind.SERVER,
                                         attributes=call, record_exception=False,
                                         set_status_on_exception=False)
                token = make_current(span)
                try:
                    await journal.buy(world.users[i % 16], world.campaigns[i % 64], 10**12)
                finally:
                    restore(token)
                    span.set_attribute("rpc.grpc.status_code", 0)
                    span.end()
        finally:
            await store.close()
    # Every span exported (encoded or dropped) here, on this thread; not a shutdown, which
    # would also try to send the metrics to nowhere, retrying for as long as timing decides.
    if variant != "off":
        provider.force_flush()  # type: ignore[attr-defined]


def _drop_exports(encode: bool) -> None:
    """The OTLP exporter drops what it is given (after encoding it, if ``encode``)."""
    from opentelemetry.sdk.trace.export import SpanExportResult

    from services.runtime import _otlp_wire

    def export(self: object, spans: object, *args: object, **kw: object) -> SpanExportResult:
        if encode:
            _otlp_wire.encode_spans(spans)  # type: ignore[arg-type]
        return SpanExportResult.SUCCESS

    _otlp_wire.WireSpanExporter.export = export  # type: ignore[method-assign]


if __name__ == "__main__":
    sys.exit(main())
