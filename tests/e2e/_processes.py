"""Real service processes for the end-to-end tests: ``abc serve`` / ``abc up`` started with
this interpreter, a free port, waiting on the gRPC health service, stopping by signal."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port nothing listens on right now (bind to 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def refuses(port: int) -> bool:
    """Whether a TCP connect to 127.0.0.1:port is refused (nothing listens there)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without ABC_* settings (so none leak in), the repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ABC_")}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


def abc(args: list[str], log: Path, extra_env: Mapping[str, str] | None = None,
        pipe_stdout: bool = False, new_group: bool = False) -> subprocess.Popen[bytes]:
    """``python -m services.cli ARGS``, its output to ``log`` (stdout to a pipe instead if
    ``pipe_stdout``); ``new_group``: in a process group of its own, as a shell job is."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args], cwd=ROOT,
            env=child_env(extra_env or {}), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe_stdout else out, stderr=out,
            process_group=0 if new_group else None)


def serving(target: str) -> bool:
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                              timeout=1)
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def wait_serving(target: str, process: subprocess.Popen[bytes], log: Path,
                 timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()}")
        if serving(target):
            return
        time.sleep(0.05)
    raise AssertionError(f"not SERVING on {target} after {timeout_s} s:\n{log.read_text()}")


@contextlib.contextmanager
def reaped(process: subprocess.Popen[bytes], group: bool = False) -> Iterator[None]:
    """Whatever the test does, the process (or its whole group) is gone afterwards."""
    try:
        yield
    finally:
        if group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
