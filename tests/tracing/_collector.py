"""A small OTLP/gRPC collector for the tracing tests: the TraceService and MetricsService of
``opentelemetry-proto`` on a sync ``grpc.server`` (a thread pool) bound to 127.0.0.1:0. It keeps
every span and metric it is sent, flattened, so a test can ask "which spans of which process,
under which parent" without knowing OTLP's nesting."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from tests._support.waiting import wait_for

Value = str | int | float | bool | bytes | tuple[Any, ...] | None
Attributes = dict[str, Value]


def otel_env(endpoint: str) -> dict[str, str]:
    """A process's environment to export to the collector at ``endpoint`` by OTLP/gRPC: spans
    within ~100 ms, metrics every 500 ms."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_EXPORTER_OTLP_INSECURE": "true",
            "OTEL_BSP_SCHEDULE_DELAY": "100", "OTEL_METRIC_EXPORT_INTERVAL": "500"}


SERVER = int(trace_pb2.Span.SPAN_KIND_SERVER)
CLIENT = int(trace_pb2.Span.SPAN_KIND_CLIENT)
PRODUCER = int(trace_pb2.Span.SPAN_KIND_PRODUCER)
CONSUMER = int(trace_pb2.Span.SPAN_KIND_CONSUMER)
INTERNAL = int(trace_pb2.Span.SPAN_KIND_INTERNAL)
UNSET = int(trace_pb2.Status.STATUS_CODE_UNSET)
ERROR = int(trace_pb2.Status.STATUS_CODE_ERROR)


def _value(v: common_pb2.AnyValue) -> Value:
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return tuple(_value(item) for item in v.array_value.values)
    if which == "kvlist_value":
        return tuple((kv.key, _value(kv.value)) for kv in v.kvlist_value.values)
    found: Value = getattr(v, which)
    return found


def _attributes(kvs: Iterable[common_pb2.KeyValue]) -> Attributes:
    return {kv.key: _value(kv.value) for kv in kvs}


@dataclass(frozen=True)
class Event:
    name: str
    attributes: Attributes


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span; ids in lowercase hex, ``parent_span_id`` empty for a root."""

    service: str  # the resource's service.name
    resource: Attributes
    scope: str
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int  # OTLP's SpanKind: SERVER, CLIENT, ... below
    attributes: Attributes
    events: tuple[Event, ...]
    links: tuple[tuple[str, str], ...]  # (trace_id, span_id) of each link
    status: int  # OTLP's status code: UNSET, OK or ERROR below
    status_message: str
    start_ns: int
    end_ns: int

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    def event(self, name: str) -> Event:
        """The one event ``name`` (asserts there is exactly one)."""
        found = [e for e in self.events if e.name == name]
        assert len(found) == 1, f"{len(found)} events {name!r} on {self.name!r}: {self.events}"
        return found[0]

    def event_names(self) -> list[str]:
        return [e.name for e in self.events]


@dataclass(frozen=True)
class ReceivedMetric:
    service: str
    resource: Attributes
    name: str
    data: str  # "histogram", "sum", "gauge", ...
    points: int  # data points in this export
    total: float  # the sum of the points' values (for a histogram: of their counts)


def _spans(request: trace_service_pb2.ExportTraceServiceRequest) -> list[ReceivedSpan]:
    found = []
    for rs in request.resource_spans:
        resource = _attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                found.append(ReceivedSpan(
                    str(resource.get("service.name")), resource, ss.scope.name,
                    s.trace_id.hex(), s.span_id.hex(), s.parent_span_id.hex(), s.name, int(s.kind),
                    _attributes(s.attributes),
                    tuple(Event(e.name, _attributes(e.attributes)) for e in s.events),
                    tuple((link.trace_id.hex(), link.span_id.hex()) for link in s.links),
                    int(s.status.code), s.status.message, s.start_time_unix_nano,
                    s.end_time_unix_nano))
    return found


def _metrics(request: metrics_service_pb2.ExportMetricsServiceRequest) -> list[ReceivedMetric]:
    found = []
    for rm in request.resource_metrics:
        resource = _attributes(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                data = m.WhichOneof("data") or ""
                total: float = 0
                if data == "histogram":
                    points = len(m.histogram.data_points)
                    total = sum(p.count for p in m.histogram.data_points)
                elif data in ("sum", "gauge"):
                    number = m.sum.data_points if data == "sum" else m.gauge.data_points
                    points = len(number)
                    total = sum(p.as_int if p.WhichOneof("value") == "as_int" else p.as_double
                                for p in number)
                else:
                    points = 0
                found.append(ReceivedMetric(str(resource.get("service.name")), resource,
                                            m.name, data, points, total))
    return found


class _Traces(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def Export(self, request: trace_service_pb2.ExportTraceServiceRequest,
               context: grpc.ServicerContext) -> trace_service_pb2.ExportTraceServiceResponse:
        self._collector._add_spans(_spans(request))
        return trace_service_pb2.ExportTraceServiceResponse()


class _Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, collector: Collector) -> None:
        self._collector = collector

    def Export(self, request: metrics_service_pb2.ExportMetricsServiceRequest,
               context: grpc.ServicerContext) -> metrics_service_pb2.ExportMetricsServiceResponse:
        self._collector._add_metrics(_metrics(request))
        return metrics_service_pb2.ExportMetricsServiceResponse()


class Collector:
    """Start with ``start()``; exporters go to ``endpoint``; ``stop()`` when done."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[ReceivedSpan] = []
        self._metrics: list[ReceivedMetric] = []
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4,
                                                              thread_name_prefix="collector"))
        # The generated registration functions are untyped (opentelemetry-proto ships no
        # stubs for its *_pb2_grpc modules).
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            _Traces(self), self._server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(  # type: ignore[no-untyped-call]
            _Metrics(self), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Collector:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None).wait(5)

    def _add_spans(self, spans: list[ReceivedSpan]) -> None:
        with self._lock:
            self._spans.extend(spans)

    def _add_metrics(self, metrics: list[ReceivedMetric]) -> None:
        with self._lock:
            self._metrics.extend(metrics)

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def metrics(self) -> list[ReceivedMetric]:
        with self._lock:
            return list(self._metrics)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [s for s in self.spans() if s.trace_id == trace_id]


class Trace:
    """The spans of one trace, to walk by parent: ``child(parent, name)`` is the one span
    named ``name`` whose parent_span_id is ``parent``'s span id."""

    def __init__(self, spans: list[ReceivedSpan]) -> None:
        self.spans = spans

    def names(self) -> set[str]:
        return {s.name for s in self.spans}

    def roots(self) -> list[ReceivedSpan]:
        return [s for s in self.spans if not s.parent_span_id]

    def orphans(self) -> list[ReceivedSpan]:
        """Spans whose parent is not in this trace (lost, or wrongly parented)."""
        ids = {s.span_id for s in self.spans}
        return [s for s in self.spans if s.parent_span_id and s.parent_span_id not in ids]

    def children(self, parent: ReceivedSpan, name: str | None = None) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.parent_span_id == parent.span_id
                and (name is None or s.name == name)]

    def child(self, parent: ReceivedSpan, name: str) -> ReceivedSpan:
        found = self.children(parent, name)
        assert len(found) == 1, (f"{len(found)} spans {name!r} under {parent.name!r}; "
                                 f"its children: {[s.name for s in self.children(parent)]}")
        return found[0]

    def one(self, name: str) -> ReceivedSpan:
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, f"{len(found)} spans {name!r} in the trace: {sorted(self.names())}"
        return found[0]


def wait_for_trace(collector: Collector, trace_id: str, names: set[str],
                   timeout_s: float = 8.0) -> Trace:
    """The trace ``trace_id`` once the collector holds spans with all of ``names``."""

    def complete() -> Trace | None:
        found = Trace(collector.trace(trace_id))
        return found if names <= found.names() else None

    try:
        return wait_for(complete, f"trace {trace_id} with {sorted(names)}", timeout_s)
    except AssertionError as exc:
        got = sorted(Trace(collector.trace(trace_id)).names())
        raise AssertionError(f"{exc}; it has {got}") from None
