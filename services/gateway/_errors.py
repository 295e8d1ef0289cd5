"""A refusal from purchase or notify as a person reads it.

Every refusal carries a ``google.rpc.ErrorInfo`` with a stable reason (types.proto lists
them), bad input a ``google.rpc.BadRequest`` naming the proto field, Buy a ``BuyRejection``
with the price now: ``explain`` reads them (never the message text, except to show it when
nothing better is known) and says what happened in the page's words, with the HTTP status the
page gets. A service that can't be reached is a 503 page; a gateway token the service refuses
a 502 (the operator's to fix, logged). Nothing here shows a stack trace."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import cast

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.api.abc.v1 import purchase_pb2 as pb

log = logging.getLogger("abc.gateway")

FIELD_LABELS = {  # proto field -> the form's name for it
    "user_id": "User name", "owner_id": "User name", "password": "Password",
    "old_password": "Current password", "new_password": "New password",
    "campaign_id": "Campaign name", "min_price": "Minimum price",
    "slot_seconds": "Slot length", "ad_width": "Ad width", "ad_height": "Ad height",
    "filler_id": "Ad", "filler.filler_id": "Ad name", "filler.text": "Text",
    "filler.link": "Link", "filler.image": "Image", "filler.content_type": "Image",
    "max_price": "Maximum price", "amount": "Amount", "destination": "Destination",
    "withdrawal_id": "Withdrawal",
}

_TAKEN = {"USER_ALREADY_EXISTS": "That user name is taken.",
          "CAMPAIGN_ALREADY_EXISTS": "A campaign with that name exists already.",
          "FILLER_ALREADY_EXISTS": "You have an ad with that name already.",
          "WITHDRAWAL_ALREADY_EXISTS": "That withdrawal was already requested with other "
                                       "details."}
_MISSING = {"USER_NOT_FOUND": "No such user.", "CAMPAIGN_NOT_FOUND": "No such campaign.",
            "FILLER_NOT_FOUND": "No such ad.",
            "WITHDRAWAL_NOT_FOUND": "No such withdrawal."}


@dataclass(frozen=True)
class Problem:
    """What the page says (``message``), its HTTP status, and for Buy the price now."""

    message: str
    status: int
    reason: str = ""
    current_price: int | None = None
    fields: tuple[str, ...] = field(default_factory=tuple)  # proto fields found bad

    @property
    def unavailable(self) -> bool:
        return self.status >= 500


@dataclass
class _Details:
    reason: str = ""
    violations: list[tuple[str, str]] = field(default_factory=list)
    rejection: pb.BuyRejection | None = None
    withdrawal: pb.WithdrawalRejection | None = None
    retry_s: int | None = None


def _details(exc: grpc.aio.AioRpcError) -> _Details:
    found = _Details()
    try:
        # from_call reads code(), details() and trailing_metadata(), which the aio error has
        # too; its stubs only name the sync grpc.Call.
        status: status_pb2.Status | None = rpc_status.from_call(cast(grpc.Call, exc))
    except ValueError:  # a trailer that contradicts the call's status: ignore it
        status = None
    for packed in status.details if status is not None else ():
        info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
        retry = error_details_pb2.RetryInfo()
        rejection, refusal = pb.BuyRejection(), pb.WithdrawalRejection()
        if _unpack(packed, info):
            found.reason = info.reason
        elif _unpack(packed, bad):
            found.violations += [(v.field, v.description) for v in bad.field_violations]
        elif _unpack(packed, rejection):
            found.rejection = rejection
        elif _unpack(packed, refusal):
            found.withdrawal = refusal
        elif _unpack(packed, retry):
            found.retry_s = max(1, retry.retry_delay.seconds + (retry.retry_delay.nanos > 0))
    return found


def _unpack(packed: object, into: Message) -> bool:
    unpacked: bool = packed.Unpack(into)  # type: ignore[attr-defined]
    return unpacked


def explain(exc: grpc.aio.AioRpcError) -> Problem:
    """What ``exc`` means for the person who asked."""
    code, details = exc.code(), _details(exc)
    reason = details.reason
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return _invalid(exc, details)
    if reason in _TAKEN:
        return Problem(_TAKEN[reason], 409, reason)
    if reason in _MISSING or code is grpc.StatusCode.NOT_FOUND:
        return Problem(_MISSING.get(reason, "Not found."), 404, reason)
    if details.rejection is not None:
        return _rejected(details.rejection, reason)
    if details.withdrawal is not None:
        return _withdrawal_refused(details.withdrawal, exc, reason)
    return _by_reason(exc, reason, details)


def _invalid(exc: grpc.aio.AioRpcError, details: _Details) -> Problem:
    if details.violations:
        text = " ".join(f"{FIELD_LABELS.get(f, f)}: {_sentence(d)}"
                        for f, d in details.violations)
        return Problem(text, 400, details.reason, fields=tuple(f for f, _ in details.violations))
    return Problem(_sentence(exc.details() or "that is not valid"), 400, details.reason)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _rejected(rejection: pb.BuyRejection, reason: str) -> Problem:
    price = rejection.current_price
    if rejection.reason == pb.BuyRejection.LOST_RACE:
        text = f"Someone else bought slot {rejection.slot} first. The price is now {price}."
    elif rejection.reason == pb.BuyRejection.PRICE_ABOVE_MAX:
        text = f"The price is now {price}, above your maximum."
    elif rejection.reason == pb.BuyRejection.INSUFFICIENT_FUNDS:
        text = (f"Your balance ({rejection.balance}) is below the price ({price}). "
                "Add funds first.")
    else:
        return Problem("Your account is busy with another operation. Try again in a moment.",
                       409, reason or "ACCOUNT_BUSY")
    return Problem(text, 409, reason, current_price=price)


def _withdrawal_refused(refusal: pb.WithdrawalRejection, exc: grpc.aio.AioRpcError,
                        reason: str) -> Problem:
    if refusal.reason == pb.WithdrawalRejection.INSUFFICIENT_FUNDS:
        return Problem(f"Your balance ({refusal.balance}) is below what this withdrawal "
                       f"takes ({refusal.needed}, with the fee).", 409, reason)
    if refusal.reason == pb.WithdrawalRejection.ACCOUNT_BUSY:
        return Problem("Your account is busy with another operation. Try again in a moment.",
                       409, reason)
    return Problem(_sentence(exc.details() or "not possible now"), 409, reason)


def _by_reason(exc: grpc.aio.AioRpcError, reason: str, details: _Details) -> Problem:
    code = exc.code()
    if reason == "BAD_CREDENTIALS":
        return Problem("Wrong user name or password.", 401, reason)
    if reason == "AUTH_THROTTLED":
        wait = f" in {details.retry_s} s" if details.retry_s else " later"
        return Problem(f"Too many failed attempts for this account. Try again{wait}.", 429,
                       reason)
    if reason == "AD_SIZE_MISMATCH":
        return Problem("This campaign shows ads of one size only, and this ad's image is "
                       "not that size.", 409, reason)
    if reason == "ACCOUNT_BUSY":
        return Problem("Your account is busy with another operation. Try again in a moment.",
                       409, reason)
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        return Problem(_sentence(exc.details() or "not possible now"), 409, reason)
    return _failure(exc, reason)


def _failure(exc: grpc.aio.AioRpcError, reason: str) -> Problem:
    """The gateway's or the services' fault, not the person's."""
    code = exc.code()
    if code is grpc.StatusCode.UNIMPLEMENTED:
        return Problem("This is not available on this server yet.", 501, "UNIMPLEMENTED")
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        log.error("the services refused this gateway's token: %s: %s", code.name,
                  exc.details())
        return Problem("The service refused this gateway's credentials. The operator has "
                       "been told.", 502, code.name)
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return Problem("The service took too long to answer. Try again.", 504, code.name)
    if code is grpc.StatusCode.UNAVAILABLE:
        return Problem("The service is unavailable right now. Try again in a moment.", 503,
                       reason or code.name)
    log.error("unexpected answer from the services: %s: %s", code.name, exc.details())
    return Problem("Something went wrong on our side. Try again.", 500, reason or code.name)
