"""End-user passwords for a gateway: ``Authenticate``, ``ChangePassword`` and the operator's
``ResetPassword`` (a mixin of ``PurchaseServicer``; docs/protocol.md, "Credentials").

A wrong password, an unknown user and a user without a password get one refusal, word for
word (UNAUTHENTICATED, BAD_CREDENTIALS, nothing about the account in it); a throttled attempt
UNAUTHENTICATED, AUTH_THROTTLED and a google.rpc.RetryInfo. No response carries a hash: the
journal never hands one out.
"""

from __future__ import annotations

from typing import Any, NoReturn

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from services.api.abc.v1 import purchase_pb2 as pb
from services.journal import (
    BadCredentials,
    Interrupted,
    InvalidInput,
    Journal,
    Missing,
    PasswordSet,
    Throttled,
    User,
)
from services.messages import Refusal, abort

from . import _messages as msg
from ._errors import refusal_of

Context = grpc.aio.ServicerContext[Any, Any]

BAD_CREDENTIALS = Refusal(grpc.StatusCode.UNAUTHENTICATED, "BAD_CREDENTIALS",
                          "wrong user id or password")
"""The one answer to a wrong password, an unknown user and a user without a password."""


def throttled(retry_after_ms: int) -> Refusal:
    seconds = -(-retry_after_ms // 1000)
    return Refusal(grpc.StatusCode.UNAUTHENTICATED, "AUTH_THROTTLED",
                   f"too many failed attempts on this account: try again in {seconds} s",
                   {"retry_after_ms": str(retry_after_ms)},
                   detail=error_details_pb2.RetryInfo(
                       retry_delay=duration_pb2.Duration(seconds=retry_after_ms // 1000,
                                                         nanos=retry_after_ms % 1000 * 10**6)))


async def refuse_credentials(
    context: Context, outcome: BadCredentials | Throttled | Missing | InvalidInput | Interrupted
) -> NoReturn:
    match outcome:
        case BadCredentials():
            refusal = BAD_CREDENTIALS
        case Throttled(retry_after_ms):
            refusal = throttled(retry_after_ms)
        case _:
            refusal = refusal_of(outcome)
    await abort(context, refusal)
    raise AssertionError("abort returned")  # pragma: no cover - abort always raises


class PasswordServicer:
    journal: Journal

    async def Authenticate(self, request: pb.AuthenticateRequest, context: Context
                           ) -> pb.AuthenticateResponse:
        outcome = await self.journal.authenticate(request.user_id, request.password)
        if not isinstance(outcome, User):
            await refuse_credentials(context, outcome)
        return pb.AuthenticateResponse(account=msg.account(request.user_id, outcome))

    async def ChangePassword(self, request: pb.ChangePasswordRequest, context: Context
                             ) -> pb.ChangePasswordResponse:
        r = request
        outcome = await self.journal.change_password(r.user_id, r.old_password, r.new_password)
        if not isinstance(outcome, PasswordSet):
            await refuse_credentials(context, outcome)
        return pb.ChangePasswordResponse()

    async def ResetPassword(self, request: pb.ResetPasswordRequest, context: Context
                            ) -> pb.ChangePasswordResponse:
        outcome = await self.journal.reset_password(request.user_id, request.new_password)
        if not isinstance(outcome, PasswordSet):
            await refuse_credentials(context, outcome)
        return pb.ChangePasswordResponse()
