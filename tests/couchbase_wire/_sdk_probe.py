"""Run as a script by ``test_config.py`` (never imported by pytest): the SDK in a process of
its own, so that an abort or a crash in the SDK's C++ core cannot take pytest down.

    python _sdk_probe.py URL

Credentials come from ``ABC_COUCHBASE_USERNAME``/``ABC_COUCHBASE_PASSWORD``. It opens the
store with short timeouts (printing ``opened`` once it is open), upserts and reads back one
document, and prints one JSON line: ``{"ok": true}``, or
``{"ok": false, "stage": "open"|"kv", "error": "..."}`` (exit status 3).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from services.store import CouchbaseSettings, CouchbaseStore, StoreError


async def probe(url: str) -> dict[str, object]:
    settings = replace(CouchbaseSettings.from_url(url, env=os.environ), durability="none",
                       kv_timeout_s=1.0, connect_timeout_s=3.0)
    try:
        store = await CouchbaseStore(settings).open()
    except StoreError as exc:
        return {"ok": False, "stage": "open", "error": str(exc)}
    print("opened", flush=True)  # how far it got, should the process die next
    try:
        await store.upsert("probe", {"n": 1})
        doc = await store.get("probe")
        if doc.value != {"n": 1}:
            return {"ok": False, "stage": "kv", "error": f"read back {doc.value!r}"}
    except StoreError as exc:
        return {"ok": False, "stage": "kv", "error": str(exc)}
    finally:
        await store.close()
    return {"ok": True}


def main() -> int:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the crashes are expected: no core file
    result = asyncio.run(probe(sys.argv[1]))
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 3


if __name__ == "__main__":
    raise SystemExit(main())
