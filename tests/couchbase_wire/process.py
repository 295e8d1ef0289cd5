"""The wire server in a process of its own (``python -m tests.couchbase_wire``), for
benchmarks that must not share a CPU-bound event loop with it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


@contextlib.contextmanager
def wire_server_process() -> Iterator[tuple[str, dict[str, str]]]:
    """Start it; yields (its URL, the ABC_COUCHBASE_* credentials as an env mapping)."""
    server = subprocess.Popen([sys.executable, "-m", "tests.couchbase_wire"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert server.stdout is not None
        env: dict[str, str] = {}
        for line in server.stdout:  # "export NAME=value" lines, the URL last
            name, _, value = line.removeprefix("export ").strip().partition("=")
            env[name] = value
            if name == "ABC_TEST_COUCHBASE_URL":
                break
        url = env.pop("ABC_TEST_COUCHBASE_URL", None)
        if url is None:
            raise RuntimeError(f"the wire server did not start (exit {server.poll()})")
        yield url, env
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
