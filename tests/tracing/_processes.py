"""Real service processes exporting to the test's collector: ``python -m services.cli serve
SERVICE`` on a free port, with the ``OTEL_*`` settings that make it export quickly, waited on
until its gRPC health says SERVING (and, where it matters, until it is on NATS)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from services.lab.cluster import clean_env, free_port, serving

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 20.0


def otel_env(endpoint: str) -> dict[str, str]:
    """Export by OTLP/gRPC to ``endpoint``, spans within ~100 ms, metrics every 500 ms."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_METRIC_EXPORT_INTERVAL": "500"}




@dataclass
class Service:
    """One ``abc serve`` process; ``target`` is its gRPC address, ``log`` its output."""

    name: str
    process: subprocess.Popen[bytes]
    target: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_serving(self, timeout_s: float = START_TIMEOUT_S) -> Service:
        self.wait_for(lambda: serving(self.target), "SERVING", timeout_s)
        return self

    def wait_logged(self, text: str, timeout_s: float = START_TIMEOUT_S) -> Service:
        self.wait_for(lambda: text in self.output(), repr(text), timeout_s)
        return self

    def wait_for(self, ready: Callable[[], bool], what: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n"
                                     f"{self.output()}")
            if ready():
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.name}: not {what} after {timeout_s} s:\n{self.output()}")


    def exit_code(self, timeout_s: float = 10.0) -> int:
        return self.process.wait(timeout_s)

    def stop(self) -> None:
        """SIGTERM (the process exports what it buffered on the way out), then SIGKILL."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_service(tmp_path: Path, service: str, args: list[str], env: Mapping[str, str],
                  name: str | None = None) -> Service:
    """Start ``abc serve SERVICE ARGS --listen 127.0.0.1:<free>`` (not waiting for it)."""
    name = name or service
    port, log = free_port(), tmp_path / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", service,
             "--listen", f"127.0.0.1:{port}", *args],
            cwd=ROOT, env=clean_env(env), stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    return Service(name, process, f"127.0.0.1:{port}", log)


@contextlib.contextmanager
def services(*started: Service) -> Iterator[tuple[Service, ...]]:
    """Wait for every service to serve; whatever the test does, all are stopped after."""
    try:
        for service in started:
            service.wait_serving()
        yield started
    finally:
        for service in started:
            service.stop()
