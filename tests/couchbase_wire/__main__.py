"""Serve standalone until SIGINT or SIGTERM: ``python -m tests.couchbase_wire [--port-file F]``.

Prints the store URL and the credentials' environment variables; handy to point a process
(or ``ABC_TEST_COUCHBASE_URL``) at it by hand.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from .server import WireServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port-file", type=Path, help="also write the URL to this file")
    args = parser.parse_args()
    with WireServer() as server:
        for name, value in server.env.items():
            print(f"export {name}={value}")
        print(f"export ABC_TEST_COUCHBASE_URL={server.url}", flush=True)
        if args.port_file is not None:
            args.port_file.write_text(server.url)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda _sig, _frame: stop.set())
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
