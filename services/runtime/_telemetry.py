"""OpenTelemetry for every Abc process, set up once per process by ``setup_telemetry``.

Configured by the standard ``OTEL_*`` variables: spans and metrics are exported by OTLP/gRPC
when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, and
``OTEL_SDK_DISABLED=true`` turns everything off. With none set nothing is exported and the
API's no-op tracer costs next to nothing. Resource attributes: ``service.name`` (abc-purchase,
abc-notify, abc-recovery), ``service.instance.id`` (host-pid) and, for recovery, its ordinal.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import Link, SpanContext, StatusCode, Tracer

from services.store import CasMismatch, DocumentStore, Exists, NotFound

from ._traced_store import TracedStore

TRACER_NAME = "abc"
Carrier = dict[str, str]


def exporting(env: Mapping[str, str] = os.environ) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


@dataclass
class Telemetry:
    """The process's tracer, and what a journal takes from it: a span per protocol step, the
    trace context to keep in locks, a store traced per operation (wired in services.wiring)."""

    tracer: Tracer
    enabled: bool
    _shutdown: list[object] = field(default_factory=list)

    def span(self, name: str, attributes: Mapping[str, str | int],
             links: Sequence[Carrier]) -> AbstractContextManager[None]:
        return _span(self.tracer, name, attributes, links)

    def trace_context(self) -> Carrier | None:
        return current_carrier()

    def trace_store(self, store: DocumentStore) -> DocumentStore:
        """``store`` with a span per operation, under the step that made it."""
        return TracedStore(store)

    def shutdown(self) -> None:
        """Export what is buffered and stop (call once, at the process's end)."""
        for provider in self._shutdown:
            provider.shutdown()  # type: ignore[attr-defined]


@contextlib.contextmanager
def _span(tracer: Tracer, name: str, attributes: Mapping[str, str | int],
          links: Sequence[Carrier]) -> Iterator[None]:
    current = trace.get_current_span().get_span_context()
    if current.is_valid and not current.trace_flags.sampled:
        yield  # a step of a trace the sampler dropped: dropped with it, at no cost
        return
    own = current.trace_id
    span_links = [Link(ctx) for ctx in map(span_context_of, links)
                  if ctx is not None and ctx.trace_id != own]
    with tracer.start_as_current_span(name, attributes={f"abc.{k}": v
                                                        for k, v in attributes.items()},
                                      links=span_links, record_exception=False,
                                      set_status_on_exception=False) as span:
        try:
            yield
        except (Exists, CasMismatch, NotFound):
            raise  # a lost race: an event on its store span (TracedStore), not a failure
        except Exception as exc:
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
            raise


def current_carrier() -> Carrier | None:
    """The current span's W3C trace context, or None when nothing is being traced."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    carrier: Carrier = {}
    propagate.inject(carrier)
    return carrier or None


def span_context_of(carrier: Mapping[str, str]) -> SpanContext | None:
    ctx = trace.get_current_span(propagate.extract(carrier)).get_span_context()
    return ctx if ctx.is_valid else None


def setup_telemetry(service: str, attributes: Mapping[str, str | int] | None = None,
                    env: Mapping[str, str] = os.environ) -> Telemetry:
    """Install the SDK's providers when exporting is configured; else stay on the no-op API."""
    if not exporting(env):
        return Telemetry(trace.get_tracer(TRACER_NAME), enabled=False)
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({
        "service.name": service,
        "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
        **(attributes or {}),
    })
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=[
        PeriodicExportingMetricReader(OTLPMetricExporter())])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return Telemetry(trace.get_tracer(TRACER_NAME), enabled=True,
                     _shutdown=[tracer_provider, meter_provider])
