"""The sqlite adapter: the embedded default. Several OS processes may share one file.

Table layout (created on first open)::

    CREATE TABLE documents (
        key   TEXT PRIMARY KEY,   -- the document key, e.g. "user:alice"
        value TEXT NOT NULL,      -- the JSON object, compact
        cas   INTEGER NOT NULL    -- the cas of the last write of this key
    ) WITHOUT ROWID;
    CREATE TABLE cas_counter (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        last INTEGER NOT NULL     -- the last cas handed out, file-wide
    );

Every write is one ``BEGIN IMMEDIATE`` transaction that applies a conditional statement
(``INSERT`` that fails on an existing key, ``UPDATE ... WHERE cas = ?``) with the next cas of
the handle's block. SQLite lets one writer at a time hold the file's write lock, so when two
processes CAS the same key at once exactly one wins. A handle takes its cas values from
``cas_counter`` a block of ``CAS_BLOCK`` at a time (one committed step of the counter, before
the write that needs it), so no cas is ever handed out twice file-wide, even for a key that
was removed and inserted again, and a write touches one page, not two (a counter step per
write cost a write 40% of its time). A block's unused values are never used: a cas says
nothing about order, only identity.

The file is in WAL mode with ``synchronous=NORMAL``: a committed write survives the death of
any process; a power cut may lose the last transactions (never corrupt the file). A writer
that waits longer than ``busy_timeout`` for the lock gets ``Unavailable`` (nothing written).
An error at ``COMMIT`` itself is ``InDoubt``.

Operations run inline, on the caller's event loop, not on a worker thread: a read in WAL mode
takes some 20 us and a write some 50 us, while handing each one to a thread and back cost
60-120 us of CPU more (bench/baseline.py's profile, in bench/README.md). Nothing here ever
blocks the loop on a lock: the connection has no busy wait. A write that finds the file
locked by another connection (another process writing) waits on the loop, and the writes
that come meanwhile wait with it; once the lock is free they are all applied in one
transaction, each with its own cas and its own outcome, and one ``COMMIT`` (``_drain``):
what made two processes on one file slower than one was each write's own lock, commit and
page-cache refill. The same group commit serves writes that come together in one process:
``BEGIN IMMEDIATE`` and ``COMMIT`` were over a third of a one-process purchase's time (py-spy,
bench/README.md "Group commit"), so while writes come several to a turn of the loop (many
purchases at once), each waits for the loop's next turn and commits with the others made in
this one; while they come one at a time, each commits alone at once (``_write``). A write
transaction never spans an ``await``, so the one connection is never shared by two
operations at once. A handle belongs to the event loop that uses it (one at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ._errors import CasMismatch, Exists, InDoubt, NotFound, Unavailable
from ._port import Document, Json

T = TypeVar("T")

CAS_BLOCK = 4096
"""How many cas values a handle reserves from ``cas_counter`` at a time."""

CHECKPOINT_EVERY = 2048
"""How many writes a handle commits between two checkpoints of the WAL (a page or two each, or
fewer in a group: a WAL of ~13 MB at most). SQLite's automatic checkpoint, every 1000 pages, ran in
the committing call on the loop, and with two processes on one file it was a quarter or more
of a worker's samples (py-spy, in ``COMMIT``); this handle turns it off and checkpoints on
its executor's thread (``_checkpoint``): two processes +4 to +17% purchases/s, one process
no change in throughput (bench/README.md, "Checkpoints")."""
CHECKPOINT_WAIT_MS = 100
"""How long a checkpoint waits for the writer and the readers of the WAL it copies from."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, cas INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cas_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1), last INTEGER NOT NULL
);
INSERT OR IGNORE INTO cas_counter (id, last) VALUES (1, 0);
"""


class _Aborted(Exception):
    """Raised inside a write transaction to roll it back and raise ``error`` outside."""

    def __init__(self, error: Exception) -> None:
        self.error = error


class SqliteStore:
    """The port over one sqlite file; operations run inline on the event loop (module doc)."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        # open() and close() only: they may wait on the file's lock, so not on the loop
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="abc-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._next_cas = 0  # this handle's block of cas values: [_next_cas, _block_end)
        self._block_end = 0
        # the writes waiting to be committed together (``_drain``), if any
        self._waiting: list[_Waiting] | None = None
        self._drainer: asyncio.Task[None] | None = None
        # writes that may still commit alone, at once, before the next one waits for a group
        # again to see whether others come with it (``_write``); 0: every write waits
        self._alone_left = 0
        # checkpoints, on the executor's thread through a connection of their own (_checkpoint)
        self._checkpointer: sqlite3.Connection | None = None
        self._commits_since_checkpoint = 0
        self._checkpointing: asyncio.Future[None] | None = None

    async def open(self) -> SqliteStore:
        """Create the file and schema if needed; safe to run from several processes at once."""
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._open)
        except sqlite3.Error as exc:
            raise Unavailable(str(self.path), "open", str(exc)) from exc
        return self

    def _open(self) -> None:
        if not self.path.parent.is_dir():
            missing = f"directory {self.path.parent} does not exist"
            raise Unavailable(str(self.path), "open", missing)
        timeout = self._busy_timeout_ms / 1000
        # Opened here, used on the loop's thread: the handle serializes its own use (doc).
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=timeout,
                               check_same_thread=False)
        self._enable_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints run off the loop
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("PRAGMA busy_timeout = 0")  # from now on a lock is waited for on the loop
        self._conn = conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching a fresh file to WAL needs an exclusive lock, and SQLite refuses it at once
        # ("database is locked", no busy wait: deadlock avoidance) while another process is
        # opening the same file. So retry until the busy timeout, as a writer would wait.
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.005)

    async def get(self, key: str) -> Document:
        return await self._run(lambda: self._get(key), "get", key)

    async def insert(self, key: str, value: Json) -> int:
        text = _encode(value)

        def apply(conn: sqlite3.Connection, cas: int) -> None:
            try:
                conn.execute(
                    "INSERT INTO documents (key, value, cas) VALUES (?, ?, ?)", (key, text, cas)
                )
            except sqlite3.IntegrityError:
                raise _Aborted(Exists(key, "insert")) from None

        return await self._write(apply, "insert", key)

    async def replace(self, key: str, value: Json, cas: int) -> int:
        text = _encode(value)

        def apply(conn: sqlite3.Connection, new_cas: int) -> None:
            cur = conn.execute(
                "UPDATE documents SET value = ?, cas = ? WHERE key = ? AND cas = ?",
                (text, new_cas, key, cas),
            )
            if cur.rowcount != 1:
                raise _Aborted(self._why_not(conn, key, "replace"))

        return await self._write(apply, "replace", key)

    async def upsert(self, key: str, value: Json) -> int:
        text = _encode(value)

        def apply(conn: sqlite3.Connection, cas: int) -> None:
            conn.execute(
                "INSERT INTO documents (key, value, cas) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, cas = excluded.cas",
                (key, text, cas),
            )

        return await self._write(apply, "upsert", key)

    async def remove(self, key: str, cas: int) -> None:
        def apply(conn: sqlite3.Connection, _new_cas: int) -> None:
            cur = conn.execute("DELETE FROM documents WHERE key = ? AND cas = ?", (key, cas))
            if cur.rowcount != 1:
                raise _Aborted(self._why_not(conn, key, "remove"))

        await self._write(apply, "remove", key)

    async def close(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()  # its waiting writes are answered Unavailable
        conn, self._conn = self._conn, None
        if conn is not None:
            # closing the last connection checkpoints the WAL (disk I/O): off the loop
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close, conn)
        self._executor.shutdown(wait=True)

    def _close(self, conn: sqlite3.Connection) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        conn.close()

    def _committed(self, writes: int) -> None:
        """Count the writes of a committed transaction; every ``CHECKPOINT_EVERY`` writes,
        start a checkpoint on the executor's thread unless one is still running."""
        self._commits_since_checkpoint += writes
        if self._commits_since_checkpoint < CHECKPOINT_EVERY:
            return
        if self._checkpointing is not None and not self._checkpointing.done():
            return
        self._commits_since_checkpoint = 0
        self._checkpointing = asyncio.get_running_loop().run_in_executor(
            self._executor, self._checkpoint)

    def _checkpoint(self) -> None:
        """Two checkpoints through a connection of its own. A PASSIVE one copies the WAL into
        the file while writers go on. A RESTART one then copies what they wrote meanwhile
        and has the next writer start the WAL over (PASSIVE alone never lets it restart
        while writes go on: the WAL grew without end, 580 MB in 20,000 purchases). RESTART
        takes the file's write lock, and this process's writes wait on the loop as for any
        other writer: alone it held the lock ~12 ms, copying ~2,900 pages, and a purchase's
        p99 was 15-24 ms; after the PASSIVE pass it has little to copy, and the p99 was
        5-7 ms (bench/README.md, "Checkpoints"). One that finds the file busy past
        ``CHECKPOINT_WAIT_MS``, or fails, is left to the next: nothing depends on it but the
        WAL's size, and the writes report their own errors."""
        with contextlib.suppress(sqlite3.Error):
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self.path, isolation_level=None,
                                                     check_same_thread=False)
                self._checkpointer.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self._checkpointer.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise Unavailable(str(self.path), "use", "store is not open (call open() first)")
        return self._conn

    def _get(self, key: str) -> Document:
        row = self._connection().execute(
            "SELECT value, cas FROM documents WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            raise NotFound(key, "get")
        return Document(_decode(row[0]), int(row[1]))

    def _reserve_cas(self, conn: sqlite3.Connection, needed: int) -> None:
        """A new block of cas values when this handle's has fewer than ``needed`` left (at
        most ``_GROUP_MAX``; the rest of the old block is never used): one committed step of
        the counter, outside any write transaction (a rolled back write must not take back a
        block this handle goes on using)."""
        if self._block_end - self._next_cas >= needed:
            return
        # fetchall: the statement runs to its end, so a failed commit raises here
        ((last,),) = conn.execute(
            "UPDATE cas_counter SET last = last + ? WHERE id = 1 RETURNING last", (CAS_BLOCK,)
        ).fetchall()
        self._next_cas, self._block_end = last - CAS_BLOCK + 1, last + 1

    def _take_cas(self) -> int:
        cas = self._next_cas
        self._next_cas += 1
        return cas

    @staticmethod
    def _why_not(conn: sqlite3.Connection, key: str, op: str) -> Exception:
        exists = conn.execute("SELECT 1 FROM documents WHERE key = ?", (key,)).fetchone()
        return CasMismatch(key, op) if exists else NotFound(key, op)

    async def _write(
        self, apply: Callable[[sqlite3.Connection, int], None], op: str, key: str
    ) -> int:
        """Commit ``apply`` alone, at once, while writes come one at a time; else wait for
        ``_drain`` to commit it with the writes that come during this turn of the loop (or
        while another connection holds the file's lock) in one transaction."""
        if self._waiting is None:
            if self._alone_left:
                try:
                    (result,) = self._commit([apply])
                except _FileBusy:
                    pass  # wait for the lock with the writes that come meanwhile
                except (Unavailable, InDoubt) as exc:
                    raise _as_write(exc, key, op) from exc
                else:
                    self._alone_left -= 1
                    return _value(result)
            self._waiting = []
            self._drainer = asyncio.ensure_future(self._drain())
        entry = _Waiting(apply, op, key, asyncio.get_running_loop().create_future(),
                         time.monotonic() + self._busy_timeout_ms / 1000)
        self._waiting.append(entry)
        return _value(await entry.result)

    def _commit(self, applies: Sequence[Callable[[sqlite3.Connection, int], None]]
                ) -> list[int | Exception]:
        """Apply each of ``applies`` in one ``BEGIN IMMEDIATE`` transaction, each with a cas
        of its own, and commit: a write's result is its cas or the error that rolled back its
        statement (``Exists``, ``CasMismatch``, ``NotFound``). Raises ``_FileBusy`` (nothing
        done) while another connection holds the file's lock, ``Unavailable`` when a statement
        fails (all rolled back), and ``InDoubt`` when the commit itself fails."""
        conn = self._connection()
        try:
            self._reserve_cas(conn, len(applies))
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if _busy(exc):
                raise _FileBusy from None
            raise Unavailable(str(self.path), "write", str(exc)) from exc
        results: list[int | Exception] = []
        try:
            for apply in applies:
                cas = self._take_cas()  # spent even if rolled back: a commit may be in doubt
                try:
                    apply(conn, cas)
                except _Aborted as aborted:  # its statement changed nothing; the others stand
                    results.append(aborted.error)
                else:
                    results.append(cas)
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise Unavailable(str(self.path), "write", str(exc)) from exc
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            # SQLite may leave the transaction open after a failed COMMIT (disk full...):
            # end it, or this connection keeps the file's write lock and shows other reads
            # its uncommitted writes. The callers still have to treat them as InDoubt.
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise InDoubt(str(self.path), "commit", f"commit failed: {exc}") from exc
        self._committed(len(applies))
        return results

    async def _drain(self) -> None:
        """Apply the writes in ``_waiting``, all that are waiting at each attempt, in one
        transaction (one ``BEGIN``/``COMMIT``, and under contention one page-cache refill, for
        all): it starts at the loop's next turn, so the writes that this turn's other tasks
        make come with the first. While another process holds the file's lock the writes
        queue up, and each lock taken then commits many of them. Polls without blocking the
        loop: yields for the first ``_SPIN_S`` (another writer's transaction takes tens of
        microseconds, and this process's other work runs meanwhile), then sleeps 0.5 ms
        doubling up to 8 ms; a write waits until its own busy timeout."""
        waiting = self._waiting
        assert waiting is not None
        spin_until = time.monotonic() + _SPIN_S
        pause = 0.0
        try:
            while waiting:  # bounded: every entry leaves by its deadline at the latest
                _expire(waiting, time.monotonic())
                group = waiting[:_GROUP_MAX]  # none done: _expire dropped those
                if not group:
                    break
                try:
                    results = self._commit([entry.apply for entry in group])
                except _FileBusy:
                    if time.monotonic() >= spin_until:
                        pause = min(max(pause * 2, 0.0005), 0.008)
                    await asyncio.sleep(pause)
                    continue
                except (Unavailable, InDoubt) as exc:
                    results = [_as_write(exc, entry.key, entry.op) for entry in group]
                del waiting[:_GROUP_MAX]
                for entry, result in zip(group, results, strict=True):
                    entry.result.set_result(result)
                # A write that came alone commits alone for a while (waiting for a group
                # costs it a task and a turn of the loop); writes that came together wait
                # for their group again.
                self._alone_left = ALONE_BETWEEN_GROUPS if len(group) == 1 else 0
                spin_until = time.monotonic() + _SPIN_S
                pause = 0.0
        finally:
            self._waiting = None
            for entry in waiting:  # only when cancelled (the loop is closing)
                if not entry.result.done():
                    entry.result.set_result(Unavailable(entry.key, entry.op, "store closed"))

    async def _run(self, fn: Callable[[], T], op: str, key: str) -> T:
        """``fn()`` (a read) on the loop; while the file is locked by another connection
        (rare for a read in WAL mode), sleep and try again, until the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        pause = 0.0
        while True:  # bounded by the deadline
            try:
                return fn()
            except sqlite3.Error as exc:
                if not _busy(exc) or time.monotonic() >= deadline:
                    raise Unavailable(key, op, str(exc)) from exc
            await asyncio.sleep(pause)
            pause = min(max(pause * 2, 0.0005), 0.008)


ALONE_BETWEEN_GROUPS = 32
"""After a group of one write, how many writes commit alone, at once, before the next waits
for a group again (whether writes still come one at a time)."""
_SPIN_S = 0.001
"""How long a write waiting for the file's lock retries at every turn of the loop before it
backs off to sleeping between attempts."""
_GROUP_MAX = 256
"""The most waiting writes one transaction applies."""


@dataclass
class _Waiting:
    """A write waiting for the file's lock (``SqliteStore._drain``)."""

    apply: Callable[[sqlite3.Connection, int], None]
    op: str
    key: str
    result: asyncio.Future[int | Exception]
    deadline: float


class _FileBusy(Exception):
    """Another connection holds the file's write lock; nothing was done."""


def _expire(waiting: list[_Waiting], now: float) -> None:
    """Answer the waiting writes past their busy timeout ``Unavailable`` (nothing written)."""
    for entry in waiting:
        if now >= entry.deadline and not entry.result.done():
            entry.result.set_result(Unavailable(entry.key, entry.op, "database is locked"))
    waiting[:] = [entry for entry in waiting if not entry.result.done()]


def _as_write(exc: Unavailable | InDoubt, key: str, op: str) -> Exception:
    """A transaction's failure as one of its writes': the same kind, under its key and op."""
    return type(exc)(key, op, exc.detail)


def _value(result: int | Exception) -> int:
    if isinstance(result, Exception):
        raise result
    return result


def _busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (and their extended codes): another connection holds a
    lock this statement needs; nothing was done."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


# Built once: json.dumps with options builds an encoder per call.
_encode: Callable[[Json], str] = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
_decode: Callable[[str], Json] = json.JSONDecoder().decode
