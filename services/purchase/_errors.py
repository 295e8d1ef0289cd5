"""Outcomes to gRPC statuses, one class each (see purchase.proto's error table): every refusal
carries an ErrorInfo with a stable reason (and a BadRequest for bad input, services.messages);
``refuse`` also attaches a BuyRejection where a detail helps (Buy, Deposit),
``refuse_withdrawal`` a WithdrawalRejection (money out)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import NoReturn

import grpc

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import (
    AccountBusy,
    AdSizeMismatch,
    AlreadyExists,
    InsufficientFunds,
    Interrupted,
    InvalidImage,
    InvalidInput,
    LostRace,
    Missing,
    PriceAboveMax,
    WrongState,
)
from services.messages import Refusal, abort, exists, invalid, missing, store_failed

Outcome = (AccountBusy | AdSizeMismatch | AlreadyExists | InsufficientFunds | Interrupted
           | InvalidInput | LostRace | Missing | PriceAboveMax | WrongState)
Reason = pb.BuyRejection.Reason
Why = pb.WithdrawalRejection.Reason
Context = grpc.aio.ServicerContext[object, object]
FILLER_FIELDS = {"user": "filler.user_id", "filler": "filler.filler_id", "text": "filler.text",
                 "link": "filler.link", "image": "filler.image",
                 "content_type": "filler.content_type"}
"""UploadFiller's proto fields, for the names the journal checks them by."""


async def refuse(context: Context, outcome: Outcome,
                 fields: Mapping[str, str] | None = None) -> NoReturn:
    """Abort the call with the status (and details) that ``outcome`` calls for; ``fields``
    names the request's proto fields where they differ from ``user_id``, ``campaign_id``..."""
    await _abort(context, refusal_of(outcome, fields))


async def refuse_withdrawal(context: Context, outcome: Outcome) -> NoReturn:
    """``refuse``, for a money-out call: a refusal about funds, the account or a withdrawal's
    state carries a WithdrawalRejection."""
    match outcome:
        case InsufficientFunds(balance, needed):
            await _abort(context, Refusal(
                grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS",
                f"insufficient funds: balance {balance}, the withdrawal needs {needed} "
                "(amount + fee)", {"balance": str(balance), "needed": str(needed)},
                detail=pb.WithdrawalRejection(reason=Why.INSUFFICIENT_FUNDS, balance=balance,
                                              needed=needed)))
        case AlreadyExists(kind, ident):
            await _abort(context, exists(
                kind, ident, f"{kind} {ident!r} exists with another amount or destination"))
        case AccountBusy():
            await _abort(context, replace(refusal_of(outcome),
                                          detail=pb.WithdrawalRejection(reason=Why.ACCOUNT_BUSY)))
    await refuse(context, outcome)


async def _abort(context: Context, refusal: Refusal) -> NoReturn:
    await abort(context, refusal)
    raise AssertionError("abort returned")  # pragma: no cover - abort always raises


def refusal_of(outcome: Outcome, fields: Mapping[str, str] | None = None) -> Refusal:
    code = grpc.StatusCode
    match outcome:
        case InvalidImage(name, reason):
            return invalid(name, reason, fields, why="INVALID_IMAGE")
        case InvalidInput(name, reason):
            return invalid(name, reason, fields)
        case Missing(kind, ident):
            return missing(kind, ident)
        case AlreadyExists(kind, ident):
            return exists(kind, ident)
        case InsufficientFunds(balance, price):
            return Refusal(code.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS",
                           f"insufficient funds: balance {balance}, price {price}",
                           {"balance": str(balance), "price": str(price)},
                           detail=pb.BuyRejection(reason=Reason.INSUFFICIENT_FUNDS,
                                                  current_price=price, balance=balance))
        case AccountBusy(uid):
            return Refusal(code.FAILED_PRECONDITION, "ACCOUNT_BUSY",
                           f"account {uid!r} is busy with another operation; retry shortly",
                           {"user_id": uid}, detail=pb.BuyRejection(reason=Reason.ACCOUNT_BUSY))
        case LostRace(slot, price):
            return Refusal(code.ABORTED, "LOST_RACE",
                           f"slot {slot} was taken; the next costs {price}",
                           {"slot": str(slot), "price": str(price)},
                           detail=pb.BuyRejection(reason=Reason.LOST_RACE, current_price=price,
                                                  slot=slot))
        case PriceAboveMax(price, max_price):
            return Refusal(code.ABORTED, "PRICE_ABOVE_MAX",
                           f"price {price} is above max_price {max_price}",
                           {"price": str(price), "max_price": str(max_price)},
                           detail=pb.BuyRejection(reason=Reason.PRICE_ABOVE_MAX,
                                                  current_price=price))
        case WrongState(ident, state, wanted):
            return Refusal(code.FAILED_PRECONDITION, "WRONG_STATE",
                           f"withdrawal {ident!r} is {state}; this needs it {' or '.join(wanted)}",
                           {"withdrawal_id": ident, "state": state},
                           detail=pb.WithdrawalRejection(reason=Why.WRONG_STATE, state=state,
                                                         wanted=wanted))
        case AdSizeMismatch():
            return _misfit(outcome)
        case Interrupted(detail):
            return store_failed(detail)


def _misfit(m: AdSizeMismatch) -> Refusal:
    image = f"is {m.width}x{m.height}" if m.width else "has no image"
    return Refusal(grpc.StatusCode.FAILED_PRECONDITION, "AD_SIZE_MISMATCH",
                   f"filler {m.filler!r} {image}; campaign {m.campaign!r} shows "
                   f"{m.ad_width}x{m.ad_height} ads",
                   {"campaign_id": m.campaign, "filler_id": m.filler,
                    "ad_width": str(m.ad_width), "ad_height": str(m.ad_height),
                    "width": str(m.width), "height": str(m.height)})
