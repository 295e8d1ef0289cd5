"""Benchmark of the web gateway's live fan-out (not a test): one gateway process, K browsers'
SSE streams of one campaign, and the time from a purchase to each of them receiving its fill.
Prints Markdown; run from the repo root: ``python bench/gateway_fanout.py [--quick]``.

Every part runs in a process of its own, as deployed: a nats-server, the purchase service,
notify, the gateway (``abc serve gateway``, as deployed), and one
more process holding the K SSE streams (plain sockets reading ``text/event-stream``, as a
browser's EventSource does). This process buys over gRPC. Times are ``time.monotonic()``,
CLOCK_MONOTONIC on Linux: one clock for every process on the machine, so a receive time in
the client process minus a Buy-returned time here is a latency. notify's count of Watch
streams is read inside the notify process (its hub's watchers), not inferred.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Run as a plain script: the repo root on the import path (spawned processes run this too).
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

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.journal import MAX_MONEY
from services.lab.cluster import NatsServer, clean_env, free_port
from services.notify import NotifyConfig, start_notify
from services.purchase import PurchaseConfig, start_purchase
from services.runtime import ServerConfig

if TYPE_CHECKING:  # the async stub exists in the generated .pyi only
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as BuyStub

LOCAL = ServerConfig(listen="127.0.0.1:0")
OPEN_AT_ONCE = 100  # streams opened concurrently by the client process
WAIT_S = 120.0  # for any one step: a hang guard, not a measure
DEFAULT_CLIENTS, DEFAULT_FILLS, QUICK_FILLS = (100, 1000), 10, 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run (fewer fills)")
    parser.add_argument("--clients", type=int, nargs="+", default=list(DEFAULT_CLIENTS),
                        metavar="K", help="SSE clients per run (default 100 1000)")
    parser.add_argument("--fills", type=int, default=None, metavar="N",
                        help=f"fills per run (default {DEFAULT_FILLS}, {QUICK_FILLS} with "
                             "--quick)")
    args = parser.parse_args()
    fills = args.fills or (QUICK_FILLS if args.quick else DEFAULT_FILLS)
    header("Gateway fan-out benchmark", "bench/gateway_fanout.py",
           f"; load average {load_average()} at the start")
    raise_fd_limit()
    print(f"One gateway process; K SSE clients of one campaign in one more process; {fills} "
          "purchases per K, each once the previous fill reached all K clients, 0.2 s apart. "
          "Latency = a client's receive time - the moment Buy returned (over K x fills "
          "values); `last client` = until the fill reached all K (p50 and max over the fills). "
          "`gateway CPU` = the gateway process's CPU time (user + system, /proc) while the "
          "fills went out, per fill. `notify Watches` = the Watch streams notify's hub holds "
          "for the campaign while the K clients are connected (must be 1).\n")
    rows = []
    with tempfile.TemporaryDirectory(prefix="abc-bench-gateway-") as tmp, \
            _system(Path(tmp)) as system:
        for k in args.clients:
            rows.append(asyncio.run(_run(system, k, fills)))
    table(["SSE clients", "open s", "fills", "p50 ms", "p99 ms", "last client p50 ms",
           "last client max ms", "gateway CPU per fill ms", "notify Watches", "result"], rows)
    failed = [row for row in rows if row[-1] != "ok"]
    print(f"\nLoad average at the end: {load_average()}.")
    return 1 if failed else 0


# --- the system, each service in a process of its own --------------------------------------


@dataclass(frozen=True)
class _System:
    purchase: int
    gateway_url: str
    gateway_pid: int
    watchers: Queue[str | None]  # ask notify: a campaign id (None: stop answering)
    counted: Queue[int]  # notify's answers: its Watch streams of that campaign


@contextlib.contextmanager
def _system(tmp: Path) -> Iterator[_System]:
    nats = NatsServer(tmp / "nats.log").start()
    url = f"sqlite:///{(tmp / 'abc.db').resolve()}"
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    ready: Queue[tuple[str, int]] = ctx.Queue()
    asks: Queue[str | None] = ctx.Queue()
    answers: Queue[int] = ctx.Queue()
    procs: list[SpawnProcess] = []
    gateway: subprocess.Popen[bytes] | None = None
    try:
        ports: dict[str, int] = {}
        for kind in ("purchase", "notify"):  # purchase first: it makes the store's schema
            procs.append(ctx.Process(target=_serve, args=(kind, url, nats.url, ready, stop,
                                                          asks, answers), daemon=True))
            procs[-1].start()
            name, port = ready.get(timeout=60)
            ports[name] = port
        gateway, gateway_url = _gateway(ports["purchase"], ports["notify"], tmp)
        _wait_healthy(gateway_url)
        yield _System(ports["purchase"], gateway_url, gateway.pid, asks, answers)
    finally:
        if gateway is not None:
            gateway.terminate()
            try:
                gateway.wait(10)
            except subprocess.TimeoutExpired:
                gateway.kill()
                gateway.wait()
        stop.set()
        asks.put(None)
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        nats.stop()


def _serve(kind: str, url: str, nats_url: str, ready: Queue[tuple[str, int]], stop: Event,
           asks: Queue[str | None], answers: Queue[int]) -> None:
    logging.disable(logging.WARNING)  # "serving OPEN" and NATS goodbyes: not bench output
    asyncio.run(_serve_async(kind, url, nats_url, ready, stop, asks, answers))


async def _serve_async(kind: str, url: str, nats_url: str, ready: Queue[tuple[str, int]],
                       stop: Event, asks: Queue[str | None], answers: Queue[int]) -> None:
    if kind == "purchase":
        purchase = await start_purchase(PurchaseConfig(url, nats_url, LOCAL))
        ready.put((kind, purchase.port))
        await asyncio.to_thread(stop.wait)
        await purchase.stop(1.0)
        return
    notify = await start_notify(NotifyConfig(url, nats_url, LOCAL))
    while not notify.hub.events_trusted:
        await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()

    async def watchers_of(cid: str) -> int:
        feed = notify.hub.feeds.get(cid)
        return 0 if feed is None else len(feed.watchers)

    def answer() -> None:  # on a thread: reads the hub on its own loop
        while (cid := asks.get()) is not None:
            answers.put(asyncio.run_coroutine_threadsafe(watchers_of(cid), loop).result())

    threading.Thread(target=answer, daemon=True).start()
    ready.put((kind, notify.port))
    await asyncio.to_thread(stop.wait)
    await notify.stop(1.0)


def _gateway(purchase: int, notify: int, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``abc serve gateway`` (as deployed), started: the process and its URL."""
    listen = f"127.0.0.1:{free_port()}"
    with (tmp / "gateway.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "gateway", "--listen", listen,
             "--purchase", f"127.0.0.1:{purchase}", "--notify", f"127.0.0.1:{notify}"],
            env=clean_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://{listen}"


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


# --- one run: K clients, a few fills --------------------------------------------------------


async def _run(system: _System, k: int, fills: int) -> list[str]:
    cid = f"fan{k}"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{system.purchase}") as channel:
        stub: BuyStub = purchase_pb2_grpc.PurchaseServiceStub(channel)
        await _world(stub, cid)
        ctx = multiprocessing.get_context("spawn")
        results: Queue[tuple[Any, ...]] = ctx.Queue()
        done = ctx.Event()
        proc = ctx.Process(target=_clients, args=(system.gateway_url, cid, k, results, done),
                           daemon=True)
        proc.start()
        try:
            return await _drive(system, stub, cid, k, fills, results, done)
        finally:
            done.set()
            await asyncio.to_thread(proc.join, 30)
            if proc.is_alive():
                proc.kill()


async def _world(stub: BuyStub, cid: str) -> None:
    for uid in ("owner", "buyer"):
        with contextlib.suppress(grpc.aio.AioRpcError):  # made by an earlier run: fine
            await stub.CreateAccount(pb.CreateAccountRequest(user_id=uid))
    with contextlib.suppress(grpc.aio.AioRpcError):
        await stub.Deposit(pb.DepositRequest(user_id="buyer", deposit_id="d", amount=10**14))
    await stub.CreateCampaign(pb.CreateCampaignRequest(
        campaign_id=cid, owner_id="owner", min_price=1, slot_seconds=1))


async def _drive(system: _System, stub: BuyStub, cid: str, k: int, fills: int,
                 results: Queue[tuple[Any, ...]], done: Event) -> list[str]:
    def get() -> tuple[Any, ...]:
        try:
            return results.get(timeout=WAIT_S)
        except queue.Empty:
            return ("error", f"nothing from the client process within {WAIT_S:.0f} s")

    def failed(why: str) -> list[str]:
        return [f"{k:,}", "-", "-", "-", "-", "-", "-", "-", "-", f"failed: {why}"]

    kind, *rest = await asyncio.to_thread(get)
    if kind != "ready":
        return failed(rest[0])
    open_s = rest[0]
    system.watchers.put(cid)
    watches = await asyncio.to_thread(system.counted.get, True, WAIT_S)
    returned: dict[int, float] = {}
    cpu = 0.0
    for _ in range(fills):
        before = cpu_s(system.gateway_pid)
        response = await stub.Buy(pb.BuyRequest(user_id="buyer", campaign_id=cid,
                                                max_price=MAX_MONEY))
        returned[response.slot.slot] = time.monotonic()
        kind, *rest = await asyncio.to_thread(get)
        if kind != "got":
            return failed(rest[0])
        after = cpu_s(system.gateway_pid)
        if before is not None and after is not None:
            cpu += after - before
        await asyncio.sleep(0.2)
    done.set()
    kind, *rest = await asyncio.to_thread(get)
    if kind != "arrivals":
        return failed(rest[0])
    arrivals: dict[int, list[float]] = rest[0]
    lat = [(t - returned[slot]) * 1000 for slot, times in arrivals.items() for t in times]
    last = [(max(times) - returned[slot]) * 1000 for slot, times in arrivals.items()]
    verdict = "ok" if watches == 1 else f"failed: {watches} Watches, want 1"
    return [f"{k:,}", f"{open_s:.1f}", str(len(arrivals)), _ms(pct(lat, 50)),
            _ms(pct(lat, 99)), _ms(pct(last, 50)), _ms(max(last)), _ms(cpu / fills * 1000),
            str(watches), verdict]


def _ms(value: float) -> str:
    return f"{value:.1f}"


# --- the client process: K EventSource-like readers ----------------------------------------


def _clients(url: str, cid: str, k: int, results: Queue[tuple[Any, ...]], done: Event) -> None:
    raise_fd_limit()
    reporting_errors(lambda: asyncio.run(_clients_async(url, cid, k, results, done)), results)


async def _clients_async(url: str, cid: str, k: int, results: Queue[tuple[Any, ...]],
                         done: Event) -> None:
    host, port = url.removeprefix("http://").split(":")
    arrivals: dict[int, list[float]] = {}
    opened = 0
    all_open = asyncio.Event()

    async def follow(gate: asyncio.Semaphore) -> None:
        nonlocal opened
        async with gate:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET /campaigns/{cid}/events HTTP/1.1\r\nHost: {host}\r\n"
                         "Accept: text/event-stream\r\n\r\n".encode())
            while (line := await reader.readline()) != b"event: snapshot\n":
                if not line:
                    raise ConnectionError("the stream ended before its snapshot")
        opened += 1
        if opened == k:
            all_open.set()
        slot = 0
        while line := await reader.readline():  # "id: N", then "event: fill", then data
            if line.startswith(b"id: "):
                slot = int(line[4:])
            elif line == b"event: fill\n":
                times = arrivals.setdefault(slot, [])
                times.append(time.monotonic())
                if len(times) == k:
                    results.put(("got", slot))

    started = time.monotonic()
    gate = asyncio.Semaphore(OPEN_AT_ONCE)
    tasks = [asyncio.create_task(follow(gate)) for _ in range(k)]
    waiting = asyncio.ensure_future(all_open.wait())
    await asyncio.wait([waiting, *tasks], return_when=asyncio.FIRST_COMPLETED, timeout=WAIT_S)
    broken = [t for t in tasks if t.done() and t.exception() is not None]
    if broken or not all_open.is_set():
        why = broken[0].exception() if broken else f"{opened} of {k} open"
        results.put(("error", f"opening the streams: {why}"))
        return
    results.put(("ready", time.monotonic() - started))
    await asyncio.to_thread(done.wait)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    results.put(("arrivals", arrivals))


if __name__ == "__main__":
    sys.exit(main())
