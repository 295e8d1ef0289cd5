"""The purchase service as real processes with real signals: a crash right after a purchase
commits (the fault switch) is finished by the next login on a new process; SIGTERM stops a
server cleanly. (``abc up`` and Ctrl-C: tests/cli/test_up.py.)"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2
from services.lab.cluster import NatsServer, free_port
from services.lab.loadgen import audit_url
from services.runtime import FAULT_ENV, FAULT_EXIT_CODE
from tests._support.loop import run_blocking
from tests._support.processes import abc, reaped, refuses, wait_serving
from tests._support.world import KITES, open_world, store_url

Stub = purchase_pb2_grpc.PurchaseServiceStub
TIMEOUT_S = 10


def _serve(tmp_path: Path, name: str, url: str, nats_url: str | None = None,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, Path]:
    port, log = free_port(), tmp_path / f"{name}.log"
    args = ["serve", "purchase", "--listen", f"127.0.0.1:{port}", "--store", url]
    if nats_url is not None:
        args += ["--nats-url", nats_url]
    return abc(args, log, env), f"127.0.0.1:{port}", log


def _sigterm(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(TIMEOUT_S)


def test_crash_after_commit_is_rolled_forward_at_login(
    tmp_path: Path, nats_server: NatsServer,
) -> None:
    url = store_url(tmp_path)
    crashing, target, log = _serve(tmp_path, "crashing", url, nats_server.url,
                                   {FAULT_ENV: "buy.fill"})
    with reaped(crashing):
        wait_serving(target, crashing, log)
        run_blocking(open_world(target, owner="bob", funds=1000, min_price=10, filler=KITES))
        with grpc.insecure_channel(target) as channel:
            stub = Stub(channel)
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
            unmoved = stub.GetCampaign(types_pb2.GetCampaignRequest(campaign_id="c1"),
                                       timeout=TIMEOUT_S)
            assert unmoved.head == 0
            login = stub.Login(pb.LoginRequest(user_id="alice"), timeout=TIMEOUT_S)
            assert login.resolution == pb.LoginResponse.ROLLED_FORWARD
            assert login.account == pb.Account(user_id="alice", balance=990, locked=False)
            view = stub.GetCampaign(types_pb2.GetCampaignRequest(campaign_id="c1"),
                                    timeout=TIMEOUT_S)
            assert (view.head, view.current_slot.buyer_id, view.current_filler.text) == \
                (1, "alice", KITES.text)
            again = stub.Login(pb.LoginRequest(user_id="alice"), timeout=TIMEOUT_S)
            assert again.resolution == pb.LoginResponse.CLEAN
        assert _sigterm(restarted) == 0, log.read_text()
    assert run_blocking(audit_url(url, quiescent=True)) == []


def test_sigterm_stops_a_server_gracefully(tmp_path: Path) -> None:
    url = store_url(tmp_path)
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
    assert "event loop uvloop" in log.read_text()  # served, and stopped by signal, on uvloop
    assert refuses(port)
    assert run_blocking(audit_url(url, quiescent=True)) == []
