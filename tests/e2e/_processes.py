"""Real service processes for the end-to-end tests: ``abc serve`` / ``abc up`` started with
this interpreter, a free port, waiting on the gRPC health service, stopping by signal.

Starting, health-checking and killing a service is ``services.lab.cluster.Child``'s job (what
``abc up`` runs); this module only adds what tests need around it: free ports, a clean
environment, and making sure nothing outlives a test."""

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

from services.lab.cluster import Child, clean_env, free_port, running, serving

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["ROOT", "abc", "free_port", "reaped", "refuses", "running",
           "service", "serving", "wait_logged", "wait_serving"]


def refuses(port: int) -> bool:
    """Whether a TCP connect to 127.0.0.1:port is refused (nothing listens there)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def _argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def abc(args: list[str], log: Path, extra_env: Mapping[str, str] | None = None,
        pipe_stdout: bool = False, new_group: bool = False) -> subprocess.Popen[bytes]:
    """``python -m services.cli ARGS``, its output to ``log`` (stdout to a pipe instead if
    ``pipe_stdout``); ``new_group``: in a process group of its own, as a shell job is."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            _argv(args), cwd=ROOT, env=clean_env(extra_env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe_stdout else out, stderr=out,
            process_group=0 if new_group else None)


def service(name: str, args: list[str], logs: Path,
            extra_env: Mapping[str, str] | None = None) -> Child:
    """``abc serve ARGS --listen 127.0.0.1:<free port>`` as a cluster ``Child`` (not started
    yet), its output in ``logs/<name>.log``, its ``target`` the address it will serve."""
    target = f"127.0.0.1:{free_port()}"
    return Child(name, _argv([*args, "--listen", target]), logs / f"{name}.log", target,
                 clean_env(extra_env))


def wait_serving(target: str, process: subprocess.Popen[bytes], log: Path,
                 timeout_s: float = 20) -> None:
    """Until ``process`` (started by ``abc``) says SERVING on ``target``; raises with its
    log's tail if it exits first or takes longer than ``timeout_s``."""
    Child(log.stem, [], log, target, process=process).wait_serving(timeout_s)


def wait_logged(log: Path, text: str, timeout_s: float = 15) -> None:
    """Until ``text`` appears in ``log`` (a service's own log file)."""
    deadline = time.monotonic() + timeout_s
    while not (log.exists() and text in log.read_text(errors="replace")):
        assert time.monotonic() < deadline, f"{text!r} not in {log} within {timeout_s} s"
        time.sleep(0.05)


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
