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
blocks the loop on a lock: the connection has no busy wait, and an operation that finds the
file locked by another connection (another process writing) sleeps on the loop, backing off,
and tries again until ``busy_timeout``. A write transaction never spans an ``await``, so the
one connection is never shared by two operations at once. A handle belongs to the event loop
that uses it (one at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ._errors import CasMismatch, Exists, InDoubt, NotFound, Unavailable
from ._port import Document, Json

T = TypeVar("T")

CAS_BLOCK = 4096
"""How many cas values a handle reserves from ``cas_counter`` at a time."""

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
        self._file_busy: asyncio.Lock | None = None  # held by the op waiting for the file

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
        conn, self._conn = self._conn, None
        if conn is not None:
            # closing the last connection checkpoints the WAL (disk I/O): off the loop
            await asyncio.get_running_loop().run_in_executor(self._executor, conn.close)
        self._executor.shutdown(wait=True)

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

    def _reserve_cas(self, conn: sqlite3.Connection) -> None:
        """A new block of cas values once this handle's is used up: one committed step of the
        counter, outside any write transaction (a rolled back write must not take back a block
        this handle goes on using)."""
        if self._next_cas < self._block_end:
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
        def transaction() -> int:
            conn = self._connection()
            self._reserve_cas(conn)
            conn.execute("BEGIN IMMEDIATE")
            cas = self._take_cas()  # spent even if rolled back: a commit may be in doubt
            try:
                apply(conn, cas)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                # SQLite may leave the transaction open after a failed COMMIT (disk full...):
                # end it, or this connection keeps the file's write lock and shows other
                # reads its uncommitted write. The caller still has to treat it as InDoubt.
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise InDoubt(key, op, f"commit failed: {exc}") from exc
            return cas

        try:
            if self._file_busy is None or not self._file_busy.locked():
                return await self._run(transaction, op, key)
            async with self._file_busy:  # another write of ours waits for the file: queue
                return await self._run_when_free(transaction, op, key, failed=False)
        except _Aborted as aborted:
            raise aborted.error from None

    async def _run(self, fn: Callable[[], T], op: str, key: str) -> T:
        """``fn()`` on the loop; while the file is locked by another connection, sleep and try
        again (``fn`` did nothing: a busy write rolled back), until the busy timeout."""
        try:
            return fn()
        except sqlite3.Error as exc:
            if not _busy(exc):
                raise Unavailable(key, op, str(exc)) from exc
        if self._file_busy is None:
            self._file_busy = asyncio.Lock()
        # One op of this handle at a time polls the file; the writes that come meanwhile
        # queue behind it (``_write``) instead of failing on the lock too.
        async with self._file_busy:
            return await self._run_when_free(fn, op, key, failed=True)

    async def _run_when_free(self, fn: Callable[[], T], op: str, key: str, *,
                             failed: bool) -> T:
        """``fn()`` until the file's lock lets it run (``failed``: it just did not), sleeping
        0 (a yield: the other writer's transaction takes tens of microseconds), then 0.5 ms
        doubling up to 8 ms, until the busy timeout."""
        deadline = time.monotonic() + self._busy_timeout_ms / 1000
        pause = 0.0
        while True:  # bounded by the deadline
            if failed:
                await asyncio.sleep(pause)
                pause = min(max(pause * 2, 0.0005), 0.008)
            try:
                return fn()
            except sqlite3.Error as exc:
                if not _busy(exc) or time.monotonic() >= deadline:
                    raise Unavailable(key, op, str(exc)) from exc
            failed = True


def _busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED (and their extended codes): another connection holds a
    lock this statement needs; nothing was done."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


# Built once: json.dumps with options builds an encoder per call.
_encode: Callable[[Json], str] = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode
_decode: Callable[[str], Json] = json.JSONDecoder().decode
