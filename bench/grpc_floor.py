"""The floor of gRPC fan-out in Python on this machine (not a test, not part of run_all): a
minimal server-streaming service writes one pre-encoded ~200-byte message to N open streams,
and we measure the server process's CPU per write and the delivery time at the clients.

Run from the repo root: ``python bench/grpc_floor.py [--watchers 1000 5000 10000]
[--variants agen write shared ...] [--fills 5] [--client-processes 2]``. Prints Markdown.

Variants of the server (each in processes of its own, with nothing of Abc in them):

- ``agen``: grpc.aio, the handler an async generator ``yield await queue.get()``, one
  asyncio.Queue per stream (what services/notify does, minus everything else);
- ``write``: grpc.aio, the handler a coroutine ``await context.write(await queue.get())``;
- ``shared``: grpc.aio async generator, no queue per stream: a list of the messages so far,
  each stream its own index into it, waiting on one future shared by all (one
  ``set_result`` wakes all N, which then read the list);
- ``abc``: ``watcher`` on a server made as every Abc server is (``services.runtime.serve``:
  its tracing and auth interceptors, which wrap a stream's generator in another, its
  options, health and reflection); ``traced``: ``watcher`` on a bare server with Abc's
  tracing interceptor only;
- ``agen-set``, ``watcher-set``, ...: the same, the streams written in a set's order (by
  hash: the connections interleaved) instead of the order they opened in;
- ``watcher``: ``agen`` with services/notify's ``Watcher`` (its queue) instead of an
  asyncio.Queue;
- ``uvloop`` / ``uvloop-write``: ``agen`` / ``write`` on uvloop's event loop;
- ``sync``: ``grpc.server`` with a thread pool (a thread per stream), a generator handler
  ``yield queue.get()`` on a ``queue.SimpleQueue``;
- a variant followed by a number K (``agen2``, ``write3``): K processes of it sharing one
  port (gRPC sets SO_REUSEPORT on Linux; the kernel spreads the clients' connections).

Clients: ``--client-processes`` processes of grpc.aio on uvloop, ``PER_CHANNEL`` streams
per channel, each channel its own TCP connection. A message is "fired" by putting its bytes
on each server process's control queue (a multiprocessing queue, read by a thread, handed to
the event loop); delivery time = a client's receive time - the fire time (CLOCK_MONOTONIC,
one clock for every process). Server CPU = user + system from /proc of each server process,
from just before the fire until 0.3 s after every client has it (a write's completion is
handled after its client had the message: read at once, a third and more of the CPU is
missed); client CPU likewise. The clients share the machine's CPUs with the servers, so
delivery times include the clients' own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import queue
import struct
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Generic, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grpc
from _report import (
    cpu_s,
    header,
    load_average,
    pct,
    raise_fd_limit,
    reporting_errors,
    table,
)

from services.notify import Watcher
from services.runtime import ServerConfig, ServerTracing, serve

METHOD = "/floor.Floor/Watch"
PER_CHANNEL = 100
MESSAGE_BYTES = 200
READY = b"ready"  # each stream's first message: it is open
OPTIONS = [("grpc.server.max_pending_requests", 20_000),
           ("grpc.server.max_pending_requests_hard_limit", 40_000)]
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]
ASYNC_KINDS = ("agen", "write", "shared", "uvloop", "uvloop-write")
WAIT_S = 120.0
T = TypeVar("T")


def _message(fill: int) -> bytes:
    """A fill's bytes: its number, padded to MESSAGE_BYTES (encoded once, sent to all)."""
    return struct.pack("<q", fill).ljust(MESSAGE_BYTES, b"x")


# --- the servers ----------------------------------------------------------------------------


class Streams(Generic[T]):
    """The open streams' queues: in the order they were added (a dict's keys), or in a
    set's order (by hash: the connections interleaved)."""

    def __init__(self, ordered: bool) -> None:
        self._items: dict[T, None] | set[T] = {} if ordered else set()

    def add(self, item: T) -> None:
        if isinstance(self._items, dict):
            self._items[item] = None
        else:
            self._items.add(item)

    def discard(self, item: T) -> None:
        if isinstance(self._items, dict):
            self._items.pop(item, None)
        else:
            self._items.discard(item)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)


def _serve(kind: str, port: int, control: Queue[bytes | None],
           ready: Queue[tuple[int, int]]) -> None:
    raise_fd_limit()
    if kind == "sync":
        _serve_sync(port, control, ready)
        return
    if kind.startswith("uvloop"):
        import uvloop
        uvloop.run(_serve_async(kind, port, control, ready))
    else:
        asyncio.run(_serve_async(kind, port, control, ready))


async def _serve_async(kind: str, port: int, control: Queue[bytes | None],
                       ready: Queue[tuple[int, int]]) -> None:
    loop = asyncio.get_running_loop()
    # The streams in the order they opened (a connection's together), or a set's order.
    ordered = not kind.endswith("-set")
    queues: Streams[asyncio.Queue[bytes]] = Streams(ordered)
    watchers: Streams[Watcher] = Streams(ordered)
    sent: list[bytes] = []  # "shared": every message so far, in order
    shared: list[asyncio.Future[None]] = [loop.create_future()]  # done at the next message

    name = kind.removesuffix("-set")

    def opened() -> tuple[Callable[[], Awaitable[bytes]], Callable[[], None]]:
        """A new stream's queue: how to take its next message, how to drop it."""
        if name in ("watcher", "abc", "traced"):
            watcher = Watcher(["c"], lambda _cid: None)  # type: ignore[arg-type, return-value]
            watchers.add(watcher)
            return watcher.next, lambda: watchers.discard(watcher)
        q: asyncio.Queue[bytes] = asyncio.Queue(256)
        queues.add(q)
        return q.get, lambda: queues.discard(q)

    async def agen(_request: bytes, _context: Any) -> Any:
        take, drop = opened()
        try:
            yield READY
            while True:
                yield await take()
        finally:
            drop()

    async def write(_request: bytes, context: Any) -> None:
        take, drop = opened()
        try:
            await context.write(READY)
            while True:
                await context.write(await take())
        finally:
            drop()

    async def on_shared(_request: bytes, _context: Any) -> Any:
        yield READY
        seen = len(sent)
        while True:
            while seen < len(sent):
                seen += 1
                yield sent[seen - 1]
            await asyncio.shield(shared[0])

    handler: Callable[..., Any] = on_shared if name == "shared" else (
        write if name.endswith("write") else agen)

    def fire(message: bytes) -> None:
        if kind == "shared":
            sent.append(message)
            done, shared[0] = shared[0], loop.create_future()
            done.set_result(None)
            return
        for q in queues:
            q.put_nowait(message)
        for watcher in watchers:
            watcher.offer(message)

    def register(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "floor.Floor", {"Watch": grpc.unary_stream_rpc_method_handler(handler)}),))

    if name == "abc":  # as every Abc server is: its interceptors, options, health
        served = await serve(ServerConfig(listen=f"127.0.0.1:{port}"), ["floor.Floor"],
                             register)
        server, bound = served.server, served.port
    else:
        server = grpc.aio.server(options=OPTIONS,
                                 interceptors=[ServerTracing()] if name == "traced" else None)
        register(server)
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
    ready.put((bound, os.getpid()))
    stopped = asyncio.Event()

    def read_control() -> None:
        while (message := control.get()) is not None:
            loop.call_soon_threadsafe(fire, message)
        loop.call_soon_threadsafe(stopped.set)

    threading.Thread(target=read_control, daemon=True).start()
    await stopped.wait()
    await server.stop(0)


def _serve_sync(port: int, control: Queue[bytes | None],
                ready: Queue[tuple[int, int]]) -> None:
    queues: set[queue.SimpleQueue[bytes | None]] = set()
    lock = threading.Lock()

    def watch(_request: bytes, _context: Any) -> Iterator[bytes]:
        q: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        with lock:
            queues.add(q)
        try:
            yield READY
            while (message := q.get()) is not None:
                yield message
        finally:
            with lock:
                queues.discard(q)

    server = grpc.server(ThreadPoolExecutor(max_workers=12_000), options=OPTIONS)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "floor.Floor", {"Watch": grpc.unary_stream_rpc_method_handler(watch)}),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    ready.put((bound, os.getpid()))
    while (message := control.get()) is not None:
        with lock:
            targets = list(queues)
        for q in targets:
            q.put(message)
    with lock:
        for q in queues:
            q.put(None)
    server.stop(0)


# --- the clients ----------------------------------------------------------------------------


def _hold(port: int, n: int, results: Queue[tuple[Any, ...]], done: Any) -> None:
    raise_fd_limit()
    import uvloop
    reporting_errors(lambda: uvloop.run(_hold_async(port, n, results, done)), results)


async def _hold_async(port: int, n: int, results: Queue[tuple[Any, ...]], done: Any) -> None:
    arrivals: dict[int, list[float]] = {}
    opened = 0

    async def read(call: Any) -> None:
        nonlocal opened
        async for message in call:
            if message == READY:
                opened += 1
                continue
            fill = struct.unpack_from("<q", message)[0]
            times = arrivals.setdefault(fill, [])
            times.append(time.monotonic())
            if len(times) == n:
                results.put(("got", fill))

    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        tasks = []
        for first in range(0, n, PER_CHANNEL):
            channel = await stack.enter_async_context(
                grpc.aio.insecure_channel(f"127.0.0.1:{port}", CHANNEL_OPTIONS))
            watch = channel.unary_stream(METHOD, None, None)
            tasks += [asyncio.create_task(read(watch(b"")))
                      for _ in range(min(PER_CHANNEL, n - first))]
            while opened < len(tasks):
                await asyncio.sleep(0.005)
                if any(t.done() for t in tasks):
                    await next(t for t in tasks if t.done())
                    raise RuntimeError("a stream ended before it opened")
                if time.monotonic() - started > WAIT_S:
                    raise TimeoutError(f"{opened} of {n} streams open")
        results.put(("ready", os.getpid()))
        await asyncio.to_thread(done.wait)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    results.put(("arrivals", arrivals))


# --- the driver -----------------------------------------------------------------------------


@dataclass
class Row:
    variant: str
    n: int
    server_cpu_us: list[float]  # per server process, per write (its own writes)
    total_us: float  # all servers' CPU per write
    client_us: float
    p50: float
    p99: float
    last: float
    error: str = ""


def _run(kind: str, n: int, fills: int, client_procs: int) -> Row:
    base, processes = kind.rstrip("0123456789"), 1
    if base != kind:
        processes = int(kind[len(base):])
    ctx = multiprocessing.get_context("spawn")
    ready: Queue[tuple[int, int]] = ctx.Queue()
    results: Queue[tuple[Any, ...]] = ctx.Queue()
    done = ctx.Event()
    controls: list[Queue[bytes | None]] = []
    procs: list[SpawnProcess] = []
    server_pids: list[int] = []
    port = 0
    try:
        for _ in range(processes):
            control: Queue[bytes | None] = ctx.Queue()
            proc = ctx.Process(target=_serve, args=(base, port, control, ready), daemon=True)
            proc.start()
            controls.append(control)
            procs.append(proc)
            port, pid = ready.get(timeout=60)
            server_pids.append(pid)
        shares = [n // client_procs + (1 if i < n % client_procs else 0)
                  for i in range(client_procs)]
        clients = [ctx.Process(target=_hold, args=(port, share, results, done), daemon=True)
                   for share in shares if share]
        for c in clients:
            c.start()
        procs += clients
        client_pids = []
        for _ in clients:
            kind_, *rest = results.get(timeout=WAIT_S * 2)
            if kind_ != "ready":
                return Row(kind, n, [], 0, 0, 0, 0, 0, str(rest[0]))
            client_pids.append(rest[0])
        fired: dict[int, float] = {}
        server_cpu = [0.0] * processes
        client_cpu = 0.0
        for fill in range(fills):
            before = [cpu_s(p) or 0.0 for p in server_pids]
            cbefore = sum(cpu_s(p) or 0.0 for p in client_pids)
            message = _message(fill)
            fired[fill] = time.monotonic()
            for control in controls:
                control.put(message)
            for _ in clients:
                kind_, *rest = results.get(timeout=WAIT_S)
                if kind_ != "got":
                    return Row(kind, n, [], 0, 0, 0, 0, 0, str(rest[0]))
            time.sleep(0.3)  # the writes' completions, after the clients had them: counted
            after = [cpu_s(p) or 0.0 for p in server_pids]
            client_cpu += sum(cpu_s(p) or 0.0 for p in client_pids) - cbefore
            server_cpu = [s + a - b for s, a, b in zip(server_cpu, after, before, strict=True)]
        done.set()
        arrivals: dict[int, list[float]] = {}
        for _ in clients:
            kind_, *rest = results.get(timeout=WAIT_S)
            if kind_ != "arrivals":
                return Row(kind, n, [], 0, 0, 0, 0, 0, str(rest[0]))
            for fill, times in rest[0].items():
                arrivals.setdefault(fill, []).extend(times)
    finally:
        done.set()
        for control in controls:
            control.put(None)
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    lat = [(t - fired[f]) * 1000 for f, times in arrivals.items() for t in times]
    last = [(max(times) - fired[f]) * 1000 for f, times in arrivals.items()]
    per = [c / fills / n * 1e6 for c in server_cpu]
    return Row(kind, n, per, sum(per), client_cpu / fills / n * 1e6,
               pct(lat, 50), pct(lat, 99), sum(last) / len(last))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--watchers", type=int, nargs="+", default=[1000, 5000, 10_000])
    parser.add_argument("--variants", nargs="+",
                        default=["agen", "write", "shared", "uvloop", "sync", "agen2",
                                 "uvloop2"])
    parser.add_argument("--fills", type=int, default=5)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat the whole grid, interleaved (noise shows as ranges)")
    args = parser.parse_args()
    header("gRPC fan-out floor", "bench/grpc_floor.py",
           f"; grpcio {grpc.__version__}; load average {load_average()} at the start")
    print(f"One {MESSAGE_BYTES}-byte message written to N streams, {args.fills} times per "
          f"cell; {args.client_processes} client processes (uvloop), {PER_CHANNEL} streams "
          "per channel. `server us/write`: server CPU (all its processes) per stream per "
          "message; `per process`: each server process's CPU over the N writes of all "
          "processes, per stream (the processes split the streams); `client us/read`: the "
          "clients' CPU per stream per message. Delivery from the fire.\n")
    raise_fd_limit()
    rows = []
    for round_ in range(args.rounds):
        for n in args.watchers:
            for variant in args.variants:
                row = _run(variant, n, args.fills, args.client_processes)
                rows.append([str(round_ + 1), variant, f"{n:,}", f"{row.total_us:.1f}",
                             " + ".join(f"{u:.1f}" for u in row.server_cpu_us) or "-",
                             f"{row.client_us:.1f}", f"{row.p50:.1f}", f"{row.p99:.1f}",
                             f"{row.last:.1f}", row.error or "ok", load_average()])
                print(f"<!-- {rows[-1]} -->", flush=True)
    table(["round", "variant", "N", "server us/write", "per process", "client us/read",
           "p50 ms", "p99 ms", "last ms", "result", "load avg"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
