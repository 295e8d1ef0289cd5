"""Finished spans as OTLP's ``ExportTraceServiceRequest``, written straight in protobuf's wire
format, and the OTLP/gRPC exporter that sends them so.

Why not the SDK's encoder: it builds a protobuf object per span, attribute and value through
generic Python helpers, and hashes each span's resource (a JSON dump of its attributes) to
group them; the export thread pays that under the GIL the purchase path needs, several times
what making the span cost. These bytes mean the same request (tests/runtime/test_otlp_wire.py
parses both encodings and compares them) for a fraction of the work. Field numbers are
opentelemetry-proto's ``trace/v1/trace.proto``, ``common/v1/common.proto`` and
``resource/v1/resource.proto``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

import grpc
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanKind, Status

from ._lean_spans import UNSET_STATUS, LeanSpan

EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_fixed64 = struct.Struct("<Q").pack
_double = struct.Struct("<d").pack
_ids = struct.Struct(">HQQHQ").pack  # trace_id (two halves) and span_id, with their tags
_parent_id = struct.Struct(">HQ").pack
_times = struct.Struct("<BQBQ").pack  # start and end, with their tags
_LOW64 = (1 << 64) - 1
_UINT64 = 0xFFFF_FFFF_FFFF_FFFF
_BYTES = tuple(bytes((n,)) for n in range(0x80))  # the one-byte varints
# Span.flags (fixed32, field 16): the SDK's encoder says whether the parent's is_remote is
# known (always: 0x100) and set (0x200).
_LOCAL_FLAGS = b"\x85\x01" + struct.pack("<I", 0x100)
_REMOTE_FLAGS = b"\x85\x01" + struct.pack("<I", 0x300)
_LINK_FLAGS = {False: b"\x35" + struct.pack("<I", 0x100), True: b"\x35" + struct.pack("<I", 0x300)}
_KINDS = {kind: b"\x30" + _BYTES[kind.value + 1] for kind in SpanKind}  # OTLP's = ours + 1
_UNSET_STATUS = b"\x7a\x00"  # the SDK's encoder always sends a status, empty when unset
# Attribute keys, span and event names repeat: each encoded once (up to a bound, so odd
# instrumentation cannot grow them without end).
_TEXTS: dict[tuple[bytes, str], bytes] = {}
_MAX_TEXTS = 4096
_KEYS: dict[str, bytes] = {}  # an attribute's key, encoded as KeyValue's field 1
# A span's name and kind, encoded; keyed by the kind's id (an Enum hashes in Python).
_NAMED: dict[tuple[str, int], bytes] = {}
# A short string attribute: tag, KeyValue length, key, AnyValue tag and length, string tag
# and length, the string (``_attributes``).
_SHORT_TEXT = b"%b%c%b\x12%c\x0a%c%b"


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _BYTES[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field (a message, bytes or a string already encoded)."""
    n = len(payload)
    return tag + (_BYTES[n] if n < 0x80 else _varint(n)) + payload


def _text(tag: bytes, text: str) -> bytes:
    return _field(tag, text.encode())


def _known_text(tag: bytes, text: str) -> bytes:
    """``_text`` for the texts that repeat (keys, names)."""
    found = _TEXTS.get((tag, text))
    if found is None:
        found = _text(tag, str(text))
        if len(_TEXTS) < _MAX_TEXTS:
            _TEXTS[(tag, text)] = found
    return found


def _value(value: Any) -> bytes:
    """An AnyValue's fields."""
    if isinstance(value, str):
        return _text(b"\x0a", value)
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, int):
        return b"\x18" + _varint(value & _UINT64)  # int64: two's complement, 10 bytes if < 0
    if isinstance(value, float):
        return b"\x21" + _double(value)
    if isinstance(value, bytes):
        return _field(b"\x3a", value)
    if isinstance(value, Mapping):
        return _field(b"\x32", _attributes(b"\x0a", value))
    if isinstance(value, Sequence):
        return _field(b"\x2a", b"".join(_field(b"\x0a", _value(v)) for v in value))
    return b""  # None: an empty AnyValue


def _attributes(tag: bytes, attributes: Mapping[str, Any] | None) -> bytes:
    """Each attribute as a KeyValue in field ``tag``; a short string (most of ours) written by
    one bytes formatting, tag and lengths included."""
    if not attributes:
        return b""
    out = []
    for key, value in attributes.items():
        name = _KEYS.get(key)
        if name is None:
            name = _text(b"\x0a", key)
            if len(_KEYS) < _MAX_TEXTS:
                _KEYS[key] = name
        kind = type(value)
        if kind is str:
            text = value.encode()
            n = len(text)
            size = len(name) + n + 4  # the KeyValue's: key, value's tag, lengths and tag
            if size < 0x80:  # so the AnyValue's and the string's lengths are one byte too
                out.append(_SHORT_TEXT % (tag, size, name, n + 2, n, text))
                continue
            pair = name + _field(b"\x12", _field(b"\x0a", text))
        elif kind is int:
            number = _varint(value & _UINT64)  # int64: two's complement, 10 bytes if < 0
            pair = name + b"\x12" + _BYTES[len(number) + 1] + b"\x18" + number
        else:
            pair = name + _field(b"\x12", _value(value))
        n = len(pair)
        out.append(tag + (_BYTES[n] if n < 0x80 else _varint(n)) + pair)
    return b"".join(out)


def _link(link: Link) -> bytes:
    ctx = link.context
    body = [b"\x0a\x10", ctx.trace_id.to_bytes(16, "big"), b"\x12\x08",
            ctx.span_id.to_bytes(8, "big"), _attributes(b"\x22", link.attributes)]
    if link.dropped_attributes:
        body += (b"\x28", _varint(link.dropped_attributes))
    body.append(_LINK_FLAGS[ctx.is_remote])
    return _field(b"\x6a", b"".join(body))


def _events(span: ReadableSpan) -> list[bytes]:
    return [_field(b"\x5a", b"\x09" + _fixed64(event.timestamp)
                   + _known_text(b"\x12", event.name)
                   + _attributes(b"\x1a", event.attributes)
                   + (b"\x20" + _varint(event.dropped_attributes)
                      if event.dropped_attributes else b""))
            for event in span.events]


def _status(span: ReadableSpan) -> bytes:
    return _status_of(span.status)


def _status_of(status: Status) -> bytes:
    code = status.status_code.value
    if not code and not status.description:
        return _UNSET_STATUS
    message = _text(b"\x12", status.description) if status.description else b""
    return _field(b"\x7a", message + (b"\x18" + _varint(code) if code else b""))


def _lean_span(span: LeanSpan) -> bytes:
    """``_span`` of a lean span, from its fields: what the SDK's ReadableSpan computes per
    property (limits, copies, dropped counts) a lean span does not have; the same bytes. A
    SpanContext is a tuple: unpacked, not read through its properties."""
    trace_id, span_id, _, _, trace_state, _ = span._context
    parent = span._parent
    body = [_ids(0x0A10, trace_id >> 64, trace_id & _LOW64, 0x1208, span_id)]
    if trace_state:
        body.append(_text(b"\x1a", ",".join(f"{k}={v}" for k, v in trace_state.items())))
    remote = False
    if parent is not None:
        _, parent_id, remote, *_ = parent
        body.append(_parent_id(0x2208, parent_id))
    kind = span._kind
    named = _NAMED.get((span._name, id(kind)))
    if named is None:
        named = _known_text(b"\x2a", span._name) + _KINDS[kind]
        if len(_NAMED) < _MAX_TEXTS:
            _NAMED[(span._name, id(kind))] = named
    body += (named, _times(0x39, span._start_time, 0x41, span._end_time or 0))
    if span._attributes:
        body.append(_attributes(b"\x4a", span._attributes))
    if span._events:
        body += _events(span)
    if span._links:
        body += [_link(link) for link in span._links]
    status = span._status
    body += (_UNSET_STATUS if status is UNSET_STATUS else _status_of(status),
             _REMOTE_FLAGS if remote else _LOCAL_FLAGS)
    return _field(b"\x12", b"".join(body))


def _span(span: ReadableSpan) -> bytes:
    """One Span, as ScopeSpans' field 2."""
    if type(span) is LeanSpan:
        return _lean_span(span)
    ctx, parent = span.context, span.parent
    assert ctx is not None and span.start_time is not None and span.end_time is not None
    body = [b"\x0a\x10", ctx.trace_id.to_bytes(16, "big"), b"\x12\x08",
            ctx.span_id.to_bytes(8, "big")]
    if ctx.trace_state:
        body.append(_text(b"\x1a", ",".join(f"{k}={v}" for k, v in ctx.trace_state.items())))
    if parent is not None:
        body += (b"\x22\x08", parent.span_id.to_bytes(8, "big"))
    body += (_known_text(b"\x2a", span.name), _KINDS[span.kind],
             b"\x39", _fixed64(span.start_time), b"\x41", _fixed64(span.end_time),
             _attributes(b"\x4a", span.attributes))
    if span.dropped_attributes:
        body += (b"\x50", _varint(span.dropped_attributes))
    if span.events:
        body += _events(span)
    if span.dropped_events:
        body += (b"\x60", _varint(span.dropped_events))
    if span.links:
        body += [_link(link) for link in span.links]
    if span.dropped_links:
        body += (b"\x70", _varint(span.dropped_links))
    body += (_status(span), _REMOTE_FLAGS if parent is not None and parent.is_remote
             else _LOCAL_FLAGS)
    return _field(b"\x12", b"".join(body))


def _scope(scope: InstrumentationScope | None) -> bytes:
    """ScopeSpans' fields before its spans: the InstrumentationScope."""
    if scope is None:
        return b"\x0a\x00"
    body = _text(b"\x0a", scope.name) if scope.name else b""
    if scope.version:
        body += _text(b"\x12", scope.version)
    return _field(b"\x0a", body + _attributes(b"\x1a", scope.attributes))


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """An ExportTraceServiceRequest of ``spans``, grouped by resource, then by scope."""
    # Grouped by identity: a process has one resource and a few scopes, and hashing a
    # Resource dumps its attributes as JSON.
    # Consecutive spans mostly share both (a purchase's steps): the group found for one is
    # kept for the next.
    groups: dict[int, tuple[Resource, dict[int, tuple[InstrumentationScope | None,
                                                       list[bytes]]]]] = {}
    resource: Resource | None = None
    scope: InstrumentationScope | None = None
    encoded: list[bytes] = []
    for span in spans:
        if type(span) is LeanSpan:
            its_resource, its_scope = span._resource, span._instrumentation_scope
            piece = _lean_span(span)
        else:
            its_resource, its_scope = span.resource, span.instrumentation_scope
            piece = _span(span)
        if its_resource is not resource or its_scope is not scope:  # the first span too
            resource, scope = its_resource, its_scope
            scopes = groups.setdefault(id(resource), (resource, {}))[1]
            encoded = scopes.setdefault(id(scope), (scope, []))[1]
        encoded.append(piece)
    request = []
    for its_resource, scopes in groups.values():
        body = [_field(b"\x0a", _attributes(b"\x0a", its_resource.attributes))]
        for its_scope, pieces in scopes.values():
            schema = (_text(b"\x1a", its_scope.schema_url)
                      if its_scope and its_scope.schema_url else b"")
            body.append(_field(b"\x12", _scope(its_scope) + b"".join(pieces) + schema))
        if its_resource.schema_url:
            body.append(_text(b"\x1a", its_resource.schema_url))
        request.append(_field(b"\x0a", b"".join(body)))
    return b"".join(request)


class _RawTraceService:
    """TraceService's Export taking the request as bytes (no serializer)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.Export = channel.unary_unary(
            EXPORT_METHOD, request_serializer=None,
            response_deserializer=ExportTraceServiceResponse.FromString)


class WireSpanExporter(OTLPSpanExporter):
    """The SDK's OTLP/gRPC span exporter (its ``OTEL_EXPORTER_OTLP_*`` settings, channel,
    retries and shutdown unchanged) sending requests encoded by ``encode_spans``."""

    def _initialize_channel_and_stub(self) -> None:
        super()._initialize_channel_and_stub()  # type: ignore[no-untyped-call]
        assert self._channel is not None
        self._client = _RawTraceService(self._channel)

    def _translate_data(self, data: Sequence[ReadableSpan]) -> bytes:  # type: ignore[override]
        return encode_spans(data)
