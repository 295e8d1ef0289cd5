"""The calls the tracing tests make as the gateway: a purchase stub on a blocking channel (the
services are processes) and a Buy any world's buyer can afford. Their world is
``tests._support.world.open_world``."""

from __future__ import annotations

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.api.abc.v1 import purchase_pb2_grpc

BALANCE, MIN_PRICE = 10_000, 10
"""Each buyer's money and each campaign's min price in the tracing tests' worlds
(``open_world(target, ..., funds=BALANCE, min_price=MIN_PRICE)``)."""


def purchase_stub(channel: grpc.Channel) -> purchase_pb2_grpc.PurchaseServiceStub:
    return purchase_pb2_grpc.PurchaseServiceStub(channel)


def buy_request(uid: str, cid: str) -> pb.BuyRequest:
    return pb.BuyRequest(user_id=uid, campaign_id=cid, max_price=MIN_PRICE * 100)
