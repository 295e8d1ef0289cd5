"""The purchase service as real processes with real signals: a crash right after a purchase
commits (the fault switch) is finished by the next login on a new process; SIGTERM stops a
server cleanly; ``abc up`` brings everything up and Ctrl-C takes everything down."""

from __future__ import annotations

import asyncio
import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2
from services.lab.cluster import NatsServer
from services.lab.loadgen import audit_url
from services.runtime import FAULT_ENV, FAULT_EXIT_CODE
from tests.tracing._gateway import Watching

from ._processes import abc, free_port, reaped, refuses, serving, wait_logged, wait_serving

Stub = purchase_pb2_grpc.PurchaseServiceStub
TIMEOUT_S = 10


def _store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path.resolve() / 'abc.db'}"


def _serve(tmp_path: Path, name: str, url: str, nats_url: str | None = None,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, Path]:
    port, log = free_port(), tmp_path / f"{name}.log"
    args = ["serve", "purchase", "--listen", f"127.0.0.1:{port}", "--store", url]
    if nats_url is not None:
        args += ["--nats-url", nats_url]
    return abc(args, log, env), f"127.0.0.1:{port}", log


def _open_world(stub: Stub) -> None:
    for uid in ("alice", "bob"):
        stub.CreateAccount(pb.CreateAccountRequest(user_id=uid), timeout=TIMEOUT_S)
    stub.Deposit(pb.DepositRequest(user_id="alice", deposit_id="d1", amount=1000),
                 timeout=TIMEOUT_S)
    stub.CreateCampaign(pb.CreateCampaignRequest(campaign_id="c1", owner_id="bob", min_price=10,
                                                 slot_seconds=60), timeout=TIMEOUT_S)
    stub.UploadFiller(pb.UploadFillerRequest(filler=types_pb2.Filler(
        user_id="alice", filler_id="f1", text="kites")), timeout=TIMEOUT_S)


def _sigterm(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(TIMEOUT_S)


def test_crash_after_commit_is_rolled_forward_at_login(
    tmp_path: Path, nats_server: NatsServer,
) -> None:
    url = _store(tmp_path)
    crashing, target, log = _serve(tmp_path, "crashing", url, nats_server.url,
                                   {FAULT_ENV: "buy.fill"})
    with reaped(crashing):
        wait_serving(target, crashing, log)
        with grpc.insecure_channel(target) as channel:
            stub = Stub(channel)
            _open_world(stub)
            with pytest.raises(grpc.RpcError) as died:
                stub.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1", max_price=10,
                                       filler_id="f1"), timeout=TIMEOUT_S)
        assert died.value.code() == grpc.StatusCode.UNAVAILABLE
        assert crashing.wait(TIMEOUT_S) == FAULT_EXIT_CODE, log.read_text()
    assert "exiting after buy.fill" in log.read_text()

    restarted, target, log = _serve(tmp_path, "restarted", url, nats_server.url)
    with reaped(restarted):
        wait_serving(target, restarted, log)
        with grpc.insecure_channel(target) as channel:
            stub = Stub(channel)
            # The commit is in, nothing after it: alice is locked by the purchase, undebited,
            # and the campaign has not moved.
            held = stub.GetAccount(pb.GetAccountRequest(user_id="alice"), timeout=TIMEOUT_S)
            assert (held.balance, held.locked) == (1000, True)
            unmoved = stub.GetCampaign(pb.GetCampaignRequest(campaign_id="c1"),
                                       timeout=TIMEOUT_S)
            assert unmoved.head == 0
            login = stub.Login(pb.LoginRequest(user_id="alice"), timeout=TIMEOUT_S)
            assert login.resolution == pb.LoginResponse.ROLLED_FORWARD
            assert login.account == pb.Account(user_id="alice", balance=990, locked=False)
            view = stub.GetCampaign(pb.GetCampaignRequest(campaign_id="c1"), timeout=TIMEOUT_S)
            assert (view.head, view.current_slot.buyer_id, view.current_filler.text) == \
                (1, "alice", "kites")
            again = stub.Login(pb.LoginRequest(user_id="alice"), timeout=TIMEOUT_S)
            assert again.resolution == pb.LoginResponse.CLEAN
        assert _sigterm(restarted) == 0, log.read_text()
    assert asyncio.run(audit_url(url, quiescent=True)) == []


def test_sigterm_stops_a_server_gracefully(tmp_path: Path) -> None:
    url = _store(tmp_path)
    server, target, log = _serve(tmp_path, "purchase", url)
    port = int(target.rsplit(":", 1)[1])
    with reaped(server):
        wait_serving(target, server, log)
        with grpc.insecure_channel(target) as channel:
            Stub(channel).CreateAccount(pb.CreateAccountRequest(user_id="alice"),
                                        timeout=TIMEOUT_S)
        started = time.monotonic()
        assert _sigterm(server) == 0, log.read_text()
        assert time.monotonic() - started < 8
    assert "stopping" in log.read_text()
    assert refuses(port)
    assert asyncio.run(audit_url(url, quiescent=True)) == []


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
    data = tmp_path / "data"
    up = abc(["up", "--data", str(data), "--purchase-listen", purchase, "--notify-listen", notify,
              "--recovery-replicas", "0"], tmp_path / "up.log", pipe_stdout=True, new_group=True)
    with reaped(up, group=True):
        out = _Lines(up)
        out.wait_for("Abc is up.", timeout_s=30)
        out.wait_for("Ctrl-C stops everything.", timeout_s=5)
        banner = "".join(out.seen)
        ports = {int(port) for port in re.findall(r"127\.0\.0\.1:(\d+)", banner)}
        assert {int(purchase.rsplit(":", 1)[1]), int(notify.rsplit(":", 1)[1])} < ports, banner
        assert serving(purchase)
        wait_logged(data / "logs" / "purchase.log", "connected to NATS")
        wait_logged(data / "logs" / "notify.log", "subscribed to abc.campaign.*.fill")
        with grpc.insecure_channel(purchase) as channel:
            _open_world(Stub(channel))
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
    assert asyncio.run(audit_url(f"sqlite:///{data.resolve() / 'abc.db'}", quiescent=True)) == []
    assert "stopping" in (data / "logs" / "purchase.log").read_text()
