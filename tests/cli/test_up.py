"""``abc up`` brings everything up on this machine, on the ports it is given, the web gateway
included (its URL printed, /healthz answering over HTTP), and Ctrl-C takes everything down: no
process left in its group, no listener. The gateway's default port, taken, moves to a free
one; a port asked for, taken, is refused."""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.cli._up import GATEWAY_LISTEN, gateway_address
from services.lab.cluster import free_port, serving
from services.lab.loadgen import audit_url
from tests._support.loop import run_blocking
from tests._support.processes import abc, reaped, refuses, wait_logged
from tests._support.world import open_world
from tests.tracing._gateway import Watching

Stub = purchase_pb2_grpc.PurchaseServiceStub
TIMEOUT_S = 10


class _Lines:
    """A child's stdout, read line by line in a thread (a pipe has no timeout)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self._stdout = process.stdout
        self._lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self._stdout:
            self._lines.put(raw.decode(errors="replace"))

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {text!r} after {timeout_s} s: {''.join(self.seen)}")
            try:
                self.seen.append(self._lines.get(timeout=left))
            except queue.Empty:
                continue


def test_abc_up_serves_and_sigint_stops_everything(tmp_path: Path) -> None:
    # Every listener on a free port. Recovery replicas listen on fixed ports (5006<i>), which a
    # test must not take: none here.
    purchase = f"127.0.0.1:{free_port()}"
    notify = f"127.0.0.1:{free_port()}"
    gateway = f"127.0.0.1:{free_port()}"
    data = tmp_path / "data"
    up = abc(["up", "--data", str(data), "--purchase-listen", purchase, "--notify-listen", notify,
              "--recovery-replicas", "0", "--gateway-listen", gateway], tmp_path / "up.log",
             pipe_stdout=True, new_group=True)
    with reaped(up, group=True):
        out = _Lines(up)
        out.wait_for("Abc is up.", timeout_s=30)
        out.wait_for("Ctrl-C stops everything.", timeout_s=5)
        banner = "".join(out.seen)
        ports = {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", banner)}
        assert {int(purchase.rsplit(":", 1)[1]), int(notify.rsplit(":", 1)[1])} < ports, banner
        assert serving(purchase)
        # The gateway: its URL printed for a browser, its health endpoint answering HTTP.
        assert f"In a browser: http://{gateway}\n" in banner, banner
        assert _get(gateway, "/healthz") == 200
        wait_logged(data / "logs" / "purchase.log", "connected to NATS")
        wait_logged(data / "logs" / "notify.log", "subscribed to abc.campaign.*.fill")
        run_blocking(open_world(purchase, owner="bob", funds=1000, min_price=10))
        with grpc.insecure_channel(purchase) as channel:
            watching = Watching(notify, "c1")
            try:
                assert watching.next().WhichOneof("update") == "snapshot"
                Stub(channel).Buy(pb.BuyRequest(user_id="alice", campaign_id="c1",
                                                max_price=10), timeout=TIMEOUT_S)
                update = watching.next()
            finally:
                watching.close()
        # The fill came by NATS: the services abc up started are on the NATS it started.
        assert (update.fill.slot, update.source) == (1, "event")

        up.send_signal(signal.SIGINT)
        assert up.wait(15) == 0, (tmp_path / "up.log").read_text()
        # Nothing is left: no process in its group (its children stay in it), no listener.
        with pytest.raises(ProcessLookupError):
            os.killpg(up.pid, 0)
        assert all(refuses(port) for port in ports), ports
    assert run_blocking(audit_url(f"sqlite:///{data.resolve() / 'abc.db'}", quiescent=True)) \
        == []
    assert "stopping" in (data / "logs" / "purchase.log").read_text()


def _get(target: str, path: str) -> int:
    """The status of ``GET path`` at ``target``, over a real TCP connection."""
    host, _, port = target.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=TIMEOUT_S)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_gateway_moves_off_its_default_port_only_when_that_is_taken() -> None:
    default = GATEWAY_LISTEN.default
    assert default == "127.0.0.1:8080"
    assert gateway_address(None, taken=lambda _: False) == default
    moved = gateway_address(None, taken=lambda address: address == default)
    host, _, port = moved.rpartition(":")
    assert host == "127.0.0.1" and port.isdigit() and moved != default
    # An address asked for stays, taken or not: Cluster.start refuses a taken one.
    assert gateway_address("127.0.0.1:9", taken=lambda _: True) == "127.0.0.1:9"


def test_a_gateway_address_asked_for_and_taken_is_refused(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = f"127.0.0.1:{squatter.getsockname()[1]}"
        up = abc(["up", "--data", str(tmp_path / "data"), "--purchase-listen",
                  f"127.0.0.1:{free_port()}", "--notify-listen", f"127.0.0.1:{free_port()}",
                  "--recovery-replicas", "0", "--gateway-listen", taken],
                 tmp_path / "up.log", new_group=True)
        with reaped(up, group=True):
            assert up.wait(30) == 1
    said = (tmp_path / "up.log").read_text()
    assert f"already in use: {taken}" in said and "--gateway-listen" in said, said
    assert "Traceback" not in said
