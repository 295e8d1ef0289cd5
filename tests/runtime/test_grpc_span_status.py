"""A SERVER span's status follows OpenTelemetry's gRPC conventions: ERROR only when the server
failed; a refusal (bad input, a lost race, a busy account) is an answer, its details kept as an
attribute. Logic only: a real SDK span, a stand-in for the call's context."""

from __future__ import annotations

from typing import Any, cast

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from services.runtime._tracing_grpc import SERVER_ERRORS, _record


class _Context:
    def __init__(self, code: grpc.StatusCode | None, details: str | None) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def details(self) -> str | None:
        return self._details


def _recorded(code: grpc.StatusCode | None, details: str | None = None,
              raised: BaseException | None = None) -> ReadableSpan:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("test").start_as_current_span("call") as span:
        _record(span, cast(Any, _Context(code, details)), raised)
    (finished,) = exporter.get_finished_spans()
    return finished


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode
                                  if c is not grpc.StatusCode.OK and c not in SERVER_ERRORS])
def test_a_refusal_is_no_error(code: grpc.StatusCode) -> None:
    span = _recorded(code, "slot 3 was taken")
    assert span.status.status_code is StatusCode.UNSET
    assert span.attributes is not None
    assert span.attributes["rpc.grpc.status_code"] == code.value[0]
    assert span.attributes["abc.status_message"] == "slot 3 was taken"


@pytest.mark.parametrize("code", [c for c in grpc.StatusCode if c in SERVER_ERRORS])
def test_a_server_failure_is_an_error_with_its_details(code: grpc.StatusCode) -> None:
    span = _recorded(code, "store unreachable")
    assert (span.status.status_code, span.status.description) == (
        StatusCode.ERROR, "store unreachable")
    assert span.attributes is not None
    assert "abc.status_message" not in span.attributes


def test_ok_and_an_unhandled_exception() -> None:
    ok = _recorded(None)
    assert ok.status.status_code is StatusCode.UNSET
    assert ok.attributes is not None and ok.attributes["rpc.grpc.status_code"] == 0
    crashed = _recorded(None, raised=ValueError("bug"))  # the caller gets UNKNOWN
    assert (crashed.status.status_code, crashed.status.description) == (
        StatusCode.ERROR, "ValueError: bug")
    assert crashed.attributes is not None
    assert crashed.attributes["rpc.grpc.status_code"] == grpc.StatusCode.UNKNOWN.value[0]
