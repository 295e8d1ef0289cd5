"""Benchmark of the notify service (not a test): fill-to-watcher latency with NATS events and
with store polling only, and the fan-out of one fill to 100, 1,000 and 10,000 watchers.
Prints Markdown; run from the repo root: ``python bench/notify.py [--quick]``.

Every service runs in a process of its own, as deployed: a nats-server, the purchase service,
a notify service on NATS, a notify service without NATS (polling only), all on one sqlite
file; this process buys and watches over real gRPC. The fan-out watchers live in one more
process. Times are ``time.monotonic()``, CLOCK_MONOTONIC on Linux: one clock for every process
on the machine, so a receive time in the watcher process minus a Buy-returned time here is a
latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import multiprocessing
import queue
import random
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import TYPE_CHECKING, Any

# Run as a plain script (``python bench/notify.py``, no PYTHONPATH, no install): put the repo
# root on the import path so ``services`` is found; spawned worker processes run this too.
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

from services.api.abc.v1 import notify_pb2, notify_pb2_grpc, purchase_pb2_grpc
from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import MAX_MONEY
from services.lab.cluster import NatsServer
from services.lab.loadgen import audit_url
from services.notify import NotifyConfig, start_notify
from services.purchase import PurchaseConfig, start_purchase
from services.runtime import ServerConfig

if TYPE_CHECKING:  # the async stubs exist in the generated .pyi only
    from services.api.abc.v1.notify_pb2_grpc import NotifyServiceAsyncStub as NotifyStub
    from services.api.abc.v1.purchase_pb2_grpc import PurchaseServiceAsyncStub as BuyStub

PER_CHANNEL = 100  # Watch streams per grpc.aio channel (each its own TCP connection)
CHANNEL_OPTIONS = [("grpc.use_local_subchannel_pool", 1)]
BUYS_PER_CAMPAIGN = 10  # the price doubles with each queued slot: spread buys over campaigns
WAIT_S = 30.0  # for any one fill to arrive anywhere: a hang guard, not a measure

DEFAULT_PURCHASES, QUICK_PURCHASES = 200, 30
DEFAULT_WATCHERS, QUICK_WATCHERS = (100, 1000, 10_000), (100, 1000)
DEFAULT_FILLS, QUICK_FILLS = 5, 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    parser.add_argument("--purchases", type=int, default=None, metavar="N",
                        help=f"purchases in the latency run (default {DEFAULT_PURCHASES}, "
                             f"{QUICK_PURCHASES} with --quick)")
    parser.add_argument("--watchers", type=int, nargs="+", default=None, metavar="N",
                        help="fan-out sizes (default 100 1000 10000; 100 1000 with --quick)")
    parser.add_argument("--fills", type=int, default=None, metavar="N",
                        help=f"fills per fan-out size (default {DEFAULT_FILLS}, "
                             f"{QUICK_FILLS} with --quick)")
    parser.add_argument("--notify-processes", type=int, default=1, metavar="K",
                        help="notify processes on NATS sharing one port (SO_REUSEPORT: the "
                             "kernel spreads the watchers' connections); default 1")
    parser.add_argument("--watcher-processes", type=int, default=1, metavar="W",
                        help="processes holding the fan-out's watchers, N/W each (default "
                             "1): one Python process reading N messages per fill is slower "
                             "than the notify side")
    args = parser.parse_args()
    purchases = args.purchases or (QUICK_PURCHASES if args.quick else DEFAULT_PURCHASES)
    sizes: Sequence[int] = args.watchers or (QUICK_WATCHERS if args.quick else DEFAULT_WATCHERS)
    fills = args.fills or (QUICK_FILLS if args.quick else DEFAULT_FILLS)

    started = time.perf_counter()
    header("Notify benchmark", "bench/notify.py",
           f"; grpcio {grpc.__version__}; load average {load_average()} at the start (other "
           "work on the machine shows up in the tails)")
    raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="abc-bench-notify-") as tmp, \
            _services(Path(tmp), args.notify_processes) as ports:
        asyncio.run(_latency_section(ports, purchases))
        _fanout_section(ports, sizes, fills, args.watcher_processes)
        violations = len(asyncio.run(audit_url(_url(Path(tmp)), quiescent=True)))
    print(f"\nLoad average at the end: {load_average()}. Quiescent audit of the store after the "
          f"run: **{violations}** violation(s). Bench time {time.perf_counter() - started:.1f} s.")
    return 1 if violations else 0


# --- the services, each in a process of its own --------------------------------------------


def _url(tmp: Path) -> str:
    return f"sqlite:///{(tmp / 'abc.db').resolve()}"


@dataclass(frozen=True)
class _Notify:
    """One notify process on NATS: its pid, and how many watchers it holds (it says)."""

    pid: int
    watchers: Synchronized[int]


@dataclass(frozen=True)
class _Ports:
    purchase: int
    events: int  # notify on NATS: one port, however many processes
    polling: int  # notify without NATS
    events_processes: list[_Notify]


@contextlib.contextmanager
def _services(tmp: Path, notify_processes: int) -> Iterator[_Ports]:
    """The services; the ``notify_processes`` notify processes on NATS share one port (the
    first binds port 0, the others the port it got: gRPC sets SO_REUSEPORT on Linux)."""
    nats = NatsServer(tmp / "nats.log").start()
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    ready: Queue[tuple[str, int]] = ctx.Queue()
    procs: list[SpawnProcess] = []
    events: list[_Notify] = []

    def start(kind: str, nats_url: str | None, port: int = 0,
              watchers: Synchronized[int] | None = None) -> int:
        proc = ctx.Process(target=_serve, args=(kind, _url(tmp), nats_url, port, watchers,
                                                ready, stop), daemon=True)
        procs.append(proc)
        proc.start()
        got, found = ready.get(timeout=60)
        assert got == kind and proc.pid is not None
        if watchers is not None:
            events.append(_Notify(proc.pid, watchers))
        return found

    try:
        purchase = start("purchase", nats.url)  # it creates the store's schema first
        port = 0
        for _ in range(notify_processes):
            port = start("events", nats.url, port, ctx.Value("i", 0))
        yield _Ports(purchase, port, start("polling", None), events)
    finally:
        stop.set()
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        nats.stop()


def _serve(kind: str, url: str, nats_url: str | None, port: int,
           watchers: Synchronized[int] | None, ready: Queue[tuple[str, int]],
           stop: Event) -> None:
    logging.disable(logging.WARNING)  # "serving OPEN" and NATS goodbyes: not bench output
    raise_fd_limit()
    asyncio.run(_serve_async(kind, url, nats_url, port, watchers, ready, stop))


async def _serve_async(kind: str, url: str, nats_url: str | None, port: int,
                       watchers: Synchronized[int] | None, ready: Queue[tuple[str, int]],
                       stop: Event) -> None:
    server = ServerConfig(listen=f"127.0.0.1:{port}")
    if kind == "purchase":
        purchase = await start_purchase(PurchaseConfig(url, nats_url, server))
        assert purchase.wiring.link is not None and await purchase.wiring.link.wait_connected(30)
        port, stopper = purchase.port, purchase.stop
    else:
        notify = await start_notify(NotifyConfig(url, nats_url, server))
        while notify.wiring.link is not None and not notify.hub.events_trusted:
            await asyncio.sleep(0.01)
        port, stopper = notify.port, notify.stop
    ready.put((kind, port))
    while not stop.is_set():
        await asyncio.sleep(0.1)
        if watchers is not None:  # for the bench's CPU per watcher of each process
            watchers.value = sum(len(f.watchers) for f in notify.hub.feeds.values())
    await stopper(1.0)


# --- a world to buy in ---------------------------------------------------------------------


async def _world(stub: BuyStub, campaigns: Sequence[str]) -> None:
    for uid in ("owner", "buyer"):
        with contextlib.suppress(grpc.aio.AioRpcError):  # exists already: fine
            await stub.CreateAccount(pb.CreateAccountRequest(user_id=uid))
    with contextlib.suppress(grpc.aio.AioRpcError):
        await stub.Deposit(pb.DepositRequest(user_id="buyer", deposit_id="d", amount=10**14))
    for cid in campaigns:
        await stub.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id=cid, owner_id="owner", min_price=1, slot_seconds=1))


async def _buy(stub: BuyStub, cid: str) -> tuple[int, float, float]:
    """Buy the next slot of ``cid``: its number, when the call was sent, when it returned."""
    sent = time.monotonic()
    response = await stub.Buy(pb.BuyRequest(user_id="buyer", campaign_id=cid,
                                            max_price=MAX_MONEY))
    return response.slot.slot, sent, time.monotonic()


@contextlib.asynccontextmanager
async def _channel(port: int) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", CHANNEL_OPTIONS) as channel:
        yield channel


# --- 1. latency: events vs polling ---------------------------------------------------------


class _Arrivals:
    """A Watch stream read in the background: when each (campaign, slot) fill arrived."""

    def __init__(self, stub: NotifyStub, campaigns: Sequence[str]) -> None:
        self.at: dict[tuple[str, int], float] = {}
        self.sources: dict[str, int] = {}
        self.snapshots = 0
        self._changed = asyncio.Event()
        self._call = stub.Watch(notify_pb2.WatchRequest(campaigns=[
            notify_pb2.WatchedCampaign(campaign_id=cid) for cid in campaigns]))
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
            async for update in self._call:
                if update.HasField("fill"):
                    self.at[(update.fill.campaign_id, update.fill.slot)] = time.monotonic()
                    self.sources[update.source] = self.sources.get(update.source, 0) + 1
                else:
                    self.snapshots += 1
                self._changed.set()

    async def wait(self, key: tuple[str, int] | None = None, snapshots: int = 0) -> None:
        async def until() -> None:
            while (key is not None and key not in self.at) or self.snapshots < snapshots:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until(), WAIT_S)

    async def close(self) -> None:
        self._call.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _latency_section(ports: _Ports, purchases: int) -> None:
    n_campaigns = math.ceil(purchases / BUYS_PER_CAMPAIGN)
    campaigns = [f"lat{n}" for n in range(n_campaigns)]
    print("## 1. Fill-to-watcher latency: NATS events vs store polling\n")
    print(f"{purchases} purchases, one at a time, round-robin over {n_campaigns} campaigns "
          "(the price doubles with each queued slot, so no campaign takes more than "
          f"{BUYS_PER_CAMPAIGN}). One Watch of all of them on each notify service: `events` "
          "(on NATS) and `polling` (no NATS URL: the store is read every 100 ms). Both watch "
          "the same purchases. Latency = the watcher's receive time - the moment Buy "
          "returned to the buyer (negative: the fill beat the Buy response). After each "
          "purchase both fills are awaited, then a random 0-100 ms pause, so purchases fall "
          "at random points of the poll cycle.\n")
    async with _channel(ports.purchase) as pc, _channel(ports.events) as ec, \
            _channel(ports.polling) as lc:
        buy_stub: BuyStub = purchase_pb2_grpc.PurchaseServiceStub(pc)
        await _world(buy_stub, campaigns)
        watchers = {"events": _Arrivals(notify_pb2_grpc.NotifyServiceStub(ec), campaigns),
                    "polling": _Arrivals(notify_pb2_grpc.NotifyServiceStub(lc), campaigns)}
        for w in watchers.values():
            await w.wait(snapshots=n_campaigns)
        returned: dict[tuple[str, int], float] = {}
        calls: list[float] = []
        rng = random.Random(7)
        for i in range(purchases):
            cid = campaigns[i % n_campaigns]
            slot, sent, back = await _buy(buy_stub, cid)
            returned[(cid, slot)] = back
            calls.append(back - sent)
            for w in watchers.values():
                await w.wait((cid, slot))
            await asyncio.sleep(rng.uniform(0, 0.1))
        rows, p99 = [], {}
        for mode, w in watchers.items():
            lat = [(w.at[k] - t) * 1000 for k, t in returned.items()]
            p99[mode] = pct(lat, 99)
            rows.append([mode, str(len(lat)), _ms(pct(lat, 50)), _ms(pct(lat, 90)),
                         _ms(p99[mode]),
                         _ms(max(lat)), _ms(min(lat)),
                         ", ".join(f"{n} {s}" for s, n in sorted(w.sources.items()))])
            await w.close()
    table(["notify", "fills", "p50 ms", "p90 ms", "p99 ms", "max ms", "min ms", "by source"],
           rows)
    ratio = p99["polling"] / p99["events"] if p99["events"] > 0 else math.inf
    print(f"\nPolling p99 / event p99 = **{ratio:.1f}x** (target: at least 20x: "
          f"{'met' if ratio >= 20 else 'NOT met'}). Buy call itself: p50 "
          f"{_ms(pct([c * 1000 for c in calls], 50))} ms, p99 "
          f"{_ms(pct([c * 1000 for c in calls], 99))} ms.\n")


# --- 2. fan-out to 100 .. 10,000 watchers --------------------------------------------------


def _fanout_section(ports: _Ports, sizes: Sequence[int], fills: int, holders: int) -> None:
    processes = len(ports.events_processes)
    print("## 2. Fan-out: one fill to N watchers of one campaign\n")
    print(f"{processes} notify process(es) on NATS sharing one port (the kernel spreads the "
          f"connections); {holders} more process(es) hold N Watch streams of one "
          f"campaign (N/{holders} each) over ceil(N/{PER_CHANNEL}) grpc.aio channels "
          f"({PER_CHANNEL} streams each, each channel its own TCP connection). {fills} "
          "purchases per N, each once "
          "the previous fill reached every watcher. Latency = each watcher's receive time - "
          "the moment Buy returned, over all watchers and fills (N x fills values); `last "
          "watcher` is the time until the fill reached all N (mean over the fills). Open = "
          f"until all N streams had their snapshot ({PER_CHANNEL} opened at a time). `notify CPU "
          "per fill`: the notify processes' CPU time (user + system, from /proc) from the "
          "Buy until 0.2 s after the last watcher had the fill, per fill, all processes; "
          "per watcher, and per process over the watchers it held. Target: 10,000 "
          "watchers within 100 ms at p99, at most 15 us of notify CPU per watcher per "
          "fill.\n")
    rows = []
    for n in sizes:
        row = asyncio.run(_fanout(ports, n, fills, holders))
        rows.append(row)
        if row[-1].startswith("failed"):
            break
    table(["watchers", "open s", "fills", "p50 ms", "p99 ms", "max ms", "last watcher ms",
            "notify CPU per fill ms", "notify CPU per watcher per fill us",
            "per process us (watchers held)", "watcher processes CPU s",
            "watcher processes RSS MiB", "result"], rows)
    per_watcher = [float(row[8]) for row in rows if row[8] != "-"]
    if per_watcher:
        us = max(per_watcher[-1], 1e-3)  # the largest N: the per-stream cost, overhead spread
        print(f"\nWhere the time goes: notify spends about {us:.0f} us of CPU per watcher per "
              f"fill (largest N, all its processes), writing one gRPC message to each stream "
              f"(target: at most 15 us), so {processes} notify process(es) can push a fill to "
              f"about {100_000 * processes / us:,.0f} watchers within 100 ms at best, if each "
              "had a CPU of its own, before the watcher process (also Python, reading N "
              "messages) and the other processes on these CPUs take their share. "
              "`python bench/grpc_floor.py` measures the floor: a bare grpc.aio server.\n")


async def _fanout(ports: _Ports, n: int, fills: int, holders: int) -> list[str]:
    """Fan-out to ``n`` watchers held by ``holders`` processes (as even a split as can be)."""
    cid = f"fan{n}"
    ctx = multiprocessing.get_context("spawn")
    results: Queue[tuple[Any, ...]] = ctx.Queue()
    done = ctx.Event()
    shares = [share for i in range(holders)
              if (share := n // holders + (1 if i < n % holders else 0))]
    procs: list[SpawnProcess] = [
        ctx.Process(target=_hold, args=(ports.events, cid, share, results, done), daemon=True)
        for share in shares]
    async with _channel(ports.purchase) as pc:
        buy_stub: BuyStub = purchase_pb2_grpc.PurchaseServiceStub(pc)
        await _world(buy_stub, [cid])
        for proc in procs:
            proc.start()
        try:
            return await _drive(buy_stub, cid, n, fills, _Holders(results, len(procs)), done,
                                ports.events_processes)
        finally:
            done.set()
            for proc in procs:
                await asyncio.to_thread(proc.join, 30)
                if proc.is_alive():
                    proc.kill()


@dataclass(frozen=True)
class _Holders:
    """What the watcher processes say, all of them at a time."""

    results: Queue[tuple[Any, ...]]
    count: int

    async def each(self, expected: str, timeout: float) -> list[list[Any]] | str:
        """Every process's ``expected`` message (its fields), or what went wrong."""
        said = []
        for _ in range(self.count):
            try:
                kind, *rest = await asyncio.to_thread(self.results.get, timeout=timeout)
            except queue.Empty:
                return f"nothing from a watcher process within {timeout:.0f} s"
            if kind != expected:
                return str(rest[0])
            said.append(rest)
        return said


async def _drive(buy_stub: BuyStub, cid: str, n: int, fills: int, holders: _Holders,
                 done: Event, notify: Sequence[_Notify]) -> list[str]:
    ready = await holders.each("ready", 300)
    if isinstance(ready, str):
        return _failed(f"{n:,}", "-", ready)
    open_s = max(said[0] for said in ready)
    returned: dict[int, float] = {}
    notify_cpu = [0.0] * len(notify)
    for _ in range(fills):
        cpu_before = [cpu_s(p.pid) for p in notify]
        slot, _sent, back = await _buy(buy_stub, cid)
        returned[slot] = back
        got = await holders.each("got", 120)
        if isinstance(got, str):
            return _failed(f"{n:,}", f"{open_s:.1f}", got)
        # The CPU after a pause: a write's completion is handled after the watcher had it
        # (a third of it and more at 5,000 watchers, bench/grpc_floor.py found), so CPU read
        # at once would miss it.
        await asyncio.sleep(0.2)
        for i, (p, before) in enumerate(zip(notify, cpu_before, strict=True)):
            after = cpu_s(p.pid)
            if before is not None and after is not None:  # Linux: /proc
                notify_cpu[i] += after - before
    held = [p.watchers.value for p in notify]  # each says how many it holds (every 0.1 s)
    done.set()
    said = await holders.each("arrivals", 120)
    if isinstance(said, str):
        return _failed(f"{n:,}", f"{open_s:.1f}", said)
    arrivals: dict[int, list[float]] = {}
    for times_by_slot, _cpu, _rss in said:
        for slot, times in times_by_slot.items():
            arrivals.setdefault(slot, []).extend(times)
    watcher_cpu_s, rss_mib = sum(x[1] for x in said), sum(x[2] for x in said)
    lat = [(t - returned[slot]) * 1000 for slot, times in arrivals.items() for t in times]
    last = [(max(times) - returned[slot]) * 1000 for slot, times in arrivals.items()]
    p99 = pct(lat, 99)
    verdict = ("" if n < 10_000 else
               "target met" if p99 <= 100 else "target NOT met (p99 > 100 ms)")
    per_process = " + ".join(
        f"{cpu / fills / max(h, 1) * 1e6:.0f} ({h:,})" for cpu, h in zip(notify_cpu, held,
                                                                         strict=True))
    return [f"{n:,}", f"{open_s:.1f}", str(len(arrivals)), _ms(pct(lat, 50)), _ms(p99),
            _ms(max(lat)), _ms(sum(last) / len(last)), _ms(sum(notify_cpu) / fills * 1000),
            f"{sum(notify_cpu) / fills / n * 1e6:.1f}", per_process,
            f"{watcher_cpu_s:.1f}", f"{rss_mib:.0f}", verdict or "ok"]


def _failed(n: str, open_s: str, why: str) -> list[str]:
    return [n, open_s, *["-"] * 10, f"failed: {why}"]


def _hold(port: int, cid: str, n: int, results: Queue[tuple[Any, ...]], done: Event) -> None:
    """The watcher process: ``n`` Watch streams of ``cid``; reports "ready", "got" per fill
    that reached all of them, and at the end every receive time per slot."""
    raise_fd_limit()
    reporting_errors(lambda: asyncio.run(_hold_async(port, cid, n, results, done)), results)


async def _hold_async(port: int, cid: str, n: int, results: Queue[tuple[Any, ...]],
                      done: Event) -> None:
    arrivals: dict[int, list[float]] = {}
    snapshots = 0
    all_in = asyncio.Event()

    async def read(call: grpc.aio.UnaryStreamCall[notify_pb2.WatchRequest,
                                                  notify_pb2.WatchUpdate]) -> None:
        nonlocal snapshots
        async for update in call:
            if update.HasField("fill"):
                times = arrivals.setdefault(update.fill.slot, [])
                times.append(time.monotonic())
                if len(times) == n:
                    results.put(("got", update.fill.slot))
            else:
                snapshots += 1
                if snapshots == n:
                    all_in.set()

    started = time.monotonic()
    request = notify_pb2.WatchRequest(campaigns=[notify_pb2.WatchedCampaign(campaign_id=cid)])
    async with contextlib.AsyncExitStack() as stack:
        tasks = []
        for first in range(0, n, PER_CHANNEL):
            # A channel's streams at a time: a burst of more than ~1,000 calls at once
            # overflows the gRPC server's queue of calls not yet taken by the handler
            # (grpc.server.max_pending_requests, 1000 by default): some end CANCELLED.
            channel = await stack.enter_async_context(_channel(port))
            stub: NotifyStub = notify_pb2_grpc.NotifyServiceStub(channel)
            for _ in range(min(PER_CHANNEL, n - first)):
                tasks.append(asyncio.create_task(read(stub.Watch(request))))
            while snapshots < len(tasks):
                await asyncio.sleep(0.005)
                failed = [t for t in tasks if t.done()]
                if failed:
                    await failed[0]  # raises what ended it
                    raise RuntimeError("a Watch stream ended before its snapshot")
                if time.monotonic() - started > 300:
                    raise TimeoutError(f"{snapshots} of {n} streams open after 300 s")
        await asyncio.wait_for(all_in.wait(), 300)
        results.put(("ready", time.monotonic() - started))
        await asyncio.to_thread(done.wait)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results.put(("arrivals", arrivals, usage.ru_utime + usage.ru_stime,
                 usage.ru_maxrss / 1024))


# --- helpers -------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
