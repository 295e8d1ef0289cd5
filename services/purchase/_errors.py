"""Outcomes to gRPC statuses, one class each (see purchase.proto's error table)."""

from __future__ import annotations

from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2
from grpc_status import rpc_status

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import (
    AccountBusy,
    AlreadyExists,
    InsufficientFunds,
    Interrupted,
    InvalidInput,
    LostRace,
    Missing,
    PriceAboveMax,
)

Refusal = (AccountBusy | AlreadyExists | InsufficientFunds | Interrupted | InvalidInput | LostRace
           | Missing | PriceAboveMax)
Reason = pb.BuyRejection.Reason


async def refuse(context: grpc.aio.ServicerContext[object, object], outcome: Refusal) -> NoReturn:
    """Abort the call with the status (and details) that ``outcome`` calls for."""
    code, message, detail = _status_of(outcome)
    status = status_pb2.Status(code=code.value[0], message=message)
    if detail is not None:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    converted = rpc_status.to_status(status)
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
    raise AssertionError("abort returned")  # pragma: no cover - abort always raises


def _status_of(outcome: Refusal) -> tuple[grpc.StatusCode, str, pb.BuyRejection | None]:
    match outcome:
        case InvalidInput(field, reason):
            return grpc.StatusCode.INVALID_ARGUMENT, f"{field}: {reason}", None
        case Missing(kind, ident):
            return grpc.StatusCode.NOT_FOUND, f"no {kind} {ident!r}", None
        case AlreadyExists(kind, ident):
            return grpc.StatusCode.ALREADY_EXISTS, f"{kind} {ident!r} exists", None
        case InsufficientFunds(balance, price):
            return (grpc.StatusCode.FAILED_PRECONDITION,
                    f"insufficient funds: balance {balance}, price {price}",
                    pb.BuyRejection(reason=Reason.INSUFFICIENT_FUNDS, current_price=price,
                                    balance=balance))
        case AccountBusy(uid):
            return (grpc.StatusCode.FAILED_PRECONDITION,
                    f"account {uid!r} is busy with another operation; retry shortly",
                    pb.BuyRejection(reason=Reason.ACCOUNT_BUSY))
        case LostRace(slot, price):
            return (grpc.StatusCode.ABORTED, f"slot {slot} was taken; the next costs {price}",
                    pb.BuyRejection(reason=Reason.LOST_RACE, current_price=price, slot=slot))
        case PriceAboveMax(price, max_price):
            return (grpc.StatusCode.ABORTED, f"price {price} is above max_price {max_price}",
                    pb.BuyRejection(reason=Reason.PRICE_ABOVE_MAX, current_price=price))
        case Interrupted(detail):
            return (grpc.StatusCode.UNAVAILABLE,
                    f"the store failed mid-operation ({detail}); safe to retry", None)

