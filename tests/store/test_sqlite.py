"""What the sqlite adapter promises beyond the contract: several OS processes share one file,
documents persist, the file is in WAL mode, and its failures are the store's errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from services.store import (
    CasMismatch,
    Document,
    Exists,
    InDoubt,
    NotFound,
    SqliteStore,
    Unavailable,
)
from services.store import _sqlite as sqlite_module
from services.store._sqlite import CAS_BLOCK
from tests._support.loop import run_blocking

WORKER = Path(__file__).with_name("_race_worker.py")
ROOT = Path(__file__).resolve().parents[2]  # where ``services`` is importable from
RACERS = ("a", "b")


@contextlib.contextmanager
def _another_writer(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's writer, mid-transaction: it holds the file's write lock until the
    test commits or rolls back through it."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        yield holder


# --- two processes, one file ----------------------------------------------------------------


def _race(tmp_path: Path, mode: str, db: Path, count: int) -> dict[str, dict[str, Any]]:
    """Run the two workers of ``_race_worker.py``, release them together, return their results."""
    rundir = tmp_path / f"run-{mode}"
    rundir.mkdir()
    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": pythonpath}
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(WORKER), mode, str(db), str(rundir), name, str(count)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in RACERS
    }
    try:
        for stage, release in (("imported", "open"), ("opened", "go")):
            deadline = time.monotonic() + 30
            while not all((rundir / f"{stage}-{name}").exists() for name in RACERS):
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        _, err = proc.communicate()
                        pytest.fail(f"worker {name} exited before {stage!r}:\n{err}")
                assert time.monotonic() < deadline, f"workers never all reached {stage!r}"
                time.sleep(0.001)
            (rundir / release).touch()
        outputs = {name: proc.communicate(timeout=60) for name, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    results: dict[str, dict[str, Any]] = {}
    for name, (out, err) in outputs.items():
        assert procs[name].returncode == 0, f"worker {name} failed:\n{err}"
        results[name] = json.loads(out)
    a, b = results["a"], results["b"]
    assert a["start"] < b["end"] and b["start"] < a["end"], f"workers did not overlap: {results}"
    return results


def test_two_processes_inserting_the_same_keys_each_key_won_exactly_once(tmp_path: Path) -> None:
    count = 200
    db = tmp_path / "race.db"  # does not exist yet: both workers create it at once
    results = _race(tmp_path, "insert", db, count)

    won = {name: set(result["won"]) for name, result in results.items()}
    assert won["a"].isdisjoint(won["b"]), sorted(won["a"] & won["b"])
    assert won["a"] | won["b"] == set(range(count))

    async def stored_by() -> dict[int, str]:
        store = await SqliteStore(db).open()
        try:
            return {i: (await store.get(f"k{i}")).value["by"] for i in range(count)}
        finally:
            await store.close()

    by = run_blocking(stored_by())  # a test of processes: sync
    for name in RACERS:
        assert {i for i, winner in by.items() if winner == name} == won[name]


def test_two_processes_cas_incrementing_one_counter_lose_no_update(tmp_path: Path) -> None:
    count = 200
    db = tmp_path / "race.db"

    async def create() -> None:
        store = await SqliteStore(db).open()
        try:
            await store.insert("counter", {"n": 0})
        finally:
            await store.close()

    async def final() -> int:
        store = await SqliteStore(db).open()
        try:
            n: int = (await store.get("counter")).value["n"]
            return n
        finally:
            await store.close()

    run_blocking(create())  # a test of processes: sync
    results = _race(tmp_path, "increment", db, count)
    assert run_blocking(final()) == len(RACERS) * count
    assert all(result["tries"] >= count for result in results.values())


@pytest.mark.asyncio
async def test_two_handles_in_one_process_see_each_others_writes(tmp_path: Path) -> None:
    first = await SqliteStore(tmp_path / "shared.db").open()
    second = await SqliteStore(tmp_path / "shared.db").open()
    try:
        cas = await first.insert("k", {"v": 1})
        doc = await second.get("k")
        assert (doc.value, doc.cas) == ({"v": 1}, cas)
        await second.replace("k", {"v": 2}, cas)
        with pytest.raises(CasMismatch):
            await first.replace("k", {"v": "lost"}, cas)
        assert (await first.get("k")).value == {"v": 2}
    finally:
        await first.close()
        await second.close()


def _journal_mode(path: Path) -> str:
    """The journal mode of the file at ``path``, as a new plain sqlite3 connection sees it."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        mode: str = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return mode


# --- the file -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_documents_and_their_cas_persist_across_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "persist.db"

    async def write() -> dict[str, int]:
        store = await SqliteStore(path).open()
        try:
            kept = await store.insert("kept", {"v": "kept", "n": [1, 2, {"x": None}]})
            replaced = await store.insert("replaced", {"v": 1})
            replaced = await store.replace("replaced", {"v": 2}, replaced)
            upserted = await store.upsert("upserted", {"v": "up"})
            removed = await store.insert("removed", {"v": "gone"})
            await store.remove("removed", removed)
            return {"kept": kept, "replaced": replaced, "upserted": upserted, "removed": removed}
        finally:
            await store.close()

    async def read_back(cas: dict[str, int]) -> None:
        store = await SqliteStore(path).open()
        try:
            kept = await store.get("kept")
            assert (kept.value, kept.cas) == ({"v": "kept", "n": [1, 2, {"x": None}]}, cas["kept"])
            replaced = await store.get("replaced")
            assert (replaced.value, replaced.cas) == ({"v": 2}, cas["replaced"])
            upserted = await store.get("upserted")
            assert (upserted.value, upserted.cas) == ({"v": "up"}, cas["upserted"])
            with pytest.raises(NotFound):
                await store.get("removed")
            # a cas read before the restart still works, and no cas is handed out again
            new = await store.replace("kept", {"v": "after"}, cas["kept"])
            again = await store.insert("removed", {"v": "back"})
            assert new not in cas.values() and again not in cas.values()
            with pytest.raises(CasMismatch):
                await store.remove("removed", cas["removed"])
        finally:
            await store.close()

    await read_back(await write())


@pytest.mark.asyncio
async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"

    store = await SqliteStore(path).open()
    try:
        await store.upsert("k", {"v": 1})
        assert _journal_mode(path) == "wal"
    finally:
        await store.close()
    assert _journal_mode(path) == "wal"  # WAL is a property of the file, not of a connection


@pytest.mark.asyncio
async def test_open_waits_while_another_connection_writes_to_the_fresh_file(
        tmp_path: Path) -> None:
    """Switching a fresh file to WAL needs an exclusive lock, and sqlite refuses it at once,
    without the busy wait, while another connection writes: what happens when two processes
    open a new file together. ``open`` must wait for the lock like any writer."""
    path = tmp_path / "fresh.db"

    with _another_writer(path) as holder:
        holder.execute("CREATE TABLE other_app (x)")
        opening = asyncio.ensure_future(SqliteStore(path).open())
        await asyncio.sleep(0.2)
        assert not opening.done(), "open() neither waited for the lock nor failed"
        holder.execute("COMMIT")
        store = await opening
        try:
            await store.upsert("k", {"v": 1})
        finally:
            await store.close()
    assert _journal_mode(path) == "wal"


@pytest.mark.asyncio
async def test_open_in_a_missing_directory_raises_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "abc.db"

    store = SqliteStore(path)
    try:
        with pytest.raises(Unavailable) as info:
            await store.open()
    finally:
        await store.close()
    assert (info.value.key, info.value.op) == (str(path), "open")
    assert not isinstance(info.value.__cause__, sqlite3.Error)
    assert not (tmp_path / "no").exists()


@pytest.mark.asyncio
async def test_open_on_a_directory_raises_unavailable(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    try:
        with pytest.raises(Unavailable) as info:
            await store.open()
    finally:
        await store.close()
    assert info.value.op == "open"


@pytest.mark.asyncio
async def test_use_before_open_raises_unavailable(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "never-opened.db")
    try:
        with pytest.raises(Unavailable):
            await store.get("k")
        with pytest.raises(Unavailable):
            await store.upsert("k", {"v": 1})
    finally:
        await store.close()


# --- a failed COMMIT ------------------------------------------------------------------------


class _FailNextCommit:
    """A connection whose next ``COMMIT`` fails and leaves the transaction open, as sqlite
    does on e.g. a full disk ("SQLITE_FULL ... may or may not roll back automatically")."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = True

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT" and self.armed:
            self.armed = False
            raise sqlite3.OperationalError("database or disk is full (injected)")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


@pytest.mark.asyncio
async def test_a_failed_commit_is_in_doubt_and_leaves_no_transaction_open(tmp_path: Path) -> None:
    path = tmp_path / "commit.db"

    store = await SqliteStore(path).open()
    other = await SqliteStore(path, busy_timeout_ms=500).open()
    try:
        cas = await store.insert("k", {"v": 1})
        store._conn = cast(sqlite3.Connection, _FailNextCommit(store._connection()))
        with pytest.raises(InDoubt) as info:
            await store.replace("k", {"v": "in doubt"}, cas)
        assert (info.value.key, info.value.op) == ("k", "replace")
        # the file's write lock is free: another connection writes without waiting ...
        await other.upsert("other", {"v": 1})
        # ... this handle writes again, and both handles read the same committed state
        await store.upsert("mine", {"v": 1})
        assert await store.get("k") == await other.get("k")
        assert await store.get("other") == await other.get("other")
    finally:
        await store.close()
        await other.close()


# --- inline on the loop ---------------------------------------------------------------------


def _commits(store: SqliteStore) -> list[str]:
    """The ``COMMIT`` statements ``store``'s connection runs from now on."""
    commits: list[str] = []
    store._connection().set_trace_callback(
        lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    return commits


@pytest.mark.asyncio
async def test_a_write_waits_for_another_connections_lock_without_blocking_the_loop(
        tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = await SqliteStore(path).open()
    try:
        cas = await store.insert("k", {"v": 1})
        with _another_writer(path) as holder:
            writing = asyncio.ensure_future(store.replace("k", {"v": 2}, cas))
            second = asyncio.ensure_future(store.insert("k2", {"v": 1}))  # queues behind it
            ticks = 0
            for _ in range(20):
                await asyncio.sleep(0.005)  # the loop runs: the waiting write does not hold it
                ticks += 1
            assert ticks == 20 and not writing.done() and not second.done()
            assert (await store.get("k")).value == {"v": 1}  # reads go on meanwhile
            holder.execute("COMMIT")
            new_cas = await writing
            await second
        assert await store.get("k") == Document({"v": 2}, new_cas)
        assert (await store.get("k2")).value == {"v": 1}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_writes_waiting_for_the_lock_commit_together_each_with_its_own_outcome(
        tmp_path: Path) -> None:
    path = tmp_path / "grouped.db"
    store = await SqliteStore(path).open()
    try:
        cas = await store.insert("k", {"v": 1})
        await store.insert("taken", {"v": 1})
        commits = _commits(store)
        with _another_writer(path) as holder:
            writes = [
                asyncio.ensure_future(store.replace("k", {"v": 2}, cas)),
                asyncio.ensure_future(store.replace("k", {"v": 3}, cas)),  # stale by then
                asyncio.ensure_future(store.insert("taken", {"v": 2})),
                asyncio.ensure_future(store.insert("new", {"v": 1})),
                asyncio.ensure_future(store.remove("missing", 1)),
            ]
            await asyncio.sleep(0.02)
            assert not any(w.done() for w in writes) and commits == []
            holder.execute("COMMIT")
            outcomes = await asyncio.gather(*writes, return_exceptions=True)
        assert len(commits) == 1  # one transaction for all five
        new_cas, stale, taken, inserted, missing = outcomes
        assert isinstance(new_cas, int) and isinstance(inserted, int)
        assert isinstance(stale, CasMismatch) and (stale.key, stale.op) == ("k", "replace")
        assert isinstance(taken, Exists) and taken.key == "taken"
        assert isinstance(missing, NotFound) and missing.op == "remove"
        assert len({cas, new_cas, inserted}) == 3
        assert await store.get("k") == Document({"v": 2}, new_cas)
        assert await store.get("new") == Document({"v": 1}, inserted)
        assert (await store.get("taken")).value == {"v": 1}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_waiting_write_cancelled_before_the_lock_is_free_is_not_written(
        tmp_path: Path) -> None:
    path = tmp_path / "cancelled.db"
    store = await SqliteStore(path).open()
    try:
        await store.insert("seed", {"v": 1})
        with _another_writer(path) as holder:
            kept = asyncio.ensure_future(store.insert("kept", {"v": 1}))
            dropped = asyncio.ensure_future(store.insert("dropped", {"v": 1}))
            await asyncio.sleep(0.01)
            dropped.cancel()
            await asyncio.sleep(0.01)
            holder.execute("COMMIT")
            await kept
        assert dropped.cancelled()
        with pytest.raises(NotFound):
            await store.get("dropped")
        assert (await store.get("kept")).value == {"v": 1}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_group_whose_commit_fails_is_in_doubt_for_every_write_in_it(
        tmp_path: Path) -> None:
    path = tmp_path / "group-commit.db"
    store = await SqliteStore(path).open()
    try:
        await store.insert("seed", {"v": 1})
        failing = _FailNextCommit(store._connection())
        store._conn = cast(sqlite3.Connection, failing)
        with _another_writer(path) as holder:
            writes = [asyncio.ensure_future(store.upsert(f"k{i}", {"v": i})) for i in range(3)]
            await asyncio.sleep(0.01)
            holder.execute("COMMIT")
            outcomes = await asyncio.gather(*writes, return_exceptions=True)
        assert [type(o) for o in outcomes] == [InDoubt] * 3
        assert [cast(InDoubt, o).key for o in outcomes] == ["k0", "k1", "k2"]
        assert not failing.in_transaction  # nothing left holding the file
        await store.upsert("after", {"v": 1})
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_writes_made_in_one_turn_of_the_loop_commit_together_each_with_its_outcome(
        tmp_path: Path) -> None:
    """Nobody else holds the file: the writes of eight tasks that run in one turn of the loop
    (as a server's concurrent purchases do) wait for the next turn and commit as one."""
    store = await SqliteStore(tmp_path / "together.db").open()  # no write yet: they wait
    try:
        commits = _commits(store)
        writes = [asyncio.ensure_future(store.insert(f"k{i}", {"v": i})) for i in range(7)]
        writes.append(asyncio.ensure_future(store.insert("k3", {"v": "second"})))
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
        assert len(commits) == 1
        assert all(isinstance(cas, int) for cas in outcomes[:7])
        assert len(set(outcomes[:7])) == 7
        assert isinstance(outcomes[7], Exists)
        assert [(await store.get(f"k{i}")).value for i in range(7)] == [{"v": i} for i in range(7)]
        # writes came together: the next ones that do also wait for their group
        await asyncio.gather(*(store.upsert(f"k{i}", {"v": -i}) for i in range(7)))
        assert len(commits) == 2
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_writes_that_come_one_at_a_time_commit_alone_without_waiting_for_the_loop(
        tmp_path: Path) -> None:
    """After a group of one, the next ``ALONE_BETWEEN_GROUPS`` writes each commit at once,
    inside their own call (no turn of the loop passes); then one waits for a group again, to
    see whether others come with it."""
    store = await SqliteStore(tmp_path / "alone.db").open()
    try:
        await store.upsert("first", {"v": 0})  # a group of one
        commits = _commits(store)
        loop = asyncio.get_running_loop()
        turned: list[object] = []
        for i in range(sqlite_module.ALONE_BETWEEN_GROUPS):
            loop.call_soon(turned.append, i)  # runs at the loop's next turn
            await store.upsert(f"k{i}", {"v": i})
            assert turned == [], f"write {i} waited for the loop"
            await asyncio.sleep(0)
            turned.clear()
        assert len(commits) == sqlite_module.ALONE_BETWEEN_GROUPS
        loop.call_soon(turned.append, "next")
        await store.upsert("probe", {"v": 1})
        assert turned == ["next"]  # this one waited for a turn, in case others came
        assert (await store.get("probe")).value == {"v": 1}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_a_write_that_waits_past_the_busy_timeout_is_unavailable_and_not_written(
        tmp_path: Path) -> None:
    path = tmp_path / "stuck.db"
    store = await SqliteStore(path, busy_timeout_ms=100).open()
    try:
        cas = await store.insert("k", {"v": 1})
        with _another_writer(path) as holder:
            started = time.monotonic()
            with pytest.raises(Unavailable) as info:
                await store.replace("k", {"v": 2}, cas)
            assert time.monotonic() - started >= 0.1
            assert (info.value.key, info.value.op) == ("k", "replace")
            holder.execute("ROLLBACK")
        assert await store.get("k") == Document({"v": 1}, cas)
        assert await store.replace("k", {"v": 3}, cas) != cas  # nothing was left held
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_the_wal_is_checkpointed_off_the_loop_and_stays_small(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_module, "CHECKPOINT_EVERY", 16)
    path = tmp_path / "wal.db"
    wal = Path(f"{path}-wal")
    store = await SqliteStore(path).open()
    try:
        # the loop's connection never checkpoints in a commit: that is the executor's job
        assert store._connection().execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
        for round_ in range(25):
            for i in range(16):
                await store.upsert(f"k{i}", {"round": round_, "pad": "x" * 512})
            await asyncio.sleep(0.02)  # the checkpoint runs on its thread meanwhile
        # 400 write transactions, a WAL frame (4 KiB page + header) or more each, would
        # make a WAL of over 1.6 MB without checkpoints; restarted every 16, it stays small
        assert wal.stat().st_size < 100 * 4120
        assert (await store.get("k3")).value == {"round": 24, "pad": "x" * 512}
    finally:
        await store.close()


@pytest.mark.asyncio
async def test_handles_writing_in_turn_never_hand_out_a_cas_twice(tmp_path: Path) -> None:
    path = tmp_path / "blocks.db"
    handles = [await SqliteStore(path).open() for _ in range(3)]
    seen: list[int] = []
    try:
        for i in range(3 * CAS_BLOCK // 2):  # each handle uses up a block and takes another
            store = handles[i % 3]
            seen.append(await store.upsert(f"k{i % 7}", {"i": i}))
            with pytest.raises(CasMismatch):  # a refused write spends a value, never reuses it
                await store.replace(f"k{i % 7}", {"i": -1}, -1)
        reopened = await SqliteStore(path).open()
        handles.append(reopened)
        seen.append(await reopened.insert("after", {"v": 1}))
    finally:
        for store in handles:
            await store.close()
    assert len(set(seen)) == len(seen)
    assert all(cas > 0 for cas in seen)
