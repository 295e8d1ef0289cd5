"""One service process of a local cluster: started, health-checked, killed, restarted."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

# The checkout this package runs from: a child started with it on PYTHONPATH imports the same
# code, installed or not.
_CHECKOUT = Path(__file__).resolve().parents[2]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment for a child under test or benchmark: without any ABC_* or
    OTEL_* setting of the shell (the caller passes what it means in ``extra``), this checkout
    importable, output unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ABC_", "OTEL_"))}
    return {**env, "PYTHONPATH": str(_CHECKOUT), "PYTHONUNBUFFERED": "1", **(extra or {})}


class ClusterError(Exception):
    """A process that would not start or serve; the message carries its log's tail."""


class StartAborted(ClusterError):
    """A stop was asked for while waiting for a process to serve."""


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path
    target: str | None = None  # host:port of its gRPC health service
    env: dict[str, str] | None = None
    # An HTTP server instead: the path that answers 200 when it serves (at ``target``).
    http_health: str | None = None
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=subprocess.STDOUT, env=self.env)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def wait_serving(self, timeout_s: float = 20.0,
                     interrupted: Callable[[], bool] = lambda: False) -> None:
        if self.target is None:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if interrupted():
                raise StartAborted(f"stopped while waiting for {self.name}")
            if not self.alive:
                raise ClusterError(f"{self.name} exited with code {self.exit_code}:\n"
                                   f"{self.tail()}")
            if self.serving():
                return
            time.sleep(0.05)
        raise ClusterError(f"{self.name} not SERVING on {self.target} after {timeout_s:.0f} s:"
                           f"\n{self.tail()}")

    def serving(self) -> bool:
        """Whether it says it serves: the gRPC health service, or its HTTP health path."""
        if self.target is None:
            return self.alive
        if self.http_health is not None:
            return http_serving(self.target, self.http_health)
        return serving(self.target)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive:
            assert self.process is not None
            self.process.kill()
            self.process.wait()

    def stop(self, grace_s: float = 10.0) -> None:
        if not self.alive:
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 8) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:])


def in_use(target: str) -> bool:
    """Whether something already accepts connections at ``host:port``."""
    host, _, port = target.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=0.2):
            return True
    except OSError:
        return False


def serving(target: str, timeout_s: float = 1.0) -> bool:
    """Whether the gRPC health service at ``target`` says SERVING."""
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout_s)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_serving(target: str, path: str, timeout_s: float = 1.0) -> bool:
    """Whether ``GET path`` at ``host:port`` answers 200 (straight there: no proxy)."""
    host, _, port = target.rpartition(":")
    connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout_s)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def free_port() -> int:
    """A port nothing listens on right now (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def running(*children: Child, grace_s: float = 5.0) -> Iterator[tuple[Child, ...]]:
    """Start every child and wait for each to serve; whatever happens, all are stopped
    afterwards (SIGTERM, SIGKILL after ``grace_s``)."""
    try:
        for child in children:
            child.start()
        for child in children:
            child.wait_serving()
        yield children
    finally:
        for child in children:
            child.stop(grace_s)
