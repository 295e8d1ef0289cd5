"""The test in the gateway's role: it opens the client span a real gateway would, puts its W3C
``traceparent`` in the call's metadata, and watches campaigns on notify.

The gateway's TracerProvider is its own, used explicitly, and never installed as the global
one: the API's ``set_tracer_provider`` is set-once per process, so installing it would leak
into every later test (STYLE.md, practice 8); nothing here needs the global."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from services.api.abc.v1 import notify_pb2, notify_pb2_grpc

GATEWAY_SERVICE = "abc-gateway"
Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GatewayCall:
    """The gateway's span for one call: its ids (hex) and the metadata that carries it."""

    trace_id: str
    span_id: str
    metadata: Metadata


class Gateway:
    def __init__(self, endpoint: str) -> None:
        self._provider = TracerProvider(resource=Resource.create(
            {"service.name": GATEWAY_SERVICE}))
        self._provider.add_span_processor(SimpleSpanProcessor(
            OTLPSpanExporter(endpoint=endpoint, insecure=True)))
        self._tracer = self._provider.get_tracer("abc.tests.gateway")

    @contextlib.contextmanager
    def span(self, name: str) -> Iterator[GatewayCall]:
        """A CLIENT span ``name``; calls made inside pass the yielded metadata."""
        with self._tracer.start_as_current_span(name, kind=SpanKind.CLIENT) as span:
            carrier: dict[str, str] = {}
            TraceContextTextMapPropagator().inject(carrier, trace.set_span_in_context(span))
            ctx = span.get_span_context()
            yield GatewayCall(trace.format_trace_id(ctx.trace_id),
                              trace.format_span_id(ctx.span_id), tuple(carrier.items()))

    def shutdown(self) -> None:
        self._provider.shutdown()


class Watching:
    """A notify Watch stream on one campaign, read by a thread into ``updates``."""

    def __init__(self, target: str, cid: str) -> None:
        self._channel = grpc.insecure_channel(target)
        request = notify_pb2.WatchRequest(campaigns=[notify_pb2.WatchedCampaign(campaign_id=cid)])
        self._stream = notify_pb2_grpc.NotifyServiceStub(self._channel).Watch(request)
        self.updates: queue.Queue[notify_pb2.WatchUpdate] = queue.Queue()
        self._thread = threading.Thread(target=self._read, name=f"watch {cid}", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for update in self._stream:
                self.updates.put(update)
        except grpc.RpcError:
            return  # cancelled by close(), or notify went away: the test sees no update

    def next(self, timeout_s: float = 10.0) -> notify_pb2.WatchUpdate:
        try:
            return self.updates.get(timeout=timeout_s)
        except queue.Empty:
            raise AssertionError(f"no Watch update within {timeout_s} s") from None

    def close(self) -> None:
        self._stream.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leave it untyped
        self._thread.join(5)
        self._channel.close()
