"""A whole Abc system as real processes for the gateway's tests: NATS, ``abc serve purchase``,
``notify`` and one ``recovery`` replica on one sqlite store, with tokens (so the gateway's
bearer token is checked), and ``abc serve gateway`` on a free port in front of them."""

from __future__ import annotations

import contextlib
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.lab.cluster import Child, NatsServer, clean_env, free_port, running
from tests._support.processes import service, wait_logged
from tests._support.world import CALL_TIMEOUT_S, store_url

GATEWAY_TOKEN = "gateway-token-for-tests"
OPERATOR_TOKEN = "operator-token-for-tests"
TOKENS = f"gateway:{GATEWAY_TOKEN},operator:{OPERATOR_TOKEN}"
SESSION_SECRET = "a-session-secret-for-the-tests-0123456789"


@dataclass(frozen=True)
class System:
    """Where everything listens: ``url`` is the gateway's (``http://127.0.0.1:<port>``)."""

    url: str
    purchase: str
    notify: str
    logs: Path
    gateway: Child

    def deposit(self, user: str, amount: int, deposit_id: str) -> int:
        """Credit ``user`` through purchase with the operator's token: the balance after."""
        with grpc.insecure_channel(self.purchase) as channel:
            done = purchase_pb2_grpc.PurchaseServiceStub(channel).Deposit(
                pb.DepositRequest(user_id=user, deposit_id=deposit_id, amount=amount),
                metadata=(("authorization", f"Bearer {OPERATOR_TOKEN}"),),
                timeout=CALL_TIMEOUT_S)
        return int(done.balance)

    def purchase_stub(self, channel: grpc.Channel) -> purchase_pb2_grpc.PurchaseServiceStub:
        return purchase_pb2_grpc.PurchaseServiceStub(channel)

    @property
    def gateway_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {GATEWAY_TOKEN}"),)


def gateway_child(logs: Path, purchase: str, notify: str, *args: str,
                  env: dict[str, str] | None = None) -> tuple[Child, str]:
    """``abc serve gateway`` on a free port, not started: the child and its URL."""
    listen = f"127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "services.cli", "serve", "gateway",
            "--listen", listen, "--purchase", purchase, "--notify", notify, *args]
    return Child("gateway", argv, logs / "gateway.log", None, clean_env(env)), f"http://{listen}"


def wait_gateway(child: Child, url: str, timeout_s: float = 20.0) -> None:
    """Until the gateway says it listens and answers its health check."""
    wait_logged(child.log, f"abc-gateway listening on {url}", timeout_s, child.process)
    with urllib.request.urlopen(f"{url}/healthz", timeout=5) as answer:
        assert answer.status == 200


@contextlib.contextmanager
def running_system(logs: Path, env: dict[str, str] | None = None) -> Iterator[System]:
    """The whole system, stopped (SIGTERM, then SIGKILL) afterwards whatever happens; ``env``:
    more environment for every process (e.g. where to export spans)."""
    nats = NatsServer(logs / "nats.log").start()
    try:
        common = ["--store", store_url(logs), "--nats-url", nats.url, "--tokens", TOKENS]
        purchase = service("purchase", ["serve", "purchase", *common], logs, env)
        notify = service("notify", ["serve", "notify", *common], logs, env)
        recovery = service("recovery", ["serve", "recovery", "--ordinal", "0", "--replicas",
                                        "1", *common], logs, env)
        gateway, url = gateway_child(logs, purchase.address, notify.address, "--token",
                                     GATEWAY_TOKEN, "--session-secret", SESSION_SECRET, env=env)
        with running(purchase, notify, recovery, gateway, grace_s=10):
            wait_gateway(gateway, url)
            yield System(url, purchase.address, notify.address, logs, gateway)
    finally:
        nats.stop()
