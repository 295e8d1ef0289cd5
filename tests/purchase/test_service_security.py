"""Who may call what (tokens and roles), what is always open (health, reflection), where the
service refuses to listen, and TLS - on a real server, with stock gRPC clients."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc, types_pb2
from services.lab.loadgen import audit_url
from services.purchase import SERVICE_NAME, PurchaseConfig, start_purchase
from services.runtime import ServerConfig, ServerConfigError, Tokens
from tests._support.world import store_url

from ._support import code_of, documents, purchase_server, token

pytestmark = pytest.mark.asyncio

Code = grpc.StatusCode
TOKENS = Tokens.parse("gateway:g1,operator:o1")
GATEWAY, OPERATOR = token("g1"), token("o1")
HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


def _guarded() -> ServerConfig:
    return ServerConfig(listen="127.0.0.1:0", tokens=TOKENS)


async def test_calls_without_a_good_token_are_refused_and_write_nothing(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url, server=_guarded()) as running:
        s, store = running.stub, running.node.wiring.store
        create = pb.CreateAccountRequest(user_id="alice")
        assert await code_of(s.CreateAccount(create)) == Code.UNAUTHENTICATED
        for wrong in (token("nope"), token(""), token("g1x"), (("authorization", "g1"),),
                      (("authorization", "Basic g1"),)):
            assert await code_of(s.CreateAccount(create, metadata=wrong)) == \
                Code.UNAUTHENTICATED
        assert await documents(store) == []
        assert await code_of(s.GetAccount(pb.GetAccountRequest(user_id="alice"),
                                          metadata=GATEWAY)) == Code.NOT_FOUND

        # Every method is guarded, not just the writing ones.
        for method, request in [("GetAccount", pb.GetAccountRequest(user_id="alice")),
                                ("GetCampaign", types_pb2.GetCampaignRequest(campaign_id="c1")),
                                ("Buy", pb.BuyRequest(user_id="a", campaign_id="c",
                                                      max_price=1))]:
            assert await code_of(getattr(s, method)(request)) == Code.UNAUTHENTICATED


async def test_deposit_takes_an_operator_token(tmp_path: Path) -> None:
    url = store_url(tmp_path)

    async with purchase_server(url, server=_guarded()) as running:
        s = running.stub
        for uid in ("alice", "bob"):
            await s.CreateAccount(pb.CreateAccountRequest(user_id=uid), metadata=GATEWAY)
        deposit = pb.DepositRequest(user_id="alice", deposit_id="d1", amount=1000)
        before = await documents(running.node.wiring.store)
        assert await code_of(s.Deposit(deposit, metadata=GATEWAY)) == \
            Code.PERMISSION_DENIED
        assert await code_of(s.Deposit(deposit)) == Code.UNAUTHENTICATED
        assert await documents(running.node.wiring.store) == before
        alice = await s.GetAccount(pb.GetAccountRequest(user_id="alice"), metadata=GATEWAY)
        assert alice.balance == 0

        done = await s.Deposit(deposit, metadata=OPERATOR)
        assert (done.applied, done.balance) == (True, 1000)

        # A gateway does everything else.
        await s.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id="c1", owner_id="bob", min_price=10, slot_seconds=60),
            metadata=GATEWAY)
        await s.UploadFiller(pb.UploadFillerRequest(filler=types_pb2.Filler(
            user_id="alice", filler_id="f1", text="hi")), metadata=GATEWAY)
        bought = await s.Buy(pb.BuyRequest(user_id="alice", campaign_id="c1",
                                           max_price=10, filler_id="f1"), metadata=GATEWAY)
        assert (bought.slot.slot, bought.balance) == (1, 990)
        login = await s.Login(pb.LoginRequest(user_id="alice"), metadata=GATEWAY)
        assert login.resolution == pb.LoginResponse.CLEAN
        ad = await s.GetCurrentAd(pb.GetCurrentAdRequest(campaign_id="c1"),
                                  metadata=GATEWAY)
        assert ad.filler.text == "hi"
    assert await audit_url(url, quiescent=True) == []


def _reflect(target: str) -> tuple[list[str], list[str]]:
    """The stock reflection client (blocking): the services listed, and Buy's service's
    methods as resolved from the server's descriptors."""
    with grpc.insecure_channel(target) as channel:
        database = ProtoReflectionDescriptorDatabase(channel)
        services = list(database.get_services())
        pool = descriptor_pool.DescriptorPool(database)
        methods = [m.name for m in pool.FindServiceByName(SERVICE_NAME).methods]
    return services, methods


@pytest.mark.parametrize("guarded", [False, True], ids=["open", "tokens"])
async def test_health_and_reflection_need_no_token(tmp_path: Path, guarded: bool) -> None:
    server = _guarded() if guarded else None
    async with purchase_server(store_url(tmp_path), server=server) as running:
        health = health_pb2_grpc.HealthStub(running.channel)
        for name in ("", SERVICE_NAME):
            reply = await health.Check(health_pb2.HealthCheckRequest(service=name))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        assert await code_of(health.Check(health_pb2.HealthCheckRequest(
            service="abc.v1.Nope"))) == Code.NOT_FOUND

        # A blocking client in a thread: this loop must keep serving meanwhile.
        services, methods = await asyncio.to_thread(_reflect, running.target)
        assert {SERVICE_NAME, HEALTH, reflection.SERVICE_NAME} <= set(services)
        assert "Buy" in methods and "Deposit" in methods


async def test_refuses_to_serve_off_loopback_unguarded(tmp_path: Path) -> None:
    url = store_url(tmp_path)
    anywhere = "0.0.0.0:0"
    with pytest.raises(ServerConfigError, match="without tokens"):
        await start_purchase(PurchaseConfig(url, server=ServerConfig(listen=anywhere)))
    with pytest.raises(ServerConfigError, match="without TLS"):
        await start_purchase(PurchaseConfig(
            url, server=ServerConfig(listen=anywhere, tokens=TOKENS)))
    # Checked without binding: these would listen on every interface.
    ServerConfig(listen=anywhere, tokens=TOKENS, allow_plaintext=True).check()
    ServerConfig(listen=anywhere, tokens=TOKENS, tls_cert=tmp_path / "c",
                 tls_key=tmp_path / "k").check()
    ServerConfig(listen="[::1]:0").check()
    with pytest.raises(ServerConfigError, match="without tokens"):
        ServerConfig(listen=anywhere, allow_plaintext=True).check()


async def test_unreadable_tls_files_are_a_config_error(tmp_path: Path) -> None:
    config = ServerConfig(listen="127.0.0.1:0", tokens=TOKENS, tls_cert=tmp_path / "none.pem",
                          tls_key=tmp_path / "none.key")
    with pytest.raises(ServerConfigError, match="TLS files"):
        await start_purchase(PurchaseConfig(store_url(tmp_path), server=config))


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, and its key, made by the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl CLI not found: can't make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60)
    return cert, key


async def test_tls_with_tokens(tmp_path: Path, self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    config = PurchaseConfig(store_url(tmp_path), server=ServerConfig(
        listen="127.0.0.1:0", tokens=TOKENS, tls_cert=cert, tls_key=key))

    node = await start_purchase(config)
    try:
        trusted = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        for target in (f"localhost:{node.port}", f"127.0.0.1:{node.port}"):
            async with grpc.aio.secure_channel(target, trusted) as channel:
                stub = purchase_pb2_grpc.PurchaseServiceStub(channel)
                uid = "alice" if target.startswith("localhost") else "bob"
                made = await stub.CreateAccount(pb.CreateAccountRequest(user_id=uid),
                                                metadata=GATEWAY, timeout=10)
                assert made.user_id == uid
                assert await code_of(stub.GetAccount(pb.GetAccountRequest(user_id=uid),
                                                     timeout=10)) == Code.UNAUTHENTICATED
        # Plaintext to a TLS port, or TLS without trusting its certificate: no call.
        async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}") as plain:
            stub = purchase_pb2_grpc.PurchaseServiceStub(plain)
            assert await code_of(stub.GetAccount(pb.GetAccountRequest(user_id="alice"),
                                                 metadata=GATEWAY, timeout=2)) == \
                Code.UNAVAILABLE
        untrusting = grpc.ssl_channel_credentials()
        async with grpc.aio.secure_channel(f"localhost:{node.port}", untrusting) as other:
            stub = purchase_pb2_grpc.PurchaseServiceStub(other)
            assert await code_of(stub.GetAccount(pb.GetAccountRequest(user_id="alice"),
                                                 metadata=GATEWAY, timeout=2)) == \
                Code.UNAVAILABLE
    finally:
        await node.stop(grace_s=1.0)
