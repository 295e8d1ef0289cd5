"""``abc serve gateway`` as a process: it prints its URL once it serves, answers on a kept-alive
connection without waiting out delayed ACKs, SIGTERM stops it cleanly (exit 0), and a setting
it can't start with is one line on stderr (exit 2)."""

from __future__ import annotations

import http.client
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from services.lab.cluster import clean_env, free_port

from ._system import gateway_child, wait_gateway

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "127.0.0.1:9"  # nothing needs to answer for the gateway to start and stop


def test_it_prints_its_url_and_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    child, url = gateway_child(tmp_path, NOWHERE, NOWHERE)
    child.start()
    try:
        wait_gateway(child, url)
        with urllib.request.urlopen(f"{url}/login", timeout=5) as answer:
            assert answer.status == 200
        assert _kept_alive_median_ms(url) < 30
        assert child.process is not None
        child.process.send_signal(signal.SIGTERM)
        assert child.process.wait(15) == 0
    finally:
        child.kill()
    log = child.log.read_text()
    assert f"abc-gateway listening on {url}" in log
    assert "Traceback" not in log


def _kept_alive_median_ms(url: str) -> float:
    """The median time of 15 requests on one kept-alive connection: a server socket without
    TCP_NODELAY makes each wait out the client's delayed ACK (40 ms or more)."""
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=5)
    took = []
    try:
        for _ in range(15):
            start = time.perf_counter()
            connection.request("GET", "/healthz")
            assert connection.getresponse().read() == b"ok"
            took.append((time.perf_counter() - start) * 1000)
    finally:
        connection.close()
    return statistics.median(took)


def _refused(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "services.cli", "serve", "gateway", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
                          env=clean_env(env))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_an_address_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said = _refused(tmp_path, "--listen", f"127.0.0.1:{port}")
    assert said.startswith(f"abc: can't listen on 127.0.0.1:{port} (address in use?)")


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--session-secret", "short"], None, "ABC_GATEWAY_SESSION_SECRET: want 32 characters"),
    (["--tls-ca", "/no/such/ca.pem"], None, "ABC_GATEWAY_TLS_CA: can't read /no/such/ca.pem"),
    (["--listen", "nowhere"], None, "ABC_GATEWAY_LISTEN='nowhere': want host:port"),
    (["--login-attempts", "0"], None, "ABC_GATEWAY_LOGIN_ATTEMPTS: want a whole number from 1"),
    ([], {"ABC_GATEWAY_SESSION_SECRET": "short"}, "want 32 characters or more"),
])
def test_a_setting_it_cant_start_with_is_one_clear_line(
    tmp_path: Path, args: list[str], env: dict[str, str] | None, says: str,
) -> None:
    listen = ["--listen", f"127.0.0.1:{free_port()}"] if "--listen" not in args else []
    assert says in _refused(tmp_path, *listen, *args, env=env)
