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

Every write is one ``BEGIN IMMEDIATE`` transaction that takes the next cas from
``cas_counter`` and applies a conditional statement (``INSERT`` that fails on an existing key,
``UPDATE ... WHERE cas = ?``). SQLite lets one writer at a time hold the file's write lock, so
when two processes CAS the same key at once exactly one wins; the file-wide counter means a cas
is never reused, even for a key that was removed and inserted again.

The file is in WAL mode with ``synchronous=NORMAL``: a committed write survives the death of
any process; a power cut may lose the last transactions (never corrupt the file). A writer
that waits longer than ``busy_timeout`` for the lock gets ``Unavailable`` (nothing written).
An error at ``COMMIT`` itself is ``InDoubt``.
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
    """The port over one sqlite file; all calls of this object run on one worker thread."""

    def __init__(self, path: str | Path, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="abc-sqlite")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> SqliteStore:
        """Create the file and schema if needed; safe to run from several processes at once."""
        await self._run(self._open, "open", str(self.path))
        return self

    def _open(self) -> None:
        if not self.path.parent.is_dir():
            missing = f"directory {self.path.parent} does not exist"
            raise Unavailable(str(self.path), "open", missing)
        timeout = self._busy_timeout_ms / 1000
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=timeout)  # busy timeout
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
        return Document(json.loads(row[0]), int(row[1]))

    @staticmethod
    def _why_not(conn: sqlite3.Connection, key: str, op: str) -> Exception:
        exists = conn.execute("SELECT 1 FROM documents WHERE key = ?", (key,)).fetchone()
        return CasMismatch(key, op) if exists else NotFound(key, op)

    async def _write(
        self, apply: Callable[[sqlite3.Connection, int], None], op: str, key: str
    ) -> int:
        def transaction() -> int:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                (cas,) = conn.execute(
                    "UPDATE cas_counter SET last = last + 1 WHERE id = 1 RETURNING last"
                ).fetchone()
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
            return int(cas)

        try:
            return await self._run(transaction, op, key)
        except _Aborted as aborted:
            raise aborted.error from None

    async def _run(self, fn: Callable[[], T], op: str, key: str) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn)
        except sqlite3.Error as exc:
            raise Unavailable(key, op, str(exc)) from exc


def _encode(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
