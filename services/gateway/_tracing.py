"""Tracing: a SERVER span per HTTP request, a CLIENT span per gRPC call under it, and the
call's W3C ``traceparent`` in its metadata, which purchase and notify continue (README,
"Tracing"), so one purchase from a browser is one trace.

Set up from the standard ``OTEL_*`` variables, as the services are: spans are exported by
OTLP/gRPC when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) is set and
``OTEL_SDK_DISABLED`` is not ``true``; otherwise the API's no-op tracer costs next to nothing.
The gateway imports nothing of the services' runtime (it is a pure client), hence its own
few lines here."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, StatusCode
from starlette.types import Message, Receive, Scope, Send

from ._asgi import HttpMiddleware

SERVICE_NAME = "abc-gateway"
tracer = trace.get_tracer("abc.gateway")


def setup_tracing(env: Mapping[str, str] = os.environ) -> Callable[[], None]:
    """Install the SDK's tracer and meter providers when exporting is configured (metrics:
    the live updates' ``abc.gateway.*``, every ``OTEL_METRIC_EXPORT_INTERVAL``); returns what
    flushes and stops them at the process's end (a no-op when nothing is exported)."""
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true" or not (
            env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return lambda: None
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": SERVICE_NAME,
                                "service.instance.id": f"{socket.gethostname()}-{os.getpid()}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    meters = MeterProvider(resource=resource, metric_readers=[
        PeriodicExportingMetricReader(OTLPMetricExporter())])
    metrics.set_meter_provider(meters)

    def stop() -> None:
        provider.shutdown()
        meters.shutdown()

    return stop


class RequestSpans(HttpMiddleware):
    """ASGI middleware: each HTTP request a SERVER span named by its route's template
    (``POST /campaigns/{campaign_id}/buy``), continuing a ``traceparent`` the client sent; a
    5xx answer marks it an error."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method: str = scope["method"]
        with tracer.start_as_current_span(
                f"{method} {scope['path']}", context=propagate.extract(carrier),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.path": scope["path"]}) as span:

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(StatusCode.ERROR)
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)


def with_trace_context(metadata: Any) -> tuple[tuple[str, str], ...]:
    """``metadata`` with the current span's ``traceparent`` (and ``tracestate``) added."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return (*tuple(metadata or ()), *carrier.items())
