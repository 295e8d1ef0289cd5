"""A port nothing listens on, for tests that need a refused connection."""

from __future__ import annotations

import socket


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
