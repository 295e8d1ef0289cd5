"""The purchase process's event loop: uvloop's when installed (grpc.aio serves on it), else
asyncio's. A served process on uvloop: tests/e2e/test_purchase_process.py."""

from __future__ import annotations

import asyncio
import importlib
from types import ModuleType

import grpc
import pytest
import uvloop

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc
from services.purchase import PurchaseConfig, purchase_event_loop, start_purchase
from services.runtime import ServerConfig


def test_uvloop_is_the_purchase_loop_when_installed() -> None:
    factory = purchase_event_loop()
    assert factory is uvloop.new_event_loop


def test_without_uvloop_the_purchase_process_runs_on_asyncios_loop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def without_uvloop(name: str, package: str | None = None) -> ModuleType:
        if name == "uvloop":
            raise ImportError("No module named 'uvloop'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", without_uvloop)
    assert purchase_event_loop() is None


def test_the_purchase_service_serves_a_purchase_on_uvloop() -> None:
    async def buy_over_grpc() -> pb.BuyResponse:
        assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
        config = PurchaseConfig("memory://", server=ServerConfig(listen="127.0.0.1:0"))
        node = await start_purchase(config)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{node.port}") as channel:
                stub = purchase_pb2_grpc.PurchaseServiceStub(channel)
                for uid in ("alice", "bob"):
                    await stub.CreateAccount(pb.CreateAccountRequest(user_id=uid))
                await stub.Deposit(pb.DepositRequest(user_id="alice", deposit_id="d1",
                                                     amount=100))
                await stub.CreateCampaign(pb.CreateCampaignRequest(
                    campaign_id="c1", owner_id="bob", min_price=10, slot_seconds=60))
                response: pb.BuyResponse = await stub.Buy(pb.BuyRequest(
                    user_id="alice", campaign_id="c1", max_price=10))
                return response
        finally:
            await node.stop()

    factory = purchase_event_loop()
    assert factory is not None
    with asyncio.Runner(loop_factory=factory) as runner:
        bought = runner.run(buy_over_grpc())
    assert (bought.slot.slot, bought.slot.price, bought.balance) == (1, 10, 90)
