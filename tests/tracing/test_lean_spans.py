"""Lean spans export what the SDK's spans would: the same scenario run on the SDK's
TracerProvider and on ours yields the same spans (names, kinds, parents, attributes, events,
links, statuses, scopes), sampling decided as the SDK decides it. Logic only: real SDK
providers and processors, an in-memory exporter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode, TraceFlags

from services.runtime import _telemetry
from services.runtime._lean_spans import MAX_EVENTS, LeanSpan, LeanTracer, LeanTracerProvider
from services.store import InDoubt

RESOURCE = Resource.create({"service.name": "abc-purchase"})
SAMPLED_REMOTE = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1))
UNSAMPLED_REMOTE = SpanContext(0xABD, 0xDEF, is_remote=True, trace_flags=TraceFlags(0))
Scenario = Callable[[trace.Tracer], None]


def _run(provider: TracerProvider, scenario: Scenario) -> list[ReadableSpan]:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    scenario(provider.get_tracer("abc", "1.0"))
    return list(exporter.get_finished_spans())


def _shape(spans: list[ReadableSpan]) -> list[tuple[Any, ...]]:
    """What a span says, ids replaced by the parent's name (ids are random)."""
    names = {s.context.span_id: s.name for s in spans if s.context is not None}

    def parent(span: ReadableSpan) -> str | None:
        if span.parent is None:
            return None
        return names.get(span.parent.span_id, "remote" if span.parent.is_remote else "?")

    return [(s.name, s.kind, parent(s), dict(s.attributes or {}),
             [(e.name, {k: v for k, v in (e.attributes or {}).items()
                        if k != "exception.stacktrace"}) for e in s.events],
             [(link.context.span_id, dict(link.attributes or {})) for link in s.links],
             s.status.status_code, s.status.description,
             s.instrumentation_scope.name if s.instrumentation_scope else None,
             dict(s.resource.attributes)) for s in spans]


def _same(scenario: Scenario) -> list[ReadableSpan]:
    sdk = _run(TracerProvider(resource=RESOURCE), scenario)
    lean = _run(LeanTracerProvider(RESOURCE), scenario)
    assert _shape(lean) == _shape(sdk)
    return lean


def _purchase(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("Buy", kind=SpanKind.SERVER,
                                      attributes={"rpc.method": "Buy"}) as server:
        with tracer.start_as_current_span("buy.intent", attributes={"abc.slot": 1}) as step:
            step.add_event("store.replace", {"abc.key": "user:alice",
                                             "abc.outcome": "cas mismatch"})
            step.set_attribute("abc.retries", 1)
        with tracer.start_as_current_span("finish_slot", links=[Link(SAMPLED_REMOTE,
                                                                     {"why": "repair"})]):
            publish = tracer.start_span("publish", kind=SpanKind.PRODUCER)
            publish.add_link(SAMPLED_REMOTE)
            publish.end()
        server.set_attribute("rpc.grpc.status_code", 0)


def test_a_purchase_is_the_same_trace() -> None:
    spans = _same(_purchase)
    by_name = {s.name: s for s in spans}
    assert isinstance(by_name["buy.intent"], LeanSpan)
    (server,) = [s for s in spans if s.parent is None]
    assert {s.context.trace_id for s in spans if s.context} == {server.context.trace_id}
    assert len({s.context.span_id for s in spans if s.context}) == 4


def _failing(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("Buy"):
        with pytest.raises(ValueError), tracer.start_as_current_span("buy.fill"):
            raise ValueError("bug")
        with pytest.raises(KeyError), tracer.start_as_current_span(
                "quiet", record_exception=False, set_status_on_exception=False):
            raise KeyError("k")
        with pytest.raises(RuntimeError), tracer.start_span("ended on exit") as span:
            raise RuntimeError("as the SDK's span records it")
        assert not span.is_recording()
        with tracer.start_as_current_span("ok then error") as step:
            step.set_status(StatusCode.OK)
            step.set_status(StatusCode.ERROR, "ignored after OK, as the SDK does")


def test_failures_are_recorded_as_the_sdk_records_them() -> None:
    spans = {s.name: s for s in _same(_failing)}
    fill = spans["buy.fill"]
    assert (fill.status.status_code, fill.status.description) == (StatusCode.ERROR,
                                                                  "ValueError: bug")
    assert [e.name for e in fill.events] == ["exception"]
    assert "ValueError: bug" in str((fill.events[0].attributes or {})["exception.stacktrace"])
    assert (spans["quiet"].status.status_code, spans["quiet"].events) == (StatusCode.UNSET, ())
    assert spans["ok then error"].status.status_code is StatusCode.OK


def _under(parent: SpanContext) -> Scenario:
    def scenario(tracer: trace.Tracer) -> None:
        remote = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        with tracer.start_as_current_span("receive", context=remote, kind=SpanKind.CONSUMER), \
                tracer.start_as_current_span("fanout"):
            pass
    return scenario


def test_the_sampler_decides_for_roots_and_remote_parents() -> None:
    spans = _same(_under(SAMPLED_REMOTE))
    assert [s.name for s in spans] == ["fanout", "receive"]
    assert {s.context.trace_id for s in spans if s.context} == {SAMPLED_REMOTE.trace_id}
    assert _same(_under(UNSAMPLED_REMOTE)) == []  # parent-based: the caller's "no" holds


def _publish_after_finishing(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("Buy"):
        with tracer.start_as_current_span("finish_slot") as finishing:
            pass
        # A fill event's publish span: started by the publisher's task once the step ended.
        publish = tracer.start_span("publish", context=trace.set_span_in_context(finishing),
                                    kind=SpanKind.PRODUCER)
        publish.end()


def test_a_child_of_an_ended_span_is_its_child_without_asking_the_sampler(
        monkeypatch: pytest.MonkeyPatch) -> None:
    spans = {s.name: s for s in _same(_publish_after_finishing)}
    assert spans["publish"].parent == spans["finish_slot"].context
    provider = LeanTracerProvider(RESOURCE)
    asked: list[str] = []
    decide = provider.sampler.should_sample

    def counting(*args: Any, **kw: Any) -> Any:
        asked.append(args[2])  # the span's name
        return decide(*args, **kw)

    # The SDK's default sampler is one shared object: patched for this test only.
    monkeypatch.setattr(provider.sampler, "should_sample", counting)
    _run(provider, _publish_after_finishing)
    assert asked == ["Buy"]  # the root only: its children's decision is the root's


def test_a_root_the_sampler_drops_makes_no_span(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    assert _same(_purchase) == []
    provider = LeanTracerProvider(RESOURCE)
    with provider.get_tracer("abc").start_as_current_span("Buy") as span:
        assert not span.is_recording()
        assert not span.get_span_context().trace_flags.sampled


def _chatty(tracer: trace.Tracer) -> None:
    with tracer.start_as_current_span("Buy"), tracer.start_as_current_span("retries") as step:
        for i in range(MAX_EVENTS + 5):
            step.add_event("store.replace", {"abc.try": i})


def test_events_past_the_limit_are_dropped() -> None:
    spans = {s.name: s for s in _run(LeanTracerProvider(RESOURCE), _chatty)}
    assert len(spans["retries"].events) == MAX_EVENTS


def test_an_ended_span_changes_no_more_and_is_exported_once() -> None:
    def scenario(tracer: trace.Tracer) -> None:
        with tracer.start_as_current_span("Buy"):
            span = tracer.start_span("step")
            span.end()
            span.set_attribute("late", 1)
            span.add_event("late")
            span.set_status(StatusCode.ERROR, "late")
            span.update_name("late")
            span.end()

    (step, _buy) = _same(scenario)
    assert (step.name, dict(step.attributes or {}), step.events) == ("step", {}, ())


def test_start_as_current_span_decorates_a_function_with_a_span_per_call() -> None:
    def scenario(tracer: trace.Tracer) -> None:
        @tracer.start_as_current_span("resolve_account")
        def resolve(n: int) -> int:
            trace.get_current_span().set_attribute("abc.n", n)
            return n

        with tracer.start_as_current_span("Buy"):
            assert (resolve(1), resolve(2)) == (1, 2)

    spans = _same(scenario)
    assert [(s.name, dict(s.attributes or {})) for s in spans[:2]] == [
        ("resolve_account", {"abc.n": 1}), ("resolve_account", {"abc.n": 2})]


def test_a_step_under_a_lean_span_is_the_step_the_sdk_makes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A protocol step's span (``_telemetry._Step``) takes a short cut under a lean span
    (``LeanTracer.child_of``): the same span as the SDK's, links to other traces and a
    failure included; a step under a dropped trace makes none."""
    monkeypatch.setattr(_telemetry, "_lean_span", LeanSpan)

    def scenario(tracer: trace.Tracer) -> None:
        lean = isinstance(tracer, LeanTracer)
        other = {"traceparent": f"00-{0xABC:032x}-{0xDEF:016x}-01"}
        with tracer.start_as_current_span("Buy", kind=SpanKind.SERVER):
            with _telemetry._Step(tracer, lean, "buy.intent", {"user": "alice", "slot": 1},
                                  ()):
                assert trace.get_current_span().is_recording()
            with _telemetry._Step(tracer, lean, "finish_slot", {"campaign": "c1"}, [other]), \
                    _telemetry._Step(tracer, lean, "finish.debit", {"price": 10}, ()):
                pass
            with pytest.raises(InDoubt), _telemetry._Step(tracer, lean, "buy.fill", {}, ()):
                raise InDoubt("slot:c1:1", "insert")

    spans = {s.name: s for s in _same(scenario)}
    assert isinstance(spans["buy.intent"], LeanSpan)
    assert dict(spans["buy.intent"].attributes or {}) == {"abc.user": "alice", "abc.slot": 1}
    assert spans["finish.debit"].parent == spans["finish_slot"].context
    assert [link.context.span_id for link in spans["finish_slot"].links] == [0xDEF]
    assert spans["buy.fill"].status.status_code is StatusCode.ERROR
    with trace.use_span(trace.NonRecordingSpan(UNSAMPLED_REMOTE)):
        assert _same(lambda tracer: _telemetry._Step(
            tracer, isinstance(tracer, LeanTracer), "buy.intent", {}, ()).__enter__()) == []
