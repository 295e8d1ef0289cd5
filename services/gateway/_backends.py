"""The gateway's two gRPC channels (grpc.aio), to purchase and to notify: opened when the app
starts, closed when it stops. Every call carries the gateway's token as ``authorization:
Bearer <token>`` and the trace context (``_tracing``), gets a CLIENT span, and a deadline.

Keepalive as the services ask of gateways (README, "Keepalive"): a ping every 30 s, even on
an idle channel, answered within 20 s, so a dead connection under a long Watch is found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry.trace import SpanKind

from services.api.abc.v1 import notify_pb2_grpc, purchase_pb2_grpc

from ._config import GatewayConfig
from ._tracing import tracer, with_trace_context

if TYPE_CHECKING:  # the async stubs exist in the generated .pyi only
    from services.api.abc.v1.notify_pb2_grpc import NotifyServiceAsyncStub as NotifyStub
    from services.api.abc.v1.purchase_pb2_grpc import (
        PurchaseServiceAsyncStub as PurchaseStub,
    )
    _UnaryUnary = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
else:  # the stubs' generics are not subscriptable at run time
    _UnaryUnary = grpc.aio.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.aio.UnaryStreamClientInterceptor

CALL_TIMEOUT_S = 10.0  # a unary call's deadline when the caller sets none (Login may take ~2 s)
CHANNEL_OPTIONS = (
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
)


class GatewayCalls(_UnaryUnary, _UnaryStream):
    """Adds the bearer token and trace context to every call; a CLIENT span per unary call
    with its status code (a stream's span would last as long as the stream)."""

    def __init__(self, token: str | None) -> None:
        self._auth = (("authorization", f"Bearer {token}"),) if token else ()

    def _details(self, details: Any, timeout: float | None) -> grpc.aio.ClientCallDetails:
        metadata = with_trace_context((*tuple(details.metadata or ()), *self._auth))
        return grpc.aio.ClientCallDetails(details.method, timeout, grpc.aio.Metadata(*metadata),
                                          details.credentials, details.wait_for_ready)

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        service, _, name = method.lstrip("/").partition("/")
        with tracer.start_as_current_span(method, kind=SpanKind.CLIENT, attributes={
                "rpc.system": "grpc", "rpc.service": service, "rpc.method": name}) as span:
            call = await continuation(self._details(details, details.timeout or CALL_TIMEOUT_S),
                                      request)
            try:
                await call
            except grpc.aio.AioRpcError as exc:
                span.set_attribute("rpc.grpc.status_code", exc.code().value[0])
                raise
            span.set_attribute("rpc.grpc.status_code", 0)
            return call

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details, details.timeout), request)


class GatewayStreams(_UnaryStream):
    """``GatewayCalls`` for stream calls (notify's Watch): grpc.aio files an interceptor under
    the first kind it is an instance of only, so streams need an interceptor of their own."""

    def __init__(self, calls: GatewayCalls) -> None:
        self._calls = calls

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await self._calls.intercept_unary_stream(continuation, details, request)


def open_channel(target: str, config: GatewayConfig) -> grpc.aio.Channel:
    """A channel to ``target``: TLS verified with the configured CA, or plaintext."""
    calls = GatewayCalls(config.token)
    interceptors: list[Any] = [calls, GatewayStreams(calls)]  # the stubs' type is partial
    if config.tls_ca is not None:
        credentials = grpc.ssl_channel_credentials(root_certificates=config.tls_ca)
        return grpc.aio.secure_channel(target, credentials, options=CHANNEL_OPTIONS,
                                       interceptors=interceptors)
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=interceptors)


@dataclass
class Backends:
    """The open channels and their stubs; ``close()`` when the app stops."""

    purchase: PurchaseStub
    notify: NotifyStub
    _channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def open(cls, config: GatewayConfig) -> Backends:
        purchase = open_channel(config.purchase, config)
        notify = open_channel(config.notify, config)
        return cls(purchase_pb2_grpc.PurchaseServiceStub(purchase),
                   notify_pb2_grpc.NotifyServiceStub(notify), (purchase, notify))

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close(None)
