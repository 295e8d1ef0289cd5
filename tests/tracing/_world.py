"""Accounts with money and campaigns to buy from, made through a purchase service's API (calls
without a traceparent: each is a trace of its own, which the tests ignore)."""

from __future__ import annotations

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc

CALL_TIMEOUT_S = 10
SELLER = "seller"
MIN_PRICE = 10


def purchase_stub(channel: grpc.Channel) -> purchase_pb2_grpc.PurchaseServiceStub:
    return purchase_pb2_grpc.PurchaseServiceStub(channel)


def open_world(stub: purchase_pb2_grpc.PurchaseServiceStub, buyers: list[str],
               campaigns: list[str], balance: int = 10_000) -> None:
    """``buyers`` with ``balance`` each, and ``campaigns`` owned by SELLER at MIN_PRICE."""
    for uid in [SELLER, *buyers]:
        stub.CreateAccount(pb.CreateAccountRequest(user_id=uid), timeout=CALL_TIMEOUT_S)
    for uid in buyers:
        stub.Deposit(pb.DepositRequest(user_id=uid, deposit_id=f"d-{uid}", amount=balance),
                     timeout=CALL_TIMEOUT_S)
    for cid in campaigns:
        stub.CreateCampaign(pb.CreateCampaignRequest(
            campaign_id=cid, owner_id=SELLER, min_price=MIN_PRICE, slot_seconds=60),
            timeout=CALL_TIMEOUT_S)


def buy_request(uid: str, cid: str) -> pb.BuyRequest:
    return pb.BuyRequest(user_id=uid, campaign_id=cid, max_price=MIN_PRICE * 100)
