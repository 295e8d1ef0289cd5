"""Real processes for the tests of processes: ``abc`` commands (``python -m services.cli``,
this interpreter, this checkout) and ``abc serve`` services on a free port.

Starting, health-checking and stopping a service is ``services.lab.cluster``'s job (what
``abc up`` runs: ``Child``, ``running``); this module only adds what tests need around it: a
clean environment, logs in the test's folder, waiting on a log line, and making sure nothing
outlives a test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from services.lab.cluster import Child, clean_env, free_port

from .waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _argv(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "services.cli", *args]


def abc(args: list[str], log: Path, extra_env: Mapping[str, str] | None = None,
        pipe_stdout: bool = False, new_group: bool = False) -> subprocess.Popen[bytes]:
    """``abc ARGS``, started; its output to ``log`` (stdout to a pipe instead if
    ``pipe_stdout``); ``new_group``: in a process group of its own, as a shell job is."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            _argv(args), cwd=ROOT, env=clean_env(extra_env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if pipe_stdout else out, stderr=out,
            process_group=0 if new_group else None)


class Service(Child):
    """An ``abc serve`` process: a cluster ``Child`` that always has an address."""

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, where it serves gRPC."""
        assert self.target is not None
        return self.target

    def wait_logged(self, text: str, timeout_s: float = 20.0) -> Service:
        """Until ``text`` is in its log; fails at once, with the log, if it exits first."""
        wait_logged(self.log, text, timeout_s, self.process)
        return self

    def wait_exit(self, timeout_s: float = 10.0) -> int:
        """Its exit code, once it has exited (by itself: nothing is sent to it)."""
        assert self.process is not None
        return self.process.wait(timeout_s)


def service(name: str, args: list[str], logs: Path,
            extra_env: Mapping[str, str] | None = None) -> Service:
    """``abc ARGS --listen 127.0.0.1:<free port>`` (``args`` starting ``serve SERVICE``), not
    started yet (``running(...)`` starts it and waits for it to serve), its output in
    ``logs/<name>.log``."""
    target = f"127.0.0.1:{free_port()}"
    return Service(name, _argv([*args, "--listen", target]), logs / f"{name}.log", target,
                   clean_env(extra_env))


def wait_serving(target: str, process: subprocess.Popen[bytes], log: Path,
                 timeout_s: float = 20) -> None:
    """Until ``process`` (started by ``abc``) says SERVING on ``target``; raises with its
    log's tail if it exits first or takes longer than ``timeout_s``."""
    Child(log.stem, [], log, target, process=process).wait_serving(timeout_s)


def wait_logged(log: Path, text: str, timeout_s: float = 15,
                process: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``text`` appears in ``log`` (a service's own log file); if ``process`` (the
    one writing it) exits first, fail at once with the log."""

    def logged() -> bool | None:
        output = log.read_text(errors="replace") if log.exists() else ""
        if text in output:
            return True
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{log.stem} exited with {process.returncode}:\n{output}")
        return None

    wait_for(logged, f"{text!r} in {log}", timeout_s)


def refuses(port: int) -> bool:
    """Whether a TCP connect to 127.0.0.1:port is refused (nothing listens there)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


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
