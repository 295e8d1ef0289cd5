"""gRPC tracing: a server interceptor that continues the caller's W3C trace context (from the
call's metadata) in a SERVER span per call, and client interceptors that start a CLIENT span
and put its context in the metadata."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, StatusCode

from ._auth import OPEN_PREFIXES
from ._current import make_current, restore
from ._w3c import context_of

if TYPE_CHECKING:
    _ServerInterceptor = grpc.aio.ServerInterceptor[Any, Any]
    _UnaryUnary = grpc.aio.UnaryUnaryClientInterceptor[Any, Any]
    _UnaryStream = grpc.aio.UnaryStreamClientInterceptor[Any, Any]
else:  # the stubs' generics are not subscriptable at run time
    _ServerInterceptor = grpc.aio.ServerInterceptor
    _UnaryUnary = grpc.aio.UnaryUnaryClientInterceptor
    _UnaryStream = grpc.aio.UnaryStreamClientInterceptor

tracer = trace.get_tracer("abc.grpc")


_ATTRIBUTES: dict[str, dict[str, str]] = {}  # a method's: a server has a bounded set


def _attributes(method: str) -> dict[str, str]:
    found = _ATTRIBUTES.get(method)
    if found is None:
        service, _, name = method.lstrip("/").partition("/")
        found = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        if len(_ATTRIBUTES) < 1024:  # methods are a server's own, not the caller's to grow
            _ATTRIBUTES[method] = found
    return found


class ServerTracing(_ServerInterceptor):
    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails],
                                     Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        parent = context_of({k: v for k, v in details.invocation_metadata or ()
                             if isinstance(v, str)})
        attributes = _attributes(method)
        kw = {"request_deserializer": handler.request_deserializer,
              "response_serializer": handler.response_serializer}
        if handler.unary_unary:
            inner: Any = handler.unary_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
                # start_as_current_span's work, without the two context managers around it:
                # a purchase is one call.
                span = tracer.start_span(method, context=parent, kind=SpanKind.SERVER,
                                         attributes=attributes, record_exception=False,
                                         set_status_on_exception=False)
                token = make_current(span)
                try:
                    response = await inner(request, context)
                except BaseException as exc:
                    _record(span, context, exc)
                    raise
                else:
                    _record(span, context)
                    return response
                finally:
                    restore(token)
                    span.end()

            return grpc.unary_unary_rpc_method_handler(unary, **kw)
        if handler.unary_stream:
            inner_stream: Any = handler.unary_stream

            async def stream(request: Any, context: grpc.aio.ServicerContext[Any, Any]
                             ) -> AsyncIterator[Any]:
                with tracer.start_as_current_span(method, context=parent, kind=SpanKind.SERVER,
                                                  attributes=attributes,
                                                  record_exception=False,
                                                  set_status_on_exception=False) as span:
                    try:
                        async for item in inner_stream(request, context):
                            yield item
                    except BaseException as exc:
                        _record(span, context, exc)
                        raise
                    _record(span, context)

            return grpc.unary_stream_rpc_method_handler(stream, **kw)
        return handler


# The server-side errors of OpenTelemetry's gRPC conventions: the server failed. Any other
# code is the server answering a caller (bad input, a lost race, a busy account), which
# leaves the span's status unset, with the details as ``abc.status_message``.
SERVER_ERRORS = frozenset({
    grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS})
_SERVER_ERROR_VALUES = frozenset(c.value[0] for c in SERVER_ERRORS)


def _record(span: trace.Span, context: grpc.aio.ServicerContext[Any, Any],
            raised: BaseException | None = None) -> None:
    """The call's status code on its span, and the status details if not OK: as the span's
    ERROR status for a server error, else as an attribute. grpc.aio's ``context.code()``
    stays None when the handler returned (OK) or raised without aborting (the caller gets
    UNKNOWN); a cancelled call (the caller went away) gets no code."""
    code = context.code()
    if code is None:
        if raised is not None and not isinstance(raised, Exception):
            return
        code = grpc.StatusCode.OK if raised is None else grpc.StatusCode.UNKNOWN
    value = code.value[0] if isinstance(code, grpc.StatusCode) else int(code)
    span.set_attribute("rpc.grpc.status_code", value)
    if value == 0:
        return
    failure = "" if raised is None else f"{type(raised).__name__}: {raised}"
    message = context.details() or failure
    if value in _SERVER_ERROR_VALUES:
        span.set_status(StatusCode.ERROR, message)
    elif message:
        span.set_attribute("abc.status_message", message)


def _with_context(metadata: Any) -> grpc.aio.Metadata:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return grpc.aio.Metadata(*(metadata or ()), *carrier.items())


class ClientTracing(_UnaryUnary, _UnaryStream):
    """For grpc.aio channels: ``grpc.aio.insecure_channel(t, interceptors=[ClientTracing()])``."""

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        with tracer.start_as_current_span(details.method.decode() if isinstance(
                details.method, bytes) else details.method, kind=SpanKind.CLIENT):
            call = await continuation(_details(details), request)
            await call
            return call

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(_details(details), request)


def _details(details: Any) -> Any:
    return grpc.aio.ClientCallDetails(details.method, details.timeout,
                                      _with_context(details.metadata), details.credentials,
                                      details.wait_for_ready)
