"""Benchmark of the purchase journal (not a test): store operations per purchase, purchases per
second and latency on memory, sqlite and couchbase (the real SDK over TCP to the test wire
server), one hot campaign and many, one process and two.
Prints Markdown; run from the repo root: ``python bench/journal.py [--purchases N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

# Run as a plain script (``python bench/journal.py``, no PYTHONPATH, no install): put the repo
# root on the import path so ``services`` is found; spawned worker processes run this too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import header, ratio, table

from services.journal import BuyOutcome, Journal, JournalContext, audit
from services.lab.loadgen import (
    OP_KINDS,
    CountingStore,
    LoadStats,
    World,
    YieldingStore,
    audit_url,
    balance_for,
    run_buyers,
    set_up,
    warped_context,
)
from services.store import (
    CouchbaseSettings,
    CouchbaseStore,
    DocumentStore,
    MemoryStore,
    SqliteStore,
)
from tests._support.images import image_bytes
from tests.couchbase_wire.process import wire_server_process

ROOT = Path(__file__).resolve().parent.parent
SPEED = 10_000  # the load runs' clock runs this much faster than real time (see section 2)
BUYERS = 16
MANY_CAMPAIGNS = 64
PROTOCOL_MINIMUM = 7  # reads: user, campaign; writes: lock, slot, receipt, debit, advance
DEFAULT_PURCHASES = 10_000
QUICK_PURCHASES = 300
REAL_CLOCK_ATTEMPTS = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--purchases", type=int, default=None, metavar="N",
                        help=f"purchase attempts per load run (default {DEFAULT_PURCHASES}, "
                             f"or {QUICK_PURCHASES} with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    args = parser.parse_args()
    purchases = (args.purchases if args.purchases is not None
                 else QUICK_PURCHASES if args.quick else DEFAULT_PURCHASES)
    if purchases < 2:
        parser.error("--purchases must be at least 2 (the two-process run splits them)")
    started = time.perf_counter()
    header("Purchase journal benchmark", "bench/journal.py")
    violations = asyncio.run(_operations_section())
    with tempfile.TemporaryDirectory(prefix="abc-bench-") as tmp:
        violations += asyncio.run(_load_section(purchases, Path(tmp)))
        violations += _two_process_section(purchases, Path(tmp))
    violations += asyncio.run(_real_clock_section(REAL_CLOCK_ATTEMPTS))
    print(f"\nTotal audit violations: **{violations}**. "
          f"Bench time {time.perf_counter() - started:.1f} s.")
    return 1 if violations else 0


# --- 1. store operations per purchase ------------------------------------------------------


async def _operations_section() -> int:
    print("## 1. Store operations per uncontended purchase\n")
    print("A fresh world on the memory store wrapped in a counter; each purchase is the first "
          "of its campaign. The counts are the same on every adapter (the journal decides "
          f"them). The protocol's minimum is {PROTOCOL_MINIMUM}: 2 reads (user, campaign) and "
          "5 writes (lock, slot, receipt, debit, advance).\n")
    store = CountingStore(MemoryStore())
    journal = Journal(store)
    world = await set_up(journal, users=2, campaigns=2, balance=1000)
    u1, u2 = world.users
    c1, c2 = world.campaigns
    await journal.upload_filler(u2, "ad", "an ad")
    await journal.create_campaign("sized", world.owner, 1, 1, ad_width=300, ad_height=250)
    await journal.upload_filler(u1, "banner", "a banner", image=image_bytes("PNG", 300, 250))
    rows: list[list[str]] = []

    async def measure(label: str, buy: Callable[[], Awaitable[BuyOutcome]], note: str) -> None:
        store.reset()
        outcome = await buy()
        total = store.total
        reached = "yes" if total == PROTOCOL_MINIMUM else f"no: +{total - PROTOCOL_MINIMUM} {note}"
        rows.append([label, type(outcome).__name__, *(str(store.ops[k]) for k in OP_KINDS),
                     str(total), str(PROTOCOL_MINIMUM), reached])

    await measure("no filler", lambda: journal.buy(u1, c1, max_price=10), "")
    await measure("with filler", lambda: journal.buy(u2, c2, max_price=10, filler="ad"),
                  "(the filler existence check)")
    await measure("with filler, 300x250 campaign",
                  lambda: journal.buy(u1, "sized", max_price=10, filler="banner"),
                  "(the filler existence check, which also gives its size)")
    table(["purchase", "outcome", *OP_KINDS, "total", "minimum", "at the minimum"], rows)

    # A two-way race: both buyers interleave at every store op; the winner's share is known.
    race_store = CountingStore(YieldingStore(MemoryStore()))
    race = Journal(race_store)
    rworld = await set_up(race, users=2, campaigns=1, balance=1000)
    race_store.reset()
    outcomes = await asyncio.gather(*(race.buy(uid, rworld.campaigns[0], max_price=10)
                                      for uid in rworld.users))
    kinds = sorted(type(o).__name__ for o in outcomes)
    loser = race_store.total - PROTOCOL_MINIMUM
    print(f"\nTwo buyers racing for the same slot (interleaved at every op): {kinds}; "
          f"{race_store.total} ops in all, so the lost race costs {loser} "
          f"({_ops_text(race_store.ops)} in all).\n")
    found = len(await audit(store, quiescent=True)) + len(await audit(race_store,
                                                                          quiescent=True))
    print(f"Quiescent audit of both stores: {found} violation(s).\n")
    return found


def _ops_text(ops: Counter[str]) -> str:
    return ", ".join(f"{ops[k]} {k}" for k in OP_KINDS if ops[k])


# --- 2. load: purchases per second and latency ----------------------------------------------


@dataclass(frozen=True, slots=True)
class _Run:
    store: str
    workload: str
    stats: LoadStats
    ops: int
    violations: int
    cpu_s: float = 0.0  # this process's CPU time (user + system) during the buyers' run


async def _load_section(purchases: int, tmp: Path) -> int:
    print("## 2. Purchases per second and latency, one process\n")
    print(f"{BUYERS} concurrent buyers (one asyncio loop, one process), {purchases} purchase "
          f"attempts per run, each on a fresh world of {BUYERS} users (one per buyer) and "
          f"either one hot campaign or {MANY_CAMPAIGNS} campaigns chosen uniformly. "
          f"`journal.buy(..., keep_trying=False)`: a lost race is reported, not retried. "
          "The journal takes turns per campaign, as the services' does (`Journal(..., "
          "take_turns=True)`, `services/journal/_turns.py`): one process's purchases of a "
          "campaign queue instead of racing, so an attempt's latency includes its wait for "
          "its turn (on the hot campaign, behind the other buyers).\n")
    print(f"The journal's clock runs {SPEED:,}x faster than real time in these runs: with the "
          "real clock each purchase queues a 1 s slot after the last and doubles the price, "
          "so a campaign sells a burst of ~40 slots and then answers PriceAboveMax for tens "
          "of seconds (section 4). The store operations of a purchase do not depend on the "
          "clock.\n")
    print("Stores: `memory` is the in-memory adapter, whose operations never suspend, so "
          "buyers on one loop never interleave; `memory, interleaved` yields "
          "to the loop before each operation, as a real store does; `sqlite` is a fresh file "
          "in a temp dir (WAL, one connection per process, used inline on the event loop; the "
          "writes that purchases running at once make in one turn of the loop wait for the "
          "next turn and commit together); `couchbase` "
          "is the couchbase adapter (the official SDK, durability majority) over TCP to the "
          "test wire server (`tests/couchbase_wire`, Python, one node, in a process of its "
          "own, a fresh one per run): the client side is real, the server is not a "
          "Couchbase Server (nothing replicated or persisted), so this row measures the "
          "SDK's and the adapter's cost per operation, not a cluster's.\n")
    runs: list[_Run] = []
    for label in STORES:
        for workload, campaigns in (("hot: 1 campaign", 1),
                                    (f"many: {MANY_CAMPAIGNS} campaigns", MANY_CAMPAIGNS)):
            async with _fresh_store(label, tmp / f"{label.split(',')[0]}-{campaigns}") as inner:
                runs.append(await _load_run(label, workload, inner, campaigns, purchases))
    table(["store", "workload", "attempts", "bought", "lost races", "other", "purchases/s",
            "attempts/s", "p50 ms", "p99 ms", "store ops/attempt", "audit violations"],
           [_run_row(run) for run in runs])
    by = {(run.store, run.workload.split(":")[0]): run for run in runs}
    print("\nRatios within this run (purchases/s):\n")
    rows = []
    for workload in ("hot", "many"):
        mem, inter, sql, cb = (by[s, workload].stats.purchases_per_s for s in STORES)
        rows.append([workload, ratio(sql, mem), ratio(sql, inter), ratio(inter, mem),
                     ratio(cb, sql), ratio(cb, inter)])
    table(["workload", "sqlite / memory", "sqlite / memory interleaved",
            "memory interleaved / memory", "couchbase / sqlite",
            "couchbase / memory interleaved"], rows)
    rows = [[s, ratio(by[s, "hot"].stats.purchases_per_s, by[s, "many"].stats.purchases_per_s)]
            for s in STORES]
    print()
    table(["store", "hot / many"], rows)
    print()
    return sum(run.violations for run in runs)


STORES = ("memory", "memory, interleaved", "sqlite", "couchbase")


@contextlib.asynccontextmanager
async def _fresh_store(label: str, path: Path) -> AsyncIterator[DocumentStore]:
    """An empty, open store of the kind ``label`` names (``path``: a file it may use)."""
    if label == "couchbase":
        with wire_server_process() as (url, env):
            store: DocumentStore = await CouchbaseStore(
                CouchbaseSettings.from_url(url, env=env)).open()
            try:
                yield store
            finally:
                await store.close()
        return
    if label == "sqlite":
        store = await SqliteStore(path.with_suffix(".db")).open()
    else:
        store = MemoryStore() if label == "memory" else YieldingStore(MemoryStore())
    try:
        yield store
    finally:
        await store.close()


async def _load_run(
    label: str, workload: str, inner: DocumentStore, campaigns: int, purchases: int
) -> _Run:
    store = CountingStore(inner)
    journal = Journal(store, warped_context(SPEED), take_turns=True)
    world = await set_up(journal, BUYERS, campaigns, balance_for(BUYERS))
    store.reset()
    cpu = time.process_time()
    stats = await run_buyers(journal, BUYERS, purchases, world.campaigns, users=world.users,
                             hot=campaigns == 1)
    cpu = time.process_time() - cpu
    ops = store.total
    violations = await audit(inner, quiescent=True)
    _report_violations(f"{label} {workload}", violations)
    return _Run(label, workload, stats, ops, len(violations), cpu)


def _run_row(run: _Run) -> list[str]:
    s = run.stats
    other = ", ".join(f"{n} {name}" for name, n in sorted(s.others.items())) or "0"
    return [run.store, run.workload, str(s.attempts), str(s.bought), str(s.lost_races), other,
            f"{s.purchases_per_s:,.0f}", f"{s.attempts_per_s:,.0f}", f"{s.latency_ms(50):.2f}",
            f"{s.latency_ms(99):.2f}", f"{run.ops / max(s.attempts, 1):.1f}",
            str(run.violations)]


# --- 3. two processes on one sqlite file ---------------------------------------------


def _two_process_section(purchases: int, tmp: Path) -> int:
    print("## 3. Two OS processes sharing one sqlite file\n")
    print(f"The many-campaigns world ({MANY_CAMPAIGNS} campaigns, {BUYERS} users) on a fresh "
          f"sqlite file per run. **Two processes** (multiprocessing, spawn), each with "
          f"{BUYERS // 2} buyers on its own {BUYERS // 2} users and {purchases // 2} "
          "attempts, all campaigns shared, started together at a barrier; aggregate "
          "purchases/s = all bought / the longer process's run time. **One process**: the "
          f"same world and attempts, {BUYERS} buyers in one spawned process, run just before "
          "and just after the two, and the ratio is to their mean (section 2's runs are "
          "minutes older, and a shared VM's speed drifts: its memory rows differed by a "
          "third between two runs of 2026-12-03).\n")
    origin = time.time_ns()
    rows, violations = [], 0
    results: dict[str, tuple[LoadStats, float]] = {}
    for label, processes in (("one process, before", 1), ("two processes", 2),
                             ("one process, after", 1)):
        path = tmp / f"shared-{len(results)}.db"
        world = asyncio.run(_shared_world(path, origin))
        parts = _spawned(path, origin, world, processes, purchases)
        total = LoadStats.combined(stats for stats, _ in parts)
        cpu = sum(cpu_s for _, cpu_s in parts)
        results[label] = total, cpu
        if processes > 1:
            rows += [[f"process {i}", *_stats_cells(stats), _cpu_cell(cpu_s, stats)]
                     for i, (stats, cpu_s) in enumerate(parts)]
            rows.append([f"**{label}**", *_stats_cells(total), _cpu_cell(cpu, total)])
        else:
            rows.append([label, *_stats_cells(total), _cpu_cell(cpu, total)])
        found = [str(v) for v in asyncio.run(audit_url(f"sqlite:///{path}", quiescent=True))]
        _report_violations(label, found)
        violations += len(found)
    table(["", "attempts", "bought", "lost races", "other", "purchases/s", "p50 ms", "p99 ms",
           "CPU us/purchase"], rows)
    two, two_cpu = results["two processes"]
    ones = [results[label] for label in ("one process, before", "one process, after")]
    one_rate = statistics.mean(stats.purchases_per_s for stats, _ in ones)
    one_cpu = statistics.mean(_per_purchase(cpu, stats) for stats, cpu in ones)
    print(f"\nTwo processes / one process, sqlite, many campaigns: "
          f"{ratio(two.purchases_per_s, one_rate)} ({two.purchases_per_s:,.0f} vs "
          f"{one_rate:,.0f} purchases/s, the mean of one process before and after); CPU per "
          f"purchase {ratio(_per_purchase(two_cpu, two), one_cpu)} of one process's (each "
          "process's page cache is dropped whenever the other commits, writes wait for the "
          "file's lock, and buyers race: bench/README.md). Quiescent audits of the files: "
          f"{violations} violation(s).\n")
    return violations


def _spawned(path: Path, origin: int, world: World, processes: int,
             purchases: int) -> list[tuple[LoadStats, float]]:
    """``processes`` spawned processes buying on the world at ``path``, the buyers and users
    split between them, started together: each one's stats and CPU seconds, in order."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(processes + 1)
    results: Queue[tuple[int, LoadStats, float]] = ctx.Queue()
    share = len(world.users) // processes
    workers = [
        ctx.Process(target=_worker, args=(i, str(path), origin,
                                          world.users[i * share:(i + 1) * share],
                                          world.campaigns, BUYERS // processes,
                                          purchases // processes, barrier, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait(timeout=120)
    got = sorted((results.get(timeout=600) for _ in workers), key=lambda result: result[0])
    for worker in workers:
        worker.join(timeout=60)
    return [(stats, cpu_s) for _, stats, cpu_s in got]


def _per_purchase(cpu_s: float, stats: LoadStats) -> float:
    return cpu_s / max(stats.bought, 1)


def _cpu_cell(cpu_s: float, stats: LoadStats) -> str:
    return f"{_per_purchase(cpu_s, stats) * 1e6:,.0f}"


async def _shared_world(path: Path, origin: int) -> World:
    store = await SqliteStore(path).open()
    try:
        return await set_up(Journal(store, warped_context(SPEED, origin)), BUYERS,
                            MANY_CAMPAIGNS, balance_for(BUYERS))
    finally:
        await store.close()


def _worker(
    index: int, path: str, origin: int, users: Sequence[str], campaigns: Sequence[str],
    buyers: int, purchases: int, barrier: Barrier,
    results: Queue[tuple[int, LoadStats, float]],
) -> None:
    """One process of the shared-file run (module level: spawn imports it by name)."""

    async def run() -> tuple[LoadStats, float]:
        store = await SqliteStore(path).open()
        try:
            journal = Journal(store, warped_context(SPEED, origin), take_turns=True)
            await asyncio.to_thread(barrier.wait, 120)
            cpu = time.process_time()
            stats = await run_buyers(journal, buyers, purchases, campaigns, users=users,
                                     seed=1000 * index)
            return stats, time.process_time() - cpu
        finally:
            await store.close()

    stats, cpu = asyncio.run(run())
    results.put((index, stats, cpu))


def _stats_cells(s: LoadStats) -> list[str]:
    other = ", ".join(f"{n} {name}" for name, n in sorted(s.others.items())) or "0"
    return [str(s.attempts), str(s.bought), str(s.lost_races), other,
            f"{s.purchases_per_s:,.0f}", f"{s.latency_ms(50):.2f}", f"{s.latency_ms(99):.2f}"]


# --- 4. the price rule under the real clock -------------------------------------------------


async def _real_clock_section(purchases: int) -> int:
    print("## 4. For contrast: one hot campaign under the real clock\n")
    print(f"{BUYERS} buyers, {purchases} attempts, memory interleaved, `JournalContext()` "
          "(the real clock), max_price 10**12. The price doubles with every queued 1 s slot, "
          "so the campaign sells a burst of about log2(10**12) = 40 slots, then prices the buyers "
          "out until its queue plays out: what `abc load --hot` shows.\n")
    inner = YieldingStore(MemoryStore())
    journal = Journal(inner, JournalContext(), take_turns=True)
    world = await set_up(journal, BUYERS, 1, balance_for(BUYERS))
    stats = await run_buyers(journal, BUYERS, purchases, world.campaigns, users=world.users,
                             hot=True)
    violations = await audit(inner, quiescent=True)
    _report_violations("real clock hot", violations)
    table(["attempts", "bought", "lost races", "other", "purchases/s", "p50 ms", "p99 ms"],
           [_stats_cells(stats)])
    print(f"\nQuiescent audit: {len(violations)} violation(s).")
    return len(violations)


# --- output -------------------------------------------------------------------------------


def _report_violations(run: str, violations: Sequence[object]) -> None:
    for violation in violations[:20]:
        print(f"**AUDIT VIOLATION** ({run}): {violation}\n")

if __name__ == "__main__":
    raise SystemExit(main())
