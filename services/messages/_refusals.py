"""A refusal as the rich gRPC status every Abc service answers with: the code, a message naming
the proto field or the thing, and details a gateway in any language can act on without
parsing text: a ``google.rpc.ErrorInfo`` with a stable ``reason`` (the list is in the
protos) and the domain ``abc.v1``; for bad input a ``google.rpc.BadRequest`` whose field
violations name proto fields; and the method's own detail (a BuyRejection, a
WithdrawalRejection) where it has one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "abc.v1"

FIELDS = {  # the journal's names for what it checked -> the request's proto field
    "user": "user_id", "campaign": "campaign_id", "owner": "owner_id", "filler": "filler_id",
}


@dataclass(frozen=True)
class Refusal:
    """What a call is refused with; ``status()`` packs it as google.rpc.Status."""

    code: grpc.StatusCode
    reason: str  # the ErrorInfo reason: UPPER_SNAKE, stable
    message: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    violations: tuple[tuple[str, str], ...] = ()  # (proto field, what is wrong)
    detail: Message | None = None  # the method's own detail message

    def status(self) -> status_pb2.Status:
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN,
                                           metadata=dict(self.metadata))
        details: list[Message] = [info]
        if self.violations:
            details.append(error_details_pb2.BadRequest(field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in self.violations]))
        if self.detail is not None:
            details.append(self.detail)
        for detail in details:
            packed = any_pb2.Any()
            packed.Pack(detail)
            status.details.append(packed)
        return status


def invalid(field_name: str, reason: str, fields: Mapping[str, str] | None = None,
            why: str = "INVALID_FIELD") -> Refusal:
    """INVALID_ARGUMENT about ``field_name`` (a journal name, mapped to the proto field by
    ``fields`` and then ``FIELDS``), with ErrorInfo reason ``why``."""
    proto = {**FIELDS, **(fields or {})}.get(field_name, field_name)
    return Refusal(grpc.StatusCode.INVALID_ARGUMENT, why, f"{proto}: {reason}",
                   {"field": proto}, ((proto, reason),))


def missing(kind: str, ident: str) -> Refusal:
    """NOT_FOUND: no ``kind`` (user, campaign, filler, withdrawal) ``ident``."""
    return Refusal(grpc.StatusCode.NOT_FOUND, f"{kind.upper()}_NOT_FOUND",
                   f"no {kind} {ident!r}", {f"{kind}_id": ident})


def exists(kind: str, ident: str, message: str | None = None) -> Refusal:
    """ALREADY_EXISTS: ``kind`` ``ident`` exists (or was used with other fields)."""
    return Refusal(grpc.StatusCode.ALREADY_EXISTS, f"{kind.upper()}_ALREADY_EXISTS",
                   message or f"{kind} {ident!r} exists", {f"{kind}_id": ident})


def store_failed(detail: str) -> Refusal:
    return Refusal(grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE",
                   f"the store failed mid-operation ({detail}); safe to retry")


async def abort(context: grpc.aio.ServicerContext[object, object], refusal: Refusal) -> None:
    """End the call with ``refusal`` (the details in the grpc-status-details-bin trailer)."""
    converted = rpc_status.to_status(refusal.status())
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
