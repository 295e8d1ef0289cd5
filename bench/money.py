"""Benchmark of money out (not a test): store ops per op, credit lag, crediting's cost.
Store operations per credit, withdrawal, payout and refund against docs/protocol.md's
minimum; the lag from a sale to the seller's balance with real recovery replicas crediting
(all three up, two of three dead); and what crediting costs the buyers' throughput.
Prints Markdown; run from the repo root: ``python bench/money.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

# Run as a plain script (``python bench/money.py``, no PYTHONPATH, no install): put the repo
# root on the import path so ``services`` is found.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _report import header, load_average, pct, ratio, table

from services.journal import (
    Books,
    Bought,
    Campaign,
    Check,
    Created,
    Credited,
    CreditOutcome,
    CreditRecord,
    Deposited,
    Fill,
    Journal,
    JournalContext,
    LostRace,
    NothingToCredit,
    PayoutState,
    Policy,
    Refunded,
    Withdrawal,
    WithdrawalRequested,
    audit,
    campaign_key,
    credit_key,
    slot_from_json,
    slot_key,
)
from services.lab.loadgen import (
    CountingStore,
    run_buyers,
    warped_context,
)
from services.recovery import OrdinalShard, Replica
from services.store import DocumentStore, MemoryStore, NotFound, SqliteStore

START_MS = 1_700_000_000_000
PAGE = Policy().purchase_page  # entries per page of a purchase list
BIG = 10**12  # an opening deposit, and the most a buyer pays

# Section 2: the credit lag.
REPLICAS = 3
SELLERS = 3
CAMPAIGNS_PER_SELLER = 4
LAG_BUYERS = 6
SALES_PER_CAMPAIGN_S = 0.4  # Poisson; a slot lasts 1 s, so queues stay short, prices low
LAG_MIN_PRICE = 10
DEFAULT_LAG_S = 30.0
QUICK_LAG_S = 3.0
QUICK_TICK_MS = 250
DRAIN_TICKS = 12  # after the buying: the 10 s rule's period and then some

# Section 3: buy throughput with crediting on and off.
SPEED = 10_000
BUYERS = 16
MANY_CAMPAIGNS = 64
DEFAULT_SLICE_S = 2.0
QUICK_SLICE_S = 1.0
DEFAULT_ROUNDS = 15
QUICK_ROUNDS = 2
VARIANTS = ("no posse", "posse, checks only", "posse, checks + crediting")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run of about 20 s")
    parser.add_argument("--lag-seconds", type=float, default=None, metavar="S",
                        help=f"section 2: seconds of buying per configuration (default "
                             f"{DEFAULT_LAG_S:g}, or {QUICK_LAG_S:g} with --quick)")
    parser.add_argument("--tick-ms", type=int, default=None, metavar="MS",
                        help=f"section 2: the replicas' tick and credit interval (default "
                             f"1000 as in production, or {QUICK_TICK_MS} with --quick)")
    parser.add_argument("--slice-seconds", type=float, default=None, metavar="S",
                        help=f"section 3: seconds per variant's turn (default "
                             f"{DEFAULT_SLICE_S:g}, or {QUICK_SLICE_S:g} with --quick)")
    parser.add_argument("--rounds", type=int, default=None, metavar="N",
                        help=f"section 3: rounds of turns of the three variants (default "
                             f"{DEFAULT_ROUNDS}, or {QUICK_ROUNDS} with --quick)")
    args = parser.parse_args()
    lag_s = args.lag_seconds if args.lag_seconds is not None else (
        QUICK_LAG_S if args.quick else DEFAULT_LAG_S)
    tick_ms = args.tick_ms if args.tick_ms is not None else (
        QUICK_TICK_MS if args.quick else 1000)
    slice_s = args.slice_seconds if args.slice_seconds is not None else (
        QUICK_SLICE_S if args.quick else DEFAULT_SLICE_S)
    rounds = args.rounds if args.rounds is not None else (
        QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    if lag_s <= 0 or slice_s <= 0 or rounds < 1 or not 50 <= tick_ms <= 10_000:
        parser.error("seconds must be positive, --rounds at least 1, --tick-ms 50 to 10000")
    started = time.perf_counter()
    header("Money out benchmark", "bench/money.py",
           f"; load average before: {load_average()}")
    failures = asyncio.run(_operations_section())
    with tempfile.TemporaryDirectory(prefix="abc-bench-money-") as tmp:
        failures += asyncio.run(_lag_section(lag_s, tick_ms, Path(tmp)))
        failures += asyncio.run(_throughput_section(slice_s, rounds, Path(tmp)))
    print(f"\nAudit violations and sales never credited: **{failures}**. "
          f"Bench time {time.perf_counter() - started:.0f} s; load average after: "
          f"{load_average()}.")
    return 1 if failures else 0


# --- 1. store operations per op ----------------------------------------------------------


class _Clock:
    """The journal's clock in section 1, moved by the bench: 10 s between sales, so every
    slot sells at its campaign's minimum price."""

    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


@dataclass(frozen=True, slots=True)
class _Minimum:
    """docs/protocol.md's fewest reads and writes for an op (``counted``: which), and the
    notes (``NOTES``) that explain any operation the journal makes beyond them."""

    reads: int
    writes: int
    counted: str
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.reads + self.writes


NOTES = {
    "a": "**the hint's advance re-reads the campaign** (`advance_credited`) instead of "
         "trying a CAS from the op's first read of it; on a campaign that is still selling "
         "that read is stale by then (each sale's advance changes its CAS value), and a "
         "failed CAS would cost a write round trip and the re-read anyway. +1 get.",
    "b": "**the `withdrawals` index shard is read before the entry is added** (`add_to_index`): "
         "appending to a list document is a read and then a CAS (or an insert when the shard "
         "does not exist yet); without it the entry would have to be written blind. So 7 is "
         "the floor of the index-first design; +1 get.",
    "c": "**refund is an op of its own after reject** (`Journal.reject` = `move_payout` to "
         "rejected, then `refund`): it re-reads the withdrawal the reject just wrote, looks "
         "for a refund left committed and unclosed by a dead driver (`refund:<uid>:<w>`, "
         "absent), and its close (`move_payout` to refunded) re-reads the withdrawal for its "
         "CAS value. +3 gets.",
    "d": "**the paid move re-reads the withdrawal** (`move_payout` keeps no CAS value across "
         "the rail call, which may take seconds, and during which a payer whose lease ran "
         "out may be re-driven). +1 get.",
    "e": "(at the minimum, but) **with the hint at head, two of the three reads could be "
         "skipped**: no run can start after a `credited` equal to `head` (runs end at or "
         "below head, and the hint never passes the chain's end), yet the seller and "
         "`credit:<cid>:<head+1>` are read before the run is known to be empty. This is what "
         "each owned campaign costs a `credit_first` withdrawal: 3 reads, where 1 would do.",
}


async def _operations_section() -> int:
    print("## 1. Store operations per credit, withdrawal, payout and refund\n")
    print("Each op alone on the memory store wrapped in a counter "
          "(`services.lab.loadgen.CountingStore`), so uncontended: nothing else runs. The "
          "counts do not depend on the adapter (the journal decides them). *Minimum* is "
          "docs/protocol.md's fewest reads and writes for the op, each listed in the last "
          "column; *at the minimum* says by how many operations the journal exceeds it, "
          "with the notes below the table saying why. "
          "**A credit reads every slot of its run, so its reads grow with the run's "
          "length k** (one `get` per slot), and lists the run's purchases under their buyers "
          "(here one buyer: one read and one write of its purchase list, two more writes per "
          f"page of {PAGE} it fills). Counting rule: every `get` is a read, found or `NotFound`; "
          "every `insert` and `replace` a write (the journal uses no `upsert` or `remove`); "
          "a failed operation counts like a successful one.\n")
    store = CountingStore(MemoryStore())
    clock = _Clock()
    journal = Journal(store, JournalContext(clock=clock))
    rows: list[list[str]] = []
    used: list[str] = []
    sellers: set[str] = set()

    async def sell(cid: str, seller: str, slots: int) -> None:
        if seller not in sellers:
            _expect(await journal.create_account(seller), Created)
            sellers.add(seller)
        _expect(await journal.create_campaign(cid, seller, 10, 1), Created)
        for _ in range(slots):
            clock.now += 10_000
            _expect(await journal.buy("buyer", cid, 10), Bought)

    def row(label: str, outcome: str, minimum: _Minimum) -> None:
        gets = store.ops["get"]
        writes = store.total - gets
        over = store.total - minimum.total
        marks = ", ".join(f"({n})" for n in minimum.notes)
        verdict = f"no: +{over} {marks}" if over else f"yes {marks}".rstrip()
        used.extend(n for n in minimum.notes if n not in used)
        rows.append([label, outcome, *(str(store.ops[k]) for k in USED_KINDS),
                     f"{gets} + {writes} = {store.total}",
                     f"{minimum.reads} + {minimum.writes} = {minimum.total}", verdict,
                     minimum.counted])

    async def measure(label: str, op: Callable[[], Awaitable[object]], minimum: _Minimum,
                      expected: type) -> None:
        clock.now += 10_000
        store.reset()
        outcome = await op()
        _expect(outcome, expected)
        row(label, type(outcome).__name__, minimum)

    _expect(await journal.create_account("buyer"), Created)
    _expect(await journal.deposit("buyer", "opening", BIG), Deposited)
    credit_reads = ("reads: campaign, seller, the chain's end (`credit:<cid>:<credited+1>`, "
                    "absent), k slots, the buyer's purchase list; writes: the list (+ 2 per "
                    "page it fills: the sealed copy, the next head), lock, commit insert, "
                    "apply, hint advance")
    listed = 0  # the one buyer's purchases in its list so far
    for k in (1, 10, 100):
        await sell(f"k{k}", f"seller{k}", k)
        sealed = (listed + k) // PAGE - listed // PAGE
        listed += k
        await measure(f"credit, a run of k = {k}", functools.partial(journal.credit, f"k{k}"),
                      _Minimum(3 + k + 1, 4 + 1 + 2 * sealed, credit_reads, ("a",)), Credited)
    await measure("credit, nothing to credit (k = 0, hint at head)",
                  lambda: journal.credit("k10"),
                  _Minimum(3, 0, "reads: campaign, seller, the chain's end", ("e",)),
                  NothingToCredit)

    withdrawal = ("reads: user, the id check (`withdrawal:<uid>:<w>`, absent); writes: the "
                  "index entry (a new id), lock, commit insert, debit")
    _expect(await journal.create_account("alice"), Created)
    _expect(await journal.deposit("alice", "opening", 1_000_000), Deposited)
    seen: set[str] = set()
    for i in range(1, 30):  # until both: an entry opening an index shard, one joining one
        clock.now += 10_000
        store.reset()
        _expect(await journal.withdraw("alice", f"w{i}", 100, "IBAN-1", credit_first=False),
                WithdrawalRequested)
        kind = ("the first entry of its index shard" if store.ops["insert"] == 2
                else "its index shard exists")
        if kind not in seen:
            seen.add(kind)
            row(f"withdrawal, credit_first=False, {kind}", "WithdrawalRequested",
                _Minimum(2, 4, withdrawal, ("b",)))
        if len(seen) == 2:
            break
    _expect(await journal.create_account("dave"), Created)
    _expect(await journal.deposit("dave", "opening", 1_000_000), Deposited)
    await measure("withdrawal, credit_first=True, the balance covers it (no credit)",
                  lambda: journal.withdraw("dave", "w1", 100, "IBAN-1"),
                  _Minimum(2, 4, withdrawal, ("b",)), WithdrawalRequested)
    await sell("owed10", "frank", 10)
    await measure("withdrawal, credit_first=True, short: 10 sales of the user's uncredited",
                  lambda: journal.withdraw("frank", "w1", 10, "IBAN-1"),
                  _Minimum(2 + 1 + 14 + 1, 4 + 5, "the withdrawal's + `owned:<uid>` + a credit "
                                                  "of k = 10 (14 reads, 5 writes) + the user "
                                                  "read again after it", ("a", "b")),
                  WithdrawalRequested)

    clock.now += 10_000
    store.reset()
    claimed = await journal.move_payout("alice", "w1", PayoutState.PAYING, payer="payer-0",
                                        claimed_at=clock.now)
    paid = await journal.move_payout("alice", "w1", PayoutState.PAID, 1, reference="r-1")
    _expect(claimed, Withdrawal)
    _expect(paid, Withdrawal)
    row("payout: claim (requested -> paying), then paid", "Withdrawal (paid)",
        _Minimum(1, 2, "reads: the withdrawal; writes: the claim's CAS, the paid CAS (from "
                       "the claim's CAS value)", ("d",)))
    await measure("reject (requested -> rejected) + refund",
                  lambda: journal.reject("alice", "w2", "the operator refused"),
                  _Minimum(2, 5, "reads: the withdrawal, the user; writes: the reject's CAS, "
                                 "lock, commit insert, credit back, close (the CAS rejected "
                                 "-> refunded, from the reject's CAS value)", ("c",)),
                  Refunded)
    table(["op", "outcome", *USED_KINDS, "measured: reads + writes", "minimum",
           "at the minimum", "the minimum counts"], rows)
    print()
    for note in sorted(used):
        print(f"- ({note}) {NOTES[note]}")
    found = await audit(store, quiescent=True)
    _report_violations("section 1", found)
    print(f"\nQuiescent audit of the store: {len(found)} violation(s).\n")
    return len(found)


USED_KINDS = ("get", "insert", "replace")


def _expect(outcome: object, expected: type | tuple[type, ...]) -> None:
    if not isinstance(outcome, expected):
        raise SystemExit(f"bench setup: expected {expected}, got {outcome!r}")


# --- 2. the credit lag ------------------------------------------------------------------------


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class _CreditLog:
    """What the replicas' journals saw: every credit op asked of them with its outcome, and
    when each run's shares reached the seller's balance. The latter through the journal's
    span factory, which is told of every protocol step: a run's ``credit.advance`` (the hint)
    begins in the same stretch of the event loop right after ``credit.apply``'s CAS landed,
    so its start is the moment the balance included the run (to a few us)."""

    applied: dict[tuple[str, int], int] = field(default_factory=dict)  # (cid, last) -> ms
    # (replica ordinal, campaign, ms the op began, its outcome's name)
    calls: list[tuple[int, str, int, str]] = field(default_factory=list)
    # (replica ordinal, campaign, ms the check began) of each check that saw sales waiting
    waiting: list[tuple[int, str, int]] = field(default_factory=list)

    def span(self, name: str, attributes: Mapping[str, str | int],
             _links: Sequence[dict[str, str]]) -> AbstractContextManager[None]:
        if name == "credit.advance":
            run = (str(attributes["campaign"]), int(attributes["slot"]))
            self.applied.setdefault(run, _now_ms())
        return contextlib.nullcontext()


class _LoggingJournal(Journal):
    """A replica's journal that logs each credit op the replica runs, with its outcome, and
    each check that saw sales waiting for their credit (``credited`` behind ``head``)."""

    def __init__(self, store: DocumentStore, context: JournalContext, ordinal: int,
                 log: _CreditLog) -> None:
        super().__init__(store, context)
        self._ordinal = ordinal
        self._log = log

    async def credit(self, cid: str) -> CreditOutcome:
        began = _now_ms()
        outcome = await super().credit(cid)
        self._log.calls.append((self._ordinal, cid, began, type(outcome).__name__))
        return outcome

    async def check_campaign(self, cid: str) -> Check:
        began = _now_ms()
        check = await super().check_campaign(cid)
        if check.uncredited:
            self._log.waiting.append((self._ordinal, cid, began))
        return check


@dataclass
class _LagResult:
    label: str
    alive: int
    tick_ms: int
    sales: int = 0
    lags_ms: list[int] = field(default_factory=list)  # per sale: applied - bought_at
    lock_lags_ms: list[int] = field(default_factory=list)  # per sale: the run's at - bought_at
    run_slots: list[int] = field(default_factory=list)
    op_ms: list[int] = field(default_factory=list)  # per run: applied - its lock's at
    outcomes: Counter[str] = field(default_factory=Counter)  # of the replicas' credit ops
    most_per_replica: int = 0  # credit ops on one seller in one tick by one replica
    most_all: int = 0  # ... by all replicas together
    waiting_ticks: int = 0  # (replica, seller, tick)s whose checks saw the seller's sales wait
    idle_ticks: int = 0  # ... and in which that replica ran no credit op for the seller
    uncredited: int = 0
    unseen: int = 0  # runs whose apply no replica's hook saw (then: the lock's at)
    lost_races: int = 0
    books: str = ""
    violations: int = 0


async def _lag_section(lag_s: float, tick_ms: int, tmp: Path) -> int:
    print("## 2. Credit lag: from a sale to the seller's balance\n")
    print(f"{REPLICAS} real `Replica` objects (`services.recovery`, ordinal-shard, "
          f"`tick_ms` {tick_ms}, credit interval {tick_ms} ms: at most one credit op per "
          f"seller per tick per replica) running their own tick loop (`Replica.run`) on the "
          f"real clock in this process, each on its own connection to a fresh sqlite file; "
          f"for *1 of 3 up* only replica 0 runs (its schedule still says {REPLICAS} replicas, "
          f"as when the other two are dead). {SELLERS} sellers with {CAMPAIGNS_PER_SELLER} "
          f"campaigns each; {LAG_BUYERS} buyer tasks (an account each, the real clock) buy on "
          f"a campaign chosen uniformly at Poisson moments, {SALES_PER_CAMPAIGN_S:g} sales per "
          f"campaign per second in all (slots of 1 s, so prices stay near the minimum), for "
          f"{lag_s:g} s; the same seeds in both configurations. Then the bench waits until "
          f"every sale is credited (at most {DRAIN_TICKS} ticks).\n")
    print("**How the lag is measured.** After the run the bench walks each campaign's chain "
          "of credit runs (`credit:<cid>:1`, then `to + 1`, ...) and, for every slot of a "
          "run, reads the slot's `bought_at` (the buyer's clock as the purchase was locked). "
          "*Lag* = the moment that run's apply CAS landed on the seller's document (seen by "
          "the crediting replica through the journal's span hook: the run's "
          "`credit.advance` step starts right after it) - `bought_at`. The run's own `at` "
          "(the credit lock's time, just before its intent) gives the same lag less the "
          "credit op's duration (*op ms*). One clock (this process's) for all. The replicas' "
          "journals also log every credit op the replicas run, with its outcome.\n")
    results = []
    for alive in (REPLICAS, 1):
        label = f"{alive} of {REPLICAS} up"
        print(f"running credit lag, {label} ...", file=sys.stderr, flush=True)
        results.append(await _lag_run(label, alive, tick_ms, lag_s,
                                      tmp / f"lag-{alive}.db"))
    rows = []
    for r in results:
        lags = sorted(r.lags_ms)
        cells = ([f"{statistics.median(lags) / 1000:.3f}", f"{pct(lags, 90) / 1000:.3f}",
                  f"{lags[-1] / 1000:.3f}", f"{statistics.median(lags) / r.tick_ms:.2f}",
                  f"{pct(lags, 90) / r.tick_ms:.2f}", f"{lags[-1] / r.tick_ms:.2f}"]
                 if lags else ["-"] * 6)
        rows.append([r.label, str(r.sales), str(len(lags)), *cells, str(r.uncredited)])
    table(["replicas", "sales", "credited", "lag median s", "p90 s", "max s",
           "median ticks", "p90 ticks", "max ticks", "never credited"], rows)
    print()
    rows = []
    for r in results:
        calls = sum(r.outcomes.values())
        busy = r.outcomes["AccountBusy"]
        others = sum(n for name, n in r.outcomes.items()
                     if name not in ("Credited", "AccountBusy", "NothingToCredit"))
        rows.append([r.label, str(calls), str(r.outcomes["Credited"]),
                     f"{busy} ({busy / max(calls, 1):.0%})", str(r.outcomes["NothingToCredit"]),
                     str(others),
                     f"{statistics.mean(r.run_slots):.1f} / {max(r.run_slots)}"
                     if r.run_slots else "-",
                     f"{statistics.median(r.op_ms):.0f}" if r.op_ms else "-",
                     f"{statistics.median(r.lock_lags_ms) / 1000:.3f}" if r.lock_lags_ms
                     else "-",
                     f"{r.most_per_replica} / {r.most_all}",
                     f"{r.idle_ticks} of {r.waiting_ticks}", str(r.lost_races),
                     str(r.violations)])
    table(["replicas", "credit ops run", "Credited", "AccountBusy", "NothingToCredit",
           "other", "slots per run, mean / max", "op ms, median",
           "lag to the lock's `at`, median s",
           "most ops on one seller in one tick: one replica / all",
           "seller-ticks idle with sales waiting", "buyers' lost races", "audit violations"],
          rows)
    print("\n*AccountBusy*: the credit op lost the seller's document to another credit op "
          "(another replica locked the seller first, so the intent CAS lost or the lock was "
          "still there after resolving; each replica paces sellers on its own, and all of "
          "them start their checks at the same tick boundary) and gave up; that campaign "
          "waits for a later check, its turn spent. *Seller-ticks idle with sales waiting*: "
          "of the (replica, seller, tick)s in which the replica's checks saw some of the "
          "seller's campaigns with sales waiting (`credited` < `head`), those in which that "
          "replica ran no credit op for the seller at all: the pacer refused every one of "
          "them, keeping the seller's turn for a campaign it had refused earlier (an older "
          "turn goes first) that did not ask in this tick: not due at this replica, or "
          "credited meanwhile by another.\n")
    for r in results:
        print(f"- Books after *{r.label}* (`Journal.books()`): {r.books}")
        if r.unseen:
            print(f"  ({r.unseen} run(s) not seen by a replica's hook: their lock's `at` used)")
    print()
    return sum(r.violations + r.uncredited for r in results)


async def _lag_run(label: str, alive: int, tick_ms: int, lag_s: float, path: Path) -> _LagResult:
    result = _LagResult(label, alive, tick_ms)
    setup = await SqliteStore(path).open()
    owners: dict[str, str] = {}
    try:
        journal = Journal(setup)
        for s in range(SELLERS):
            seller = f"seller{s}"
            _expect(await journal.create_account(seller), Created)
            for c in range(CAMPAIGNS_PER_SELLER):
                cid = f"s{s}c{c}"
                _expect(await journal.create_campaign(cid, seller, LAG_MIN_PRICE, 1), Created)
                owners[cid] = seller
        buyers = [f"buyer{b}" for b in range(LAG_BUYERS)]
        for uid in buyers:
            _expect(await journal.create_account(uid), Created)
            _expect(await journal.deposit(uid, "opening", BIG), Deposited)
        log = _CreditLog()
        stores = [await SqliteStore(path).open() for _ in range(alive)]
        replicas = [Replica(_LoggingJournal(stores[i], JournalContext(span=log.span), i, log),
                            OrdinalShard(i, REPLICAS), i, REPLICAS, tick_ms=tick_ms,
                            credit_interval_ms=tick_ms) for i in range(alive)]
        stop = asyncio.Event()
        ticking = [asyncio.create_task(r.run(stop)) for r in replicas]
        try:
            await asyncio.sleep(2 * tick_ms / 1000)  # every replica has seen every campaign
            result.lost_races = await _buy_for(journal, buyers, sorted(owners), lag_s)
            deadline = time.monotonic() + DRAIN_TICKS * tick_ms / 1000
            while time.monotonic() < deadline and await _uncredited(setup, owners):
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*ticking)
            for store in stores:
                await store.close()
        await _collect_lags(setup, owners, log, result)
        result.uncredited = await _uncredited(setup, owners)
        books = await journal.books()
        result.books = (f"deposits {books.deposits:,} = balances {books.balances:,} + "
                        f"uncredited sales {books.uncredited:,} + fees {books.fees:,} + "
                        f"pending {books.pending:,} + withdrawn {books.withdrawn:,} "
                        f"(difference {books.difference}); credited to sellers "
                        f"{books.credited:,}") if isinstance(books, Books) else str(books)
        found = await audit(setup, quiescent=True)
        _report_violations(label, found)
        result.violations = len(found)
    finally:
        await setup.close()
    return result


async def _buy_for(journal: Journal, buyers: Sequence[str], campaigns: Sequence[str],
                   seconds: float) -> int:
    """Each buyer buys at Poisson moments for ``seconds``; the lost races (the next
    Poisson moment tries again)."""
    rate = SALES_PER_CAMPAIGN_S * len(campaigns) / len(buyers)  # per buyer per second
    end = time.monotonic() + seconds
    lost = 0

    async def buyer(uid: str, rng: random.Random) -> None:
        nonlocal lost
        while (wait := rng.expovariate(rate)) < end - time.monotonic():
            await asyncio.sleep(wait)
            outcome = await journal.buy(uid, rng.choice(campaigns), BIG)
            if isinstance(outcome, LostRace):
                lost += 1
            elif not isinstance(outcome, Bought):
                raise SystemExit(f"bench: a purchase gave {outcome!r}")

    await asyncio.gather(*(buyer(uid, random.Random(i)) for i, uid in enumerate(buyers)))
    return lost


async def _uncredited(store: DocumentStore, owners: Mapping[str, str]) -> int:
    """Sold slots whose campaign's hint is still behind them (no crashes here: the hint is
    the chain's end)."""
    behind = 0
    for cid in owners:
        campaign = Campaign.from_json((await store.get(campaign_key(cid))).value)
        behind += campaign.head - campaign.credited
    return behind


async def _collect_lags(store: DocumentStore, owners: Mapping[str, str], log: _CreditLog,
                        result: _LagResult) -> None:
    for cid in owners:
        result.sales += Campaign.from_json((await store.get(campaign_key(cid))).value).head
        first = 1
        while True:
            try:
                run = CreditRecord.from_json((await store.get(credit_key(cid, first))).value)
            except NotFound:
                break
            result.run_slots.append(run.last - run.first + 1)
            applied = log.applied.get((cid, run.last))
            if applied is None:
                result.unseen += 1
            done_ms = applied if applied is not None else run.at
            result.op_ms.append(done_ms - run.at)
            for n in range(run.first, run.last + 1):
                slot = slot_from_json((await store.get(slot_key(cid, n))).value)
                if isinstance(slot, Fill):
                    result.lags_ms.append(done_ms - slot.bought_at)
                    result.lock_lags_ms.append(run.at - slot.bought_at)
            first = run.last + 1
    per_replica: Counter[tuple[int, str, int]] = Counter()  # (ordinal, seller, tick)
    together: Counter[tuple[str, int]] = Counter()  # (seller, tick)
    for ordinal, cid, at, outcome in log.calls:
        result.outcomes[outcome] += 1
        per_replica[ordinal, owners[cid], at // result.tick_ms] += 1
        together[owners[cid], at // result.tick_ms] += 1
    result.most_per_replica = max(per_replica.values(), default=0)
    result.most_all = max(together.values(), default=0)
    waiting = {(o, owners[cid], at // result.tick_ms) for o, cid, at in log.waiting}
    result.waiting_ticks = len(waiting)
    result.idle_ticks = len(waiting - set(per_replica))


# --- 3. buy throughput with crediting on and off ----------------------------------------------


class _NoCreditJournal(Journal):
    """A replica's journal whose credit op does nothing (no store operation): the posse's
    checks alone, for the *checks only* variant."""

    async def credit(self, cid: str) -> CreditOutcome:
        return NothingToCredit(cid, 0)


@dataclass
class _World:
    """One variant's world, kept across its slices: a sqlite file, the buyers' journal and
    the replica's (each on a counter around the one connection), what they did so far."""

    variant: str
    inner: DocumentStore
    buyer_store: CountingStore
    replica_store: CountingStore
    buyers: Journal
    replica: Replica | None
    users: list[str]
    campaigns: list[str]
    ticks: int = 0
    attempts: int = 0
    bought: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)  # purchases/s of each slice
    violations: int = 0

    @property
    def purchases_per_s(self) -> float:
        return self.bought / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def per_purchase(self, value: float) -> float:
        return value / max(self.bought, 1)


async def _throughput_section(slice_s: float, rounds: int, tmp: Path) -> int:
    print("## 3. Buy throughput with crediting on and off\n")
    print(f"bench/journal.py's sqlite many-campaigns workload: {BUYERS} concurrent buyers (an "
          f"account each), {MANY_CAMPAIGNS} campaigns chosen uniformly, `keep_trying=False`, "
          f"the journal's clock {SPEED:,}x fast (`warped_context`). Here each campaign has a "
          f"seller of its own (not one owner for all), so the pacer lets the replica credit "
          f"every campaign every tick: the most crediting this workload can cause. Three "
          f"variants, each on a world of its own (a fresh sqlite file): *no posse*; *posse, "
          f"checks only*: one `Replica` (1 of 1, so on duty for every campaign every tick) in "
          f"this process, on the buyers' store connection, ticked once a real second as in "
          f"production, with its credit op stubbed out; *posse, checks + crediting*: the "
          f"same, crediting. The replica's journal shares the buyers' fast clock (so a check "
          f"never waits out `posse_wait_ms` for a live driver).\n")
    print(f"**Slices.** Other work on a shared machine moves throughput by tens of percent "
          f"from one run to the next, so the variants take turns in slices of {slice_s:g} s "
          f"({rounds} rounds, the order rotating each round): each slice runs one variant's "
          f"buyers on its world while the others wait, and its replica ticks at the slice's "
          f"start and every second of it (so each tick credits about a second of sales, as in "
          f"production). Purchases/s = all its slices' purchases / their time; the ratios "
          f"compare the variants' slices of each round (neighbours in time). CPU is this "
          f"process's (all threads, sqlite's worker included) per purchase; store operations "
          f"are counted on the buyers' journal and the replica's apart.\n")
    worlds = [await _world(variant, tmp / f"tp-{i}.db") for i, variant in enumerate(VARIANTS)]
    try:
        for round_ in range(rounds):
            print(f"running throughput round {round_ + 1} of {rounds} ...", file=sys.stderr,
                  flush=True)
            shift = round_ % len(worlds)
            for world in worlds[shift:] + worlds[:shift]:
                await _slice(world, slice_s, round_)
        for world in worlds:
            found = await audit(world.inner, quiescent=True)
            _report_violations(f"throughput {world.variant}", found)
            world.violations = len(found)
    finally:
        for world in worlds:
            await world.inner.close()
    rows = []
    for w in worlds:
        replica = w.replica.counters if w.replica is not None else None
        rows.append([w.variant, f"{w.bought:,}", f"{w.purchases_per_s:,.0f}",
                     f"{pct(w.latencies_ms, 50):.2f}", f"{pct(w.latencies_ms, 99):.2f}",
                     f"{1000 * w.per_purchase(w.cpu_s):.3f}",
                     f"{_ops_per_attempt(w):.3f}",
                     f"{w.replica_store.total / w.elapsed_s:,.0f}",
                     f"{w.per_purchase(w.replica_store.total):.2f}",
                     f"{replica.checks / w.elapsed_s:,.0f}" if replica else "-",
                     f"{replica.credits / w.elapsed_s:,.1f}" if replica else "-",
                     f"{w.per_purchase(replica.credited_slots):.0%}"
                     if replica and replica.credits else "-",
                     str(w.violations)])
    table(["variant", "purchases", "purchases/s", "p50 ms", "p99 ms", "CPU ms/purchase",
           "buyers' store ops/attempt", "replica store ops/s", "replica store ops/purchase",
           "checks/s", "credit runs/s", "sales credited by the end", "audit violations"], rows)
    print("\nBetween variants: all slices' purchases/s, and each round's ratio (median and "
          "quartiles over the rounds); the extra CPU and buyers' store operations per "
          "purchase:\n")
    rows = []
    for top, bottom in ((1, 0), (2, 0), (2, 1)):
        hi, lo = worlds[top], worlds[bottom]
        per_round = sorted(a / b for a, b in zip(hi.rates, lo.rates, strict=True) if b > 0)
        rows.append([f"{hi.variant} / {lo.variant}",
                     f"**{ratio(hi.purchases_per_s, lo.purchases_per_s)}**",
                     f"{statistics.median(per_round):.2f}x" if per_round else "-",
                     f"{pct(per_round, 25):.2f}x - {pct(per_round, 75):.2f}x"
                     if per_round else "-",
                     f"{1000 * (hi.per_purchase(hi.cpu_s) - lo.per_purchase(lo.cpu_s)):+.3f}",
                     f"{_ops_per_attempt(hi) - _ops_per_attempt(lo):+.3f}"])
    table(["", "purchases/s ratio", "per round: median", "quartiles",
           "extra CPU ms/purchase", "extra buyers' store ops/attempt"], rows)
    await _shares(worlds, tmp / "op-costs.db")
    return sum(w.violations for w in worlds)


def _ops_per_attempt(world: _World) -> float:
    return world.buyer_store.total / max(world.attempts, 1)


async def _world(variant: str, path: Path) -> _World:
    inner = await SqliteStore(path).open()
    ctx = warped_context(SPEED)
    setup = Journal(inner, ctx)
    users = [f"u{i:04d}" for i in range(BUYERS)]
    campaigns = [f"c{i:04d}" for i in range(MANY_CAMPAIGNS)]
    for uid in users:
        _expect(await setup.create_account(uid), Created)
        _expect(await setup.deposit(uid, "opening", BIG), Deposited)
    for cid in campaigns:
        _expect(await setup.create_account(f"seller-{cid}"), Created)
        _expect(await setup.create_campaign(cid, f"seller-{cid}", 1, 1), Created)
    buyer_store, replica_store = CountingStore(inner), CountingStore(inner)
    replica = None
    if variant != VARIANTS[0]:
        kind = _NoCreditJournal if variant == VARIANTS[1] else Journal
        replica = Replica(kind(replica_store, ctx), OrdinalShard(0, 1), 0, 1)
    return _World(variant, inner, buyer_store, replica_store, Journal(buyer_store, ctx),
                  replica, users, campaigns)


async def _slice(world: _World, seconds: float, round_: int) -> None:
    """The world's buyers for ``seconds``, its replica (if any) ticking every second."""
    stop = asyncio.Event()

    async def tick_every_second(replica: Replica) -> None:
        began = time.monotonic()
        for second in range(math.ceil(seconds)):  # at 0, 1, ... s: none at the slice's end
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(),
                                       max(0.0, began + second - time.monotonic()))
            if stop.is_set():
                break
            await replica.tick(1_000_000 + world.ticks)  # the pacer's time: tick x 1000 ms
            world.ticks += 1
        await stop.wait()
        await replica.wait_idle()

    ticker = (asyncio.create_task(tick_every_second(world.replica))
              if world.replica is not None else None)
    cpu = time.process_time()
    stats = await run_buyers(world.buyers, BUYERS, 10**9, world.campaigns, users=world.users,
                             deadline_s=seconds, seed=1000 * round_)
    stop.set()
    if ticker is not None:
        await ticker  # the replica's work of this slice counts in its CPU
    world.cpu_s += time.process_time() - cpu
    world.attempts += stats.attempts
    world.bought += stats.bought
    world.elapsed_s += stats.elapsed_s
    world.latencies_ms.extend(stats.latencies_ms)
    world.rates.append(stats.purchases_per_s)


async def _shares(worlds: Sequence[_World], path: Path) -> None:
    """The replica's store operations against the buyers', weighted by their CPU cost."""
    get_ms, write_ms = await _op_costs(path)
    print(f"\n**Where the replica's share comes from.** Its store operations per purchase "
          f"against the buyers' own, each kind weighted by what it costs this process: a "
          f"sequential microbenchmark on a fresh sqlite file (the best of 3 x "
          f"{OP_COST_N:,}) gives a `get` ~{get_ms:.3f} ms of CPU and a write (`replace`) "
          f"~{write_ms:.3f} ms. *Share* = the replica's weighted operations / the buyers': "
          f"what the replica would take from a process that is CPU-bound on its store "
          f"operations (as this one is), on top of the buyers' extra CAS retries.\n")
    rows = []
    for w in worlds[1:]:
        gets = w.per_purchase(w.replica_store.ops["get"])
        writes = w.per_purchase(w.replica_store.total) - gets
        own_gets = w.per_purchase(w.buyer_store.ops["get"])
        own_writes = w.per_purchase(w.buyer_store.total) - own_gets
        share = ((gets * get_ms + writes * write_ms)
                 / max(own_gets * get_ms + own_writes * write_ms, 1e-9))
        rows.append([w.variant, f"{gets:.3f}", f"{writes:.3f}", f"{own_gets:.2f}",
                     f"{own_writes:.2f}", f"{share:.1%}"])
    table(["variant", "replica gets/purchase", "replica writes/purchase",
           "buyers' gets/purchase", "buyers' writes/purchase", "share"], rows)
    print()


OP_COST_N = 1000


async def _op_costs(path: Path) -> tuple[float, float]:
    """CPU ms per ``get`` and per ``replace`` of a receipt-sized document, one at a time: the
    best of three rounds (the least disturbed by other work on the machine)."""
    store = await SqliteStore(path).open()
    try:
        doc = {"buyer": "u0001", "seller": "seller-c0001", "price": 12, "attempt": "a" * 32,
               "fee": 1}
        cas = await store.insert("txn:c0001:1", doc)
        gets, writes = [], []
        for _ in range(3):
            began = time.process_time()
            for _ in range(OP_COST_N):
                await store.get("txn:c0001:1")
            gets.append((time.process_time() - began) * 1000 / OP_COST_N)
            began = time.process_time()
            for _ in range(OP_COST_N):
                cas = await store.replace("txn:c0001:1", doc, cas)
            writes.append((time.process_time() - began) * 1000 / OP_COST_N)
        return min(gets), min(writes)
    finally:
        await store.close()


# --- output -------------------------------------------------------------------------------


def _report_violations(run: str, violations: Sequence[object]) -> None:
    for violation in violations[:20]:
        print(f"**AUDIT VIOLATION** ({run}): {violation}\n")


if __name__ == "__main__":
    raise SystemExit(main())
