"""Outcomes to gRPC statuses, one class each (see purchase.proto's error table). ``refuse``
attaches a BuyRejection where a detail helps (Buy, Deposit); ``refuse_withdrawal`` a
WithdrawalRejection (money out)."""

from __future__ import annotations

from typing import NoReturn

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
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
    WrongState,
)

Refusal = (AccountBusy | AlreadyExists | InsufficientFunds | Interrupted | InvalidInput | LostRace
           | Missing | PriceAboveMax | WrongState)
Reason = pb.BuyRejection.Reason
Why = pb.WithdrawalRejection.Reason
Context = grpc.aio.ServicerContext[object, object]


async def refuse(context: Context, outcome: Refusal) -> NoReturn:
    """Abort the call with the status (and details) that ``outcome`` calls for."""
    await _abort(context, *_status_of(outcome))


async def refuse_withdrawal(context: Context, outcome: Refusal) -> NoReturn:
    """``refuse``, for a money-out call: a refusal about funds, the account or a withdrawal's
    state carries a WithdrawalRejection."""
    match outcome:
        case InsufficientFunds(balance, needed):
            await _abort(context, grpc.StatusCode.FAILED_PRECONDITION,
                         f"insufficient funds: balance {balance}, the withdrawal needs {needed} "
                         "(amount + fee)",
                         pb.WithdrawalRejection(reason=Why.INSUFFICIENT_FUNDS, balance=balance,
                                                needed=needed))
        case AlreadyExists(kind, ident):
            await _abort(context, grpc.StatusCode.ALREADY_EXISTS,
                         f"{kind} {ident!r} exists with another amount or destination", None)
        case AccountBusy():
            code, message, _ = _status_of(outcome)
            await _abort(context, code, message,
                         pb.WithdrawalRejection(reason=Why.ACCOUNT_BUSY))
    await refuse(context, outcome)


async def _abort(context: Context, code: grpc.StatusCode, message: str,
                 detail: Message | None) -> NoReturn:
    status = status_pb2.Status(code=code.value[0], message=message)
    if detail is not None:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    converted = rpc_status.to_status(status)
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
    raise AssertionError("abort returned")  # pragma: no cover - abort always raises


def _status_of(outcome: Refusal) -> tuple[grpc.StatusCode, str, Message | None]:
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
        case WrongState(ident, state, wanted):
            return (grpc.StatusCode.FAILED_PRECONDITION,
                    f"withdrawal {ident!r} is {state}; this needs it {' or '.join(wanted)}",
                    pb.WithdrawalRejection(reason=Why.WRONG_STATE, state=state, wanted=wanted))
        case Interrupted(detail):
            return (grpc.StatusCode.UNAVAILABLE,
                    f"the store failed mid-operation ({detail}); safe to retry", None)

