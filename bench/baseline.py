"""Baseline (not a test): the purchase as one SERIALIZABLE PostgreSQL transaction, what a user
would pick instead of Abc, beside Abc's journal on sqlite and on couchbase (the real SDK over
TCP to the test wire server), one hot campaign and many, the same buyers and the same price rule.
Prints Markdown; run from the repo root: ``python bench/baseline.py [--purchases N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as a plain script (``python bench/baseline.py``, no PYTHONPATH, no install): put the repo
# root on the import path so ``services`` is found.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

try:  # the `bench` extra (pip install -e '.[bench]'); without it the PostgreSQL rows skip
    import psycopg  # type: ignore[import-not-found, unused-ignore]
except ImportError:
    PSYCOPG_MISSING = True
else:
    PSYCOPG_MISSING = False

from _report import header, ratio, table

from services.journal import (
    Bought,
    Campaign,
    InsufficientFunds,
    Journal,
    PriceAboveMax,
    Purchase,
    audit,
    price_at,
    slot_window,
)
from services.lab.loadgen import (
    MAX_PRICE,
    LoadStats,
    balance_for,
    campaign_id,
    run_buyers,
    set_up,
    user_id,
    warped_context,
)
from services.store import CouchbaseSettings, CouchbaseStore, DocumentStore, SqliteStore
from tests.couchbase_wire.process import wire_server_process

ROOT = Path(__file__).resolve().parent.parent
SPEED = 10_000  # both sides' clock runs this much faster than real time (see the header)
BUYERS = 16
MANY_CAMPAIGNS = 64
DEFAULT_PURCHASES = 5_000
QUICK_PURCHASES = 300
MAX_TRIES = 50  # PostgreSQL: tries of one purchase's transaction before giving up
MIN_PRICE = 1  # the campaigns' min price and slot length: those of services.lab.loadgen.set_up
SLOT_SECONDS = 1
DEFAULT_PG = "host=127.0.0.1 port=5432 dbname=test user=postgres"
Clock = Callable[[], int]
RETRIED = {"40001": "serialization failure", "40P01": "deadlock"}

ABC_SQLITE = "Abc, sqlite"
ABC_COUCHBASE = "Abc, couchbase"
PG = "PostgreSQL"
PG_ASYNC = "PostgreSQL, synchronous_commit=off"
SYSTEMS = (ABC_SQLITE, ABC_COUCHBASE, PG, PG_ASYNC)
WORKLOADS = (("hot", 1), ("many", MANY_CAMPAIGNS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--purchases", type=int, default=None, metavar="N",
                        help=f"purchase attempts per run (default {DEFAULT_PURCHASES}, "
                             f"or {QUICK_PURCHASES} with --quick)")
    parser.add_argument("--quick", action="store_true", help="a smoke run of some seconds")
    parser.add_argument("--pg", default=DEFAULT_PG, metavar="CONNINFO",
                        help=f"the PostgreSQL to use (libpq conninfo; default {DEFAULT_PG!r}); "
                             "the bench creates a schema of its own there and drops it")
    parser.add_argument("--samples-json", type=Path, default=None, metavar="PATH",
                        help="also write every run's latencies (ms) and rates to PATH as JSON "
                             "(bench/run_all.py plots them)")
    args = parser.parse_args()
    purchases = (args.purchases if args.purchases is not None
                 else QUICK_PURCHASES if args.quick else DEFAULT_PURCHASES)
    if purchases < 1:
        parser.error("--purchases must be at least 1")
    started = time.perf_counter()
    _header(purchases)
    runs = asyncio.run(_all_runs(purchases, args.pg))
    _report(runs)
    if args.samples_json is not None:
        _write_samples(args.samples_json, runs)
    failures = sum(len(run.violations) for run in runs)
    print(f"\nInvariant violations (Abc's audit, PostgreSQL's checks): **{failures}**. "
          f"Bench time {time.perf_counter() - started:.1f} s.")
    return 1 if failures else 0


def _header(purchases: int) -> None:
    header("Baseline: Abc against one SERIALIZABLE PostgreSQL transaction", "bench/baseline.py")
    print(f"The same purchase four ways, {BUYERS} concurrent buyers on one asyncio loop in this "
          f"process, each with an account of its own, {purchases} purchase attempts per run, "
          f"on a fresh world per run: {BUYERS} users and either one hot campaign or "
          f"{MANY_CAMPAIGNS} campaigns chosen uniformly (min price {MIN_PRICE}, "
          f"{SLOT_SECONDS} s slots, max price {MAX_PRICE:.0e}).\n")
    print("- **Abc, sqlite / Abc, couchbase**: `journal.buy(..., keep_trying=False)`: intent "
          "(lock the account), commit (insert the slot), receipt, debit, advance, each a "
          "separate store operation; sqlite is a fresh file (WAL, `synchronous=NORMAL`); "
          "couchbase is the real SDK (durability majority) over TCP to the test wire server "
          "(`tests/couchbase_wire`, a Python stand-in for one node, in a process of its own).\n"
          "- **PostgreSQL**: one `SERIALIZABLE` transaction per purchase through psycopg 3 "
          "(async, one connection per buyer): `SELECT ... FOR UPDATE` the account, "
          "`SELECT ... FOR UPDATE` the campaign, check the balance, `INSERT` slot head+1, "
          "`INSERT` its receipt, `UPDATE` the balance, `UPDATE` the campaign's head and last "
          f"purchase; `COMMIT`. On SQLSTATE 40001 (serialization failure) or 40P01 (deadlock) "
          f"it rolls back and tries again at once, up to {MAX_TRIES} tries (then the buyer "
          "is told `GaveUp`, an outcome like Abc's `LostRace`). Server defaults "
          "(`synchronous_commit=on`: each COMMIT waits for its WAL flush), except "
          "`enable_seqscan=off` for the buyers' sessions: on tables this small (17 users, "
          f"{MANY_CAMPAIGNS} campaigns) the planner picks sequential scans, and under "
          "SERIALIZABLE a sequential scan takes a predicate lock on the whole table, so any two "
          "concurrent purchases conflict (on the dev VM: ~14 retries per purchase and ~9x fewer "
          "purchases/s on many campaigns); a table of production size gets index scans and "
          "row and page locks, as here (PostgreSQL's docs give the same advice for "
          "serializable workloads). "
          "**PostgreSQL, synchronous_commit=off** is the same with commits acknowledged "
          "before the flush, the durability of sqlite's `synchronous=NORMAL` (a crash may "
          "lose the last commits, never half of one).\n")
    print("**Semantics.** An Abc attempt is one try: a lost race on the hot campaign is an "
          "outcome (`LostRace`, nothing charged) returned to the buyer, so *attempts/s* counts "
          "tries and *purchases/s* the slots sold. A PostgreSQL attempt retries internally "
          "until it buys (or gives up), so its attempts/s is its purchases/s and its races "
          "show as *retries* and latency instead. On sqlite Abc's store operations run inline "
          "on the event loop (`services/store/_sqlite.py`), so one process sells one slot "
          "at a time, as one writer. Abc's journal takes turns per campaign here, as the "
          "services' does (`Journal(..., take_turns=True)`, `services/journal/_turns.py`): "
          "one process's purchases of a campaign queue instead of racing, so no row loses a "
          "race within its process (two processes still race: bench/journal.py section 3), "
          "and on the hot campaign an attempt's latency includes its wait behind the other "
          "buyers (about 15 purchases' time), where a PostgreSQL attempt's shows as "
          "retries.\n")
    print(f"**The clock runs {SPEED:,}x fast on both sides** (`services.lab.loadgen."
          "warped_context`); PostgreSQL prices with the journal's own `price_at` and "
          "`slot_window` on that clock. With the real clock each purchase queues a 1 s slot "
          "after the last and doubles the price, so a campaign sells a burst of ~40 slots and "
          "then answers PriceAboveMax for tens of seconds (bench/journal.py section 4): that "
          "measures the price rule, not the store. With the fast clock every attempt on either "
          "side runs the whole purchase, and both sides compute the same prices.\n")




# --- the runs --------------------------------------------------------------------------------


@dataclass
class Run:
    system: str
    workload: str  # "hot" or "many"
    stats: LoadStats | None  # None: skipped
    retries: Retries = field(default_factory=lambda: Retries())
    violations: list[str] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (invariant, result)
    note: str = ""


class Retries(dict[str, int]):
    """Retries by the SQLSTATE that caused them."""

    def add(self, key: str) -> None:
        self[key] = self.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.values())


async def _all_runs(purchases: int, pg: str) -> list[Run]:
    runs: list[Run] = []
    reason = await _pg_unreachable(pg)
    if reason is not None:
        where = "PostgreSQL rows" if PSYCOPG_MISSING else f"no PostgreSQL at `{pg}`"
        print(f"**skipped: {where}** ({reason}); the Abc rows still run.\n")
    schema = f"abc_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="abc-bench-baseline-") as tmp:
        for workload, campaigns in WORKLOADS:
            for system in SYSTEMS:
                print(f"running {system}, {workload} ...", file=sys.stderr, flush=True)
                if system in (PG, PG_ASYNC) and reason is not None:
                    runs.append(Run(system, workload, None, note="skipped: no PostgreSQL"))
                elif system in (PG, PG_ASYNC):
                    runs.append(await _pg_run(pg, schema, system, workload, campaigns,
                                              purchases))
                else:
                    runs.append(await _abc_run(system, workload, campaigns, purchases,
                                               Path(tmp) / f"{workload}.db"))
    return runs


# --- Abc -------------------------------------------------------------------------------------


async def _abc_run(system: str, workload: str, campaigns: int, purchases: int,
                   path: Path) -> Run:
    async with _abc_store(system, path) as store:
        journal = Journal(store, warped_context(SPEED), take_turns=True)
        world = await set_up(journal, BUYERS, campaigns, balance_for(BUYERS))
        stats = await run_buyers(journal, BUYERS, purchases, world.campaigns,
                                 users=world.users, hot=campaigns == 1)
        violations = [str(v) for v in await audit(store, quiescent=True)]
    checks = [("quiescent audit (every docs/protocol.md invariant)",
               "ok" if not violations else f"**{len(violations)} violation(s)**")]
    return Run(system, workload, stats, violations=violations, checks=checks)


@contextlib.asynccontextmanager
async def _abc_store(system: str, path: Path) -> AsyncIterator[DocumentStore]:
    store: DocumentStore
    if system == ABC_SQLITE:
        store = await SqliteStore(path).open()
        try:
            yield store
        finally:
            await store.close()
        return
    with wire_server_process() as (url, env):
        store = await CouchbaseStore(CouchbaseSettings.from_url(url, env=env)).open()
        try:
            yield store
        finally:
            await store.close()


# --- PostgreSQL ------------------------------------------------------------------------------

TABLES = """
CREATE TABLE users (
    id text PRIMARY KEY,
    balance bigint NOT NULL CHECK (balance >= 0)
);
CREATE TABLE deposits (
    user_id text NOT NULL REFERENCES users,
    deposit_id text NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    PRIMARY KEY (user_id, deposit_id)
);
CREATE TABLE campaigns (
    id text PRIMARY KEY,
    owner text NOT NULL REFERENCES users,
    min_price bigint NOT NULL,
    slot_seconds integer NOT NULL,
    head integer NOT NULL DEFAULT 0,
    last_slot integer, last_price bigint, last_bought_at bigint, last_start bigint,
    last_end bigint
);
CREATE TABLE slots (
    campaign_id text NOT NULL REFERENCES campaigns,
    n integer NOT NULL CHECK (n >= 1),
    buyer text NOT NULL REFERENCES users,
    price bigint NOT NULL,
    bought_at bigint NOT NULL,
    start_ms bigint NOT NULL,
    end_ms bigint NOT NULL,
    PRIMARY KEY (campaign_id, n)
);
CREATE TABLE receipts (
    campaign_id text NOT NULL,
    n integer NOT NULL,
    buyer text NOT NULL,
    seller text NOT NULL,
    price bigint NOT NULL,
    PRIMARY KEY (campaign_id, n),
    FOREIGN KEY (campaign_id, n) REFERENCES slots
);
"""
DROP_TABLES = "DROP TABLE IF EXISTS receipts, slots, campaigns, deposits, users"


async def _pg_unreachable(pg: str) -> str | None:
    """Why PostgreSQL at ``pg`` can't be used, or None if it can."""
    if PSYCOPG_MISSING:
        return "psycopg is not installed: pip install -e '.[bench]'"
    try:
        conn = await psycopg.AsyncConnection.connect(pg, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    await conn.close()
    return None


@dataclass(frozen=True, slots=True)
class GaveUp:
    """A PostgreSQL purchase whose transaction failed ``MAX_TRIES`` times."""

    tries: int


class _Admin:
    """One autocommit connection that owns the bench's schema: creates it, fills it, checks
    it, and drops it at the end."""

    def __init__(self, conn: psycopg.AsyncConnection[Any], schema: str) -> None:
        self.conn = conn
        self.schema = schema

    async def fresh_world(self, campaigns: int) -> tuple[list[str], list[str]]:
        """The tables, emptied, holding the world ``services.lab.loadgen.set_up`` makes."""
        await self.conn.execute(DROP_TABLES)
        await self.conn.execute(TABLES)
        owner = "owner"
        users = [user_id("", i) for i in range(1, BUYERS + 1)]
        cids = [campaign_id("", i) for i in range(1, campaigns + 1)]
        balance = balance_for(BUYERS)
        async with self.conn.cursor() as cur:
            await cur.execute("INSERT INTO users VALUES (%s, 0)", (owner,))
            await cur.executemany("INSERT INTO users VALUES (%s, %s)",
                                  [(uid, balance) for uid in users])
            await cur.executemany("INSERT INTO deposits VALUES (%s, 'opening', %s)",
                                  [(uid, balance) for uid in users])
            await cur.executemany(
                "INSERT INTO campaigns (id, owner, min_price, slot_seconds) "
                "VALUES (%s, %s, %s, %s)",
                [(cid, owner, MIN_PRICE, SLOT_SECONDS) for cid in cids])
        await self.conn.execute("ANALYZE users, deposits, campaigns, slots, receipts")
        return users, cids

    async def one(self, sql: str) -> Any:
        cur = await self.conn.execute(sql)
        row = await cur.fetchone()
        assert row is not None
        return row[0]

    async def check(self, bought: int) -> tuple[list[tuple[str, str]], list[str]]:
        """The invariants after a run: (invariant, result) rows and the violations."""
        balances = int(await self.one("SELECT coalesce(sum(balance), 0) FROM users"))
        receipts = int(await self.one("SELECT coalesce(sum(price), 0) FROM receipts"))
        deposits = int(await self.one("SELECT coalesce(sum(amount), 0) FROM deposits"))
        gaps = int(await self.one(
            "SELECT count(*) FROM campaigns c LEFT JOIN "
            "(SELECT campaign_id, count(*) AS k, max(n) AS top FROM slots GROUP BY 1) s "
            "ON s.campaign_id = c.id WHERE coalesce(s.k, 0) <> c.head "
            "OR coalesce(s.top, 0) <> c.head"))
        unmatched = int(await self.one(
            "SELECT count(*) FROM slots s FULL JOIN receipts r USING (campaign_id, n) "
            "WHERE s.n IS NULL OR r.n IS NULL OR s.price <> r.price OR s.buyer <> r.buyer"))
        slots = int(await self.one("SELECT count(*) FROM slots"))
        negative = int(await self.one("SELECT count(*) FROM users WHERE balance < 0"))
        rows: list[tuple[str, str, bool]] = [
            ("balances + receipts == deposits",
             f"{balances:,} + {receipts:,} = {balances + receipts:,} vs {deposits:,}",
             balances + receipts == deposits),
            ("no slot gaps (slots of each campaign are exactly 1..head)",
             f"{gaps} campaign(s) off", gaps == 0),
            ("one receipt per slot (same buyer, same price)", f"{unmatched} unmatched",
             unmatched == 0),
            ("slots sold == purchases the buyers were told of", f"{slots} vs {bought}",
             slots == bought),
            ("no negative balance", f"{negative}", negative == 0),
        ]
        checks = [(what, ("ok: " if good else "**VIOLATED**: ") + detail)
                  for what, detail, good in rows]
        violations = [f"{what}: {detail}" for what, detail, good in rows if not good]
        return checks, violations


@contextlib.asynccontextmanager
async def _admin(pg: str, schema: str) -> AsyncIterator[_Admin]:
    conn = await psycopg.AsyncConnection.connect(pg, autocommit=True, connect_timeout=5)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET search_path TO "{schema}"')
        try:
            yield _Admin(conn, schema)
        finally:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def _pg_run(pg: str, schema: str, system: str, workload: str, campaigns: int,
                  purchases: int) -> Run:
    options = f"-c search_path={schema} -c enable_seqscan=off"
    if system == PG_ASYNC:
        options += " -c synchronous_commit=off"
    async with _admin(pg, schema) as admin:
        users, cids = await admin.fresh_world(campaigns)
        conns = [await psycopg.AsyncConnection.connect(pg, autocommit=True, options=options)
                 for _ in range(BUYERS)]
        try:
            for conn in conns:
                await conn.set_isolation_level(psycopg.IsolationLevel.SERIALIZABLE)
            retries = Retries()
            stats = await _pg_buyers(conns, users, cids, campaigns == 1, purchases, retries)
        finally:
            for conn in conns:
                await conn.close()
        checks, violations = await admin.check(stats.bought)
    for violation in violations:
        print(f"**INVARIANT VIOLATION** ({system}, {workload}): {violation}\n")
    return Run(system, workload, stats, retries, violations, checks)


async def _pg_buyers(conns: Sequence[psycopg.AsyncConnection[Any]], users: Sequence[str],
                     cids: Sequence[str], hot: bool, purchases: int,
                     retries: Retries) -> LoadStats:
    """As ``services.lab.loadgen.run_buyers``: one task per connection, each buying with its own
    account until ``purchases`` attempts were handed out."""
    clock = warped_context(SPEED).clock
    stats = LoadStats()
    tickets = iter(range(purchases))

    async def buyer(i: int) -> None:
        rng = random.Random(i)  # the seeds run_buyers gives its buyers
        uid = users[i % len(users)]
        for _ in tickets:
            cid = cids[0] if hot else rng.choice(cids)
            began = time.perf_counter()
            outcome = await _pg_buy(conns[i], clock, uid, cid, MAX_PRICE, retries)
            stats.record(outcome, (time.perf_counter() - began) * 1000)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for i in range(len(conns)):
            group.create_task(buyer(i))
    stats.elapsed_s = time.perf_counter() - start
    return stats


CAMPAIGN_COLUMNS = ("owner, min_price, slot_seconds, head, last_slot, last_price, "
                    "last_bought_at, last_start, last_end")


async def _pg_buy(conn: psycopg.AsyncConnection[Any], clock: Clock, uid: str, cid: str,
                  max_price: int, retries: Retries) -> object:
    """One purchase: the whole thing in one SERIALIZABLE transaction, tried again on a
    serialization failure or a deadlock. Returns the journal's outcome types."""
    for tries in range(1, MAX_TRIES + 1):
        try:
            async with conn.transaction():
                return await _pg_purchase(conn, clock, uid, cid, max_price)
        except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as exc:
            retries.add(exc.sqlstate or "?")
            if tries == MAX_TRIES:
                return GaveUp(tries)
    raise AssertionError("unreachable")


async def _pg_purchase(conn: psycopg.AsyncConnection[Any], clock: Clock, uid: str, cid: str,
                       max_price: int) -> object:
    cur = await conn.execute("SELECT balance FROM users WHERE id = %s FOR UPDATE", (uid,))
    user = await cur.fetchone()
    cur = await conn.execute(
        f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = %s FOR UPDATE", (cid,))
    row = await cur.fetchone()
    assert user is not None and row is not None
    balance: int = user[0]
    owner, min_price, slot_seconds, head, *last = row
    campaign = Campaign(owner, min_price, slot_seconds, head,
                        None if last[0] is None else Purchase(*last))
    now: int = clock()
    price = price_at(campaign, now)
    if price > max_price:
        return PriceAboveMax(price, max_price)
    if balance < price:
        return InsufficientFunds(balance, price)
    start, end = slot_window(campaign, now)
    n = head + 1
    await conn.execute(
        "INSERT INTO slots VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (cid, n, uid, price, now, start, end))
    await conn.execute("INSERT INTO receipts VALUES (%s, %s, %s, %s, %s)",
                       (cid, n, uid, owner, price))
    await conn.execute("UPDATE users SET balance = balance - %s WHERE id = %s", (price, uid))
    await conn.execute(
        "UPDATE campaigns SET head = %s, last_slot = %s, last_price = %s, "
        "last_bought_at = %s, last_start = %s, last_end = %s WHERE id = %s",
        (n, n, price, now, start, end, cid))
    return Bought(n, price, f"txn:{cid}:{n}", start, end, balance - price, now)


# --- the report ------------------------------------------------------------------------------


def _report(runs: Sequence[Run]) -> None:
    print("## Purchases per second and latency\n")
    table(["system", "workload", "attempts", "bought", "lost races / retries", "other",
            "purchases/s", "attempts/s", "tries/s", "p50 ms", "p99 ms", "invariants"],
           [_row(run) for run in runs])
    print("\n*tries/s*: transactions begun per second (PostgreSQL: attempts + retries; Abc: "
          "its attempts, each one try). *lost races / retries*: Abc's LostRace outcomes; "
          "PostgreSQL's rolled-back tries by SQLSTATE. Latency is per attempt, a "
          "PostgreSQL attempt including its retries.\n")
    by = {(run.system, run.workload): run for run in runs}
    print("## Ratios (Abc / PostgreSQL with server defaults)\n")
    rows = []
    for workload, _ in WORKLOADS:
        pg = by[PG, workload].stats
        for system in (ABC_SQLITE, ABC_COUCHBASE):
            abc = by[system, workload].stats
            assert abc is not None
            if pg is None:
                rows.append([workload, system, "n/a", "n/a", "n/a", "n/a"])
                continue
            rows.append([workload, f"{system} / PostgreSQL",
                         ratio(abc.purchases_per_s, pg.purchases_per_s),
                         ratio(abc.attempts_per_s, pg.attempts_per_s),
                         ratio(abc.latency_ms(50), pg.latency_ms(50)),
                         ratio(abc.latency_ms(99), pg.latency_ms(99))])
    table(["workload", "ratio", "purchases/s", "attempts/s", "p50 latency", "p99 latency"],
           rows)
    print("\nAbove 1x in purchases/s or attempts/s: Abc is faster; above 1x in latency: Abc is "
          "slower.\n")
    print("## Invariants after each run\n")
    rows = [[run.system, run.workload, what, result]
            for run in runs for what, result in run.checks]
    if rows:
        table(["system", "workload", "invariant", "result"], rows)


def _row(run: Run) -> list[str]:
    s = run.stats
    if s is None:
        return [run.system, run.workload, *(["-"] * 9), run.note]
    other = ", ".join(f"{n} {name}" for name, n in sorted(s.others.items())) or "0"
    if run.system in (PG, PG_ASYNC):
        lost = ", ".join(f"{n} {RETRIED.get(code, code)}" for code, n in
                         sorted(run.retries.items())) or "0"
        tries = s.attempts + run.retries.total
    else:
        lost, tries = str(s.lost_races), s.attempts
    verdict = "ok" if not run.violations else f"**{len(run.violations)} violated**"
    return [run.system, run.workload, str(s.attempts), str(s.bought), lost, other,
            f"{s.purchases_per_s:,.0f}", f"{s.attempts_per_s:,.0f}",
            f"{tries / s.elapsed_s if s.elapsed_s > 0 else 0.0:,.0f}",
            f"{s.latency_ms(50):.2f}", f"{s.latency_ms(99):.2f}", verdict]


def _write_samples(path: Path, runs: Sequence[Run]) -> None:
    data = [{"system": run.system, "workload": run.workload,
             "purchases_per_s": run.stats.purchases_per_s,
             "attempts_per_s": run.stats.attempts_per_s,
             "retries": run.retries.total, "latencies_ms": run.stats.latencies_ms}
            for run in runs if run.stats is not None]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"buyers": BUYERS, "runs": data}))


if __name__ == "__main__":
    raise SystemExit(main())
