"""One OS process of the two-process races in ``test_sqlite.py`` (run as a script, not a test).

    python _race_worker.py MODE DB RUNDIR NAME COUNT

Both workers step together through file barriers in RUNDIR, so that they really overlap:
it writes ``imported-NAME`` and waits for ``open``; opens DB (both open the same file at once);
writes ``opened-NAME`` and waits for ``go``; then races:

- ``insert``: ``insert(f"k{i}", {"by": NAME})`` for i in range(COUNT), noting which it won;
- ``increment``: COUNT read-modify-replace increments of ``counter``, retrying on CasMismatch.

It prints one JSON object: ``{"won": [i, ...], "tries": n, "start": t, "end": t}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from services.store import CasMismatch, Exists, SqliteStore

MAX_TRIES = 1000  # per increment; exhausting them fails the worker
BARRIER_TIMEOUT_S = 30.0


def barrier(rundir: Path, stage: str, name: str, release: str) -> None:
    (rundir / f"{stage}-{name}").touch()
    deadline = time.monotonic() + BARRIER_TIMEOUT_S
    while not (rundir / release).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{name}: no {release!r} after {BARRIER_TIMEOUT_S}s")
        time.sleep(0.001)


async def race(mode: str, db: Path, rundir: Path, name: str, count: int) -> dict[str, object]:
    barrier(rundir, "imported", name, "open")
    store = await SqliteStore(db).open()
    try:
        barrier(rundir, "opened", name, "go")
        won: list[int] = []
        tries = 0
        start = time.time()
        if mode == "insert":
            for i in range(count):
                tries += 1
                try:
                    await store.insert(f"k{i}", {"by": name})
                except Exists:
                    continue
                won.append(i)
        elif mode == "increment":
            for _ in range(count):
                for _attempt in range(MAX_TRIES):
                    tries += 1
                    doc = await store.get("counter")
                    try:
                        await store.replace("counter", {"n": doc.value["n"] + 1}, doc.cas)
                    except CasMismatch:
                        continue
                    break
                else:
                    raise SystemExit(f"{name}: no increment after {MAX_TRIES} tries")
        else:
            raise SystemExit(f"unknown mode {mode!r}")
        end = time.time()
    finally:
        await store.close()
    return {"won": won, "tries": tries, "start": start, "end": end}


def main(argv: list[str]) -> None:
    mode, db, rundir, name, count = argv
    result = asyncio.run(race(mode, Path(db), Path(rundir), name, int(count)))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
