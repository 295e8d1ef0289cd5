"""OpenTelemetry for every Abc process, set up once per process by ``setup_telemetry``.

Configured by the standard ``OTEL_*`` variables: spans and metrics are exported by OTLP/gRPC
when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, and
``OTEL_SDK_DISABLED=true`` turns everything off. With none set nothing is exported and the
API's no-op tracer costs next to nothing. Resource attributes: ``service.name`` (abc-purchase,
abc-notify, abc-recovery), ``service.instance.id`` (host-pid) and, for recovery, its ordinal.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from opentelemetry import metrics, trace
from opentelemetry.trace import Link, Span, SpanContext, StatusCode, Tracer

from services.store import CasMismatch, DocumentStore, Exists, NotFound

from ._current import FLAGS, current_span, make_current, restore
from ._durations import Durations
from ._traced_store import TracedStore
from ._w3c import Carrier, carrier_of, span_context_of

if TYPE_CHECKING:
    from ._lean_spans import LeanSpan, LeanTracer

TRACER_NAME = "abc"
_lean_span: type | None = None  # LeanSpan, once setup_telemetry has imported it (off: never)


def exporting(env: Mapping[str, str] = os.environ) -> bool:
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


@dataclass
class Telemetry:
    """The process's tracer, and what a journal takes from it: a span per protocol step, the
    trace context to keep in locks, a store whose failed operations are events on their
    step's span (wired in services.wiring)."""

    tracer: Tracer
    enabled: bool
    lean: bool = False  # tracer is a LeanTracer: steps under a lean span take a short cut
    _shutdown: list[object] = field(default_factory=list)

    def span(self, name: str, attributes: Mapping[str, str | int],
             links: Sequence[Carrier]) -> AbstractContextManager[None]:
        return _Step(self.tracer, self.lean, name, attributes, links)

    def trace_context(self) -> Carrier | None:
        return current_carrier()

    def trace_store(self, store: DocumentStore) -> DocumentStore:
        """``store`` with each operation that fails an event on the span of the step that
        made it (TracedStore)."""
        return TracedStore(store)

    def shutdown(self) -> None:
        """Export what is buffered and stop (call once, at the process's end)."""
        for provider in self._shutdown:
            provider.shutdown()  # type: ignore[attr-defined]


class _Step:
    """A span around a protocol step (or ``finish_slot``, ``resolve_account``), current while
    the step runs, so its failed store operations' events land on it (TracedStore) and what
    it starts is its child; an exception fails it, except a lost race. A plain context
    manager, as cheap as it gets: a purchase opens six (services/runtime/_lean_spans.py)."""

    __slots__ = ("_attributes", "_lean", "_links", "_name", "_span", "_token", "_tracer")

    def __init__(self, tracer: Tracer, lean: bool, name: str,
                 attributes: Mapping[str, str | int], links: Sequence[Carrier]) -> None:
        self._tracer, self._lean, self._name = tracer, lean, name
        self._attributes, self._links = attributes, links
        self._span: Span | None = None
        self._token: object = None

    def __enter__(self) -> None:
        current = current_span()
        if type(current) is _lean_span:  # the usual case: under the call's or a step's span
            lean: LeanSpan = current  # type: ignore[assignment]
            parent = lean._context
            if not parent[FLAGS] & 1:
                return  # a step of a trace the sampler dropped: dropped with it, at no cost
            if self._lean:
                tracer: LeanTracer = self._tracer  # type: ignore[assignment]
                self._span = child = tracer.child_of(
                    lean, self._name, {_attribute_name(k): v for k, v in self._attributes.items()},
                    _links(self._links, parent) if self._links else ())
                self._token = make_current(child)
                return
        parent = current.get_span_context()
        if parent.is_valid and not parent.trace_flags.sampled:
            return
        links = _links(self._links, parent) if self._links else ()
        self._span = span = self._tracer.start_span(
            self._name, attributes={_attribute_name(k): v for k, v in self._attributes.items()},
            links=links, record_exception=False, set_status_on_exception=False)
        self._token = make_current(span)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 _tb: object) -> None:
        span = self._span
        if span is None:
            return
        restore(self._token)
        # A lost race (exists, cas mismatch, not found) is how the protocol learns, not a
        # failure: its store event says so (TracedStore), the step's status stays unset.
        if isinstance(exc, Exception) and not isinstance(exc, Exists | CasMismatch | NotFound):
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
        span.end()


_NAMES: dict[str, str] = {}  # a step attribute's name: its span attribute's (abc.<name>)


def _attribute_name(name: str) -> str:
    found = _NAMES.get(name)
    if found is None:
        found = _NAMES[name] = f"abc.{name}"  # bounded: the journal's few names
    return found


def _links(carriers: Sequence[Carrier], current: SpanContext) -> list[Link]:
    """Links to the traces ``carriers`` name, but not to ``current``'s own (the usual case:
    a purchase finishing its own slot), which is told apart without parsing the carrier."""
    own = trace.format_trace_id(current.trace_id) if current.is_valid else None
    return [Link(ctx) for ctx in map(span_context_of, (
        c for c in carriers if own is None or c.get("traceparent", "")[3:35] != own))
        if ctx is not None]


def current_carrier() -> Carrier | None:
    """The current span's W3C trace context (docs/protocol.md: a lock's or fill's ``trace``),
    or None when nothing is being traced, or the trace is not sampled (a link to it would lead
    nowhere). Written as W3C's propagator writes it, without its machinery: a purchase keeps
    its carrier in its lock and its fill."""
    current = current_span().get_span_context()
    if not current.trace_flags.sampled:
        return None
    return carrier_of(current)


def setup_telemetry(service: str, attributes: Mapping[str, str | int] | None = None,
                    env: Mapping[str, str] = os.environ) -> Telemetry:
    """Install the SDK's providers when exporting is configured; else stay on the no-op API.
    Spans are lean (``_lean_spans``), batched as the SDK's BatchSpanProcessor batches them
    (``OTEL_BSP_*``; ``_span_batches``)
    and sent by the SDK's OTLP/gRPC exporter with our encoding (``_otlp_wire``)."""
    if not exporting(env):
        return Telemetry(trace.get_tracer(TRACER_NAME), enabled=False)
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource

    from ._durations_export import DurationsReader
    from ._lean_spans import LeanSpan, LeanTracer, LeanTracerProvider
    from ._otlp_wire import WireSpanExporter
    from ._span_batches import SpanBatches

    resource = Resource.create({
        "service.name": service,
        "service.instance.id": f"{socket.gethostname()}-{os.getpid()}",
        **(attributes or {}),
    })
    tracer_provider = LeanTracerProvider(resource)
    tracer_provider.add_span_processor(SpanBatches(WireSpanExporter()))
    meter_provider = MeterProvider(resource=resource, metric_readers=[
        DurationsReader(OTLPMetricExporter(), resource)])
    Durations.exporting = True
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    global _lean_span
    _lean_span = LeanSpan
    tracer = trace.get_tracer(TRACER_NAME)
    return Telemetry(tracer, enabled=True, lean=isinstance(tracer, LeanTracer),
                     _shutdown=[tracer_provider, meter_provider])
