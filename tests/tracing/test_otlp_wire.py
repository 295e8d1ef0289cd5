"""The OTLP request ``encode_spans`` writes by hand parses to the very request the SDK's own
encoder builds, for spans with every kind of field: each attribute type, events, links (to a
remote context with a trace state), statuses, remote and local parents, several resources and
scopes, the SDK's spans and lean ones. Logic only: real SDK spans, no export."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import (
    encode_spans as sdk_encode_spans,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode, TraceFlags, TraceState
from opentelemetry.util.types import AttributeValue

from services.runtime._lean_spans import LeanTracerProvider
from services.runtime._otlp_wire import encode_spans

REMOTE = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
                     trace_state=TraceState([("vendor", "v1")]))


def _spans(provider: TracerProvider) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("abc")
    other = provider.get_tracer("abc.other", "1.2", schema_url="https://example.com/s",
                                attributes={"scope.n": 1})
    attributes: dict[str, AttributeValue] = {
        "s": "é" * 100, "short": "c1", "i": -5, "big": 2**62, "b": True, "f": 1.5,
        "strings": ("a", "b"), "ints": [1, 2], "floats": (0.5,), "bools": (False,),
        # A KeyValue of 127 bytes (the last written in one go) and of 128.
        "edge": "x" * 117, "edge.": "x" * 117}
    with tracer.start_as_current_span("server", kind=SpanKind.SERVER, attributes=attributes,
                                      links=[Link(REMOTE, {"why": "repair"})]) as server:
        server.add_event("store.get", {"abc.key": "user:alice", "abc.duration_us": 7})
        server.add_event("bare")
        with other.start_as_current_span("child", kind=SpanKind.PRODUCER) as child:
            child.set_status(StatusCode.ERROR, "InDoubt: insert slot:c1:1")
            child.set_attribute("b", 1)  # == True, hashes so: not the server's "b" encoded
            child.add_link(REMOTE)
        with tracer.start_as_current_span("ok") as ok:
            ok.set_status(StatusCode.OK)
        server.set_attribute("rpc.grpc.status_code", 0)
    with tracer.start_as_current_span("under a remote parent", context=trace.set_span_in_context(
            trace.NonRecordingSpan(REMOTE)), kind=SpanKind.CONSUMER):
        pass
    with other.start_as_current_span("back to the other scope"):
        pass
    provider.shutdown()
    return list(exporter.get_finished_spans())


@pytest.mark.parametrize("provider", [TracerProvider, LeanTracerProvider])
def test_the_hand_encoding_is_the_sdks_request(provider: type[TracerProvider]) -> None:
    spans = _spans(provider(resource=Resource.create({"service.name": "abc-purchase", "n": 3},
                                                     schema_url="https://example.com/r")))
    spans += _spans(TracerProvider(resource=Resource.create({"service.name": "abc-notify"})))
    ours = ExportTraceServiceRequest.FromString(encode_spans(spans))
    assert ours == sdk_encode_spans(spans)
    assert len(ours.resource_spans) == 2
    assert sum(len(ss.spans) for rs in ours.resource_spans for ss in rs.scope_spans) == 10


def test_no_spans_is_an_empty_request() -> None:
    assert encode_spans([]) == b""
