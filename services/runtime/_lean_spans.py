"""A TracerProvider whose spans are lean: made and ended without the SDK's per-span
machinery, then handed to the span processors as they are (a lean span is its own
``ReadableSpan``), so they are batched and exported like any other.

Why: a purchase opens eight spans (the call, its protocol steps, the fill event's publish),
and the SDK's ``Tracer.start_span`` plus ``end`` (attribute and event containers that
validate and lock, a lock per span, a copy at the end) cost several times a step's own
Python. What stays the SDK's: the provider's sampler decides every root and every child of a
remote or unsampled parent, as the SDK's ``Tracer`` asks it; the child of a local lean span
that is sampled, recording or already ended (a fill event's publish span, made after its
finishing step), is sampled at once (every built-in sampler samples it: the parent-based ones
by definition, the others by the trace id, which the child shares). What a lean span
leaves out: span limits other than ``MAX_EVENTS`` (its attributes come from our code and our
instrumentation: a few, str and int), ``on_start`` (the batch processor ignores it) and the
SDK's own self-metrics (off by default). Not thread-safe while recording: a span lives on one
event loop; once ended it does not change, so the export thread may read it.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import ContextDecorator
from types import TracebackType
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import (
    Event,
    ReadableSpan,
    SpanProcessor,
    SynchronousMultiSpanProcessor,
    TracerProvider,
)
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import Attributes, AttributeValue

from ._current import current_span, make_current, restore

MAX_EVENTS = 128  # the SDK's default OTEL_SPAN_EVENT_COUNT_LIMIT; later events are dropped
UNSET_STATUS = Status(StatusCode.UNSET)  # a lean span's status until one is set


class LeanSpan(trace.Span, ReadableSpan):
    """A recording span, ended once; not thread-safe (its spans live on one event loop)."""

    # What most spans keep, shared until a span changes it (fewer sets and objects per span).
    _events: list[Event] | tuple[()] = ()
    _status = UNSET_STATUS
    _end_time: int | None = None
    _instrumentation_info = None
    _record_exception = True
    _set_status_on_exception = True

    def __init__(self, name: str, context: SpanContext, parent: SpanContext | None,
                 kind: SpanKind, attributes: Attributes, links: Sequence[Link],
                 start_time: int | None, scope: InstrumentationScope,
                 provider: LeanTracerProvider, record_exception: bool = True,
                 set_status_on_exception: bool = True) -> None:
        # ReadableSpan's fields, set directly: its __init__ would build a Resource if none.
        self._name, self._parent, self._kind = name, parent, kind
        self._context: SpanContext = context
        self._attributes: dict[str, AttributeValue] = dict(attributes) if attributes else {}
        self._links = links
        self._start_time = start_time or time.time_ns()
        self._resource, self._instrumentation_scope = provider.resource, scope
        self._provider = provider
        if not record_exception:
            self._record_exception = False
        if not set_status_on_exception:
            self._set_status_on_exception = False

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self._end_time is None

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        if self._end_time is None:
            self._attributes[key] = value

    def set_attributes(self, attributes: Mapping[str, AttributeValue]) -> None:
        if self._end_time is None:
            self._attributes.update(attributes)

    def add_event(self, name: str, attributes: Attributes = None,
                  timestamp: int | None = None) -> None:
        if self._end_time is None and len(self._events) < MAX_EVENTS:
            event = Event(name, attributes, timestamp or time.time_ns())
            if self._events:
                self._events.append(event)
            else:
                self._events = [event]

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        if self._end_time is None and context.is_valid:
            self._links = (*self._links, Link(context, attributes))

    def update_name(self, name: str) -> None:
        if self._end_time is None:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """As the SDK's: UNSET changes nothing, and neither does anything after OK."""
        if self._end_time is not None or self._status.status_code is StatusCode.OK:
            return
        new = status if isinstance(status, Status) else Status(status, description)
        if new.status_code is not StatusCode.UNSET:
            self._status = new

    def record_exception(self, exception: BaseException, attributes: Attributes = None,
                         timestamp: int | None = None, escaped: bool = False) -> None:
        """As the SDK's: an ``exception`` event with the type, message and stack trace."""
        kind = type(exception)
        module = kind.__module__
        self.add_event("exception", {
            "exception.type": kind.__qualname__ if module in ("builtins", "") else
            f"{module}.{kind.__qualname__}",
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
            **(attributes or {})}, timestamp)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Ends it, after recording an exception that escaped, as the SDK's span does."""
        if exc is not None and self.is_recording():
            if self._record_exception:
                self.record_exception(exc, escaped=True)
            if self._set_status_on_exception:
                self.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
        self.end()

    def end(self, end_time: int | None = None) -> None:
        if self._end_time is None:
            self._end_time = end_time or time.time_ns()
            self._provider.span_ended(self)


class LeanTracer(trace.Tracer):
    """Makes lean spans for its provider: under a local lean span that is sampled (recording
    or ended), as that span's child at once; otherwise (a root, a remote parent, an unsampled
    one) as the SDK's ``Tracer`` decides, by asking the provider's sampler, and a span the
    sampler drops is a ``NonRecordingSpan``, as the SDK's."""

    def __init__(self, scope: InstrumentationScope, provider: LeanTracerProvider) -> None:
        self._scope, self._provider = scope, provider
        self._span_ids = provider.id_generator.generate_span_id

    def start_span(self, name: str, context: context_api.Context | None = None,
                   kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes = None,
                   links: Sequence[Link] | None = (), start_time: int | None = None,
                   record_exception: bool = True,
                   set_status_on_exception: bool = True) -> trace.Span:
        parent_span = current_span() if context is None else trace.get_current_span(context)
        links = links or ()
        if type(parent_span) is LeanSpan:  # recording or ended: a local span either way
            parent = parent_span._context
            if parent.trace_flags & 1:  # sampled (a lean span may be RECORD_ONLY)
                # SpanContext's own checks skipped: the parent's ids are valid, a span id
                # from the generator is not 0.
                own: SpanContext = tuple.__new__(SpanContext, (
                    parent.trace_id, self._span_ids(), False, parent.trace_flags,
                    parent.trace_state, True))
                return LeanSpan(name, own, parent, kind, attributes, links, start_time,
                                self._scope, self._provider, record_exception,
                                set_status_on_exception)
        else:
            parent = parent_span.get_span_context()
        return self._sampled(name, context, parent, kind, attributes, links, start_time,
                             record_exception, set_status_on_exception)

    def child_of(self, parent: LeanSpan, name: str, attributes: Attributes,
                 links: Sequence[Link]) -> LeanSpan:
        """``start_span(name, attributes=..., links=..., record_exception=False,
        set_status_on_exception=False)`` under ``parent``, a lean span that is sampled (the
        caller knows), without looking for the current span again."""
        context = parent._context
        trace_id, _, _, flags, state, _ = context  # a SpanContext is a tuple
        own: SpanContext = tuple.__new__(SpanContext, (
            trace_id, self._span_ids(), False, flags, state, True))
        return LeanSpan(name, own, context, SpanKind.INTERNAL, attributes, links, None,
                        self._scope, self._provider, False, False)

    def _sampled(self, name: str, context: context_api.Context | None, parent: SpanContext,
                 kind: SpanKind, attributes: Attributes, links: Sequence[Link],
                 start_time: int | None, record_exception: bool,
                 set_status_on_exception: bool) -> trace.Span:
        """A root or a child of a remote or unsampled parent, as the SDK's Tracer makes it."""
        provider = self._provider
        ids = provider.id_generator
        known = parent if parent.is_valid else None
        trace_id = known.trace_id if known else ids.generate_trace_id()
        sampled = provider.sampler.should_sample(context, trace_id, name, kind, attributes,
                                                 links)
        decision = sampled.decision
        flags = (TraceFlags.SAMPLED if decision is Decision.RECORD_AND_SAMPLE
                 else TraceFlags.DEFAULT)
        if known.trace_flags.random_trace_id if known else ids.is_trace_id_random():
            flags |= TraceFlags.RANDOM_TRACE_ID
        own = SpanContext(trace_id, ids.generate_span_id(), False, TraceFlags(flags),
                          sampled.trace_state)
        if decision is Decision.DROP:
            return trace.NonRecordingSpan(own)
        return LeanSpan(name, own, known, kind, sampled.attributes, links, start_time,
                        self._scope, provider, record_exception, set_status_on_exception)

    def start_as_current_span(  # type: ignore[override]  # the API's is a private type
            self, name: str, context: context_api.Context | None = None,
            kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes = None,
            links: Sequence[Link] | None = (), start_time: int | None = None,
            record_exception: bool = True, set_status_on_exception: bool = True,
            end_on_exit: bool = True) -> _CurrentSpan:
        return _CurrentSpan(self, (name, context, kind, attributes, links, start_time,
                                   record_exception, set_status_on_exception), end_on_exit)


class _CurrentSpan(ContextDecorator):
    """``start_as_current_span``'s context manager (and decorator): a span started on entry
    and current until exit, by ``trace.use_span``'s rules (an escaping ``Exception`` is
    recorded and sets the status, as asked; the span ends on exit, if asked), without the two
    generator context managers the SDK stacks for it."""

    def __init__(self, tracer: LeanTracer, start: tuple[Any, ...], end_on_exit: bool) -> None:
        self._tracer, self._start, self._end_on_exit = tracer, start, end_on_exit
        self._record_exception, self._set_status_on_exception = start[-2:]
        self._span: trace.Span = trace.INVALID_SPAN
        self._token: object = None

    def _recreate_cm(self) -> _CurrentSpan:  # a decorated function: a span per call
        return _CurrentSpan(self._tracer, self._start, self._end_on_exit)

    def __enter__(self) -> trace.Span:
        self._span = span = self._tracer.start_span(*self._start)
        self._token = make_current(span)
        return span

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        restore(self._token)
        span = self._span
        if isinstance(exc, Exception) and span.is_recording():
            if self._record_exception:
                span.record_exception(exc)
            if self._set_status_on_exception:
                span.set_status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}")
        if self._end_on_exit:
            span.end()


class LeanTracerProvider(TracerProvider):
    """The SDK's TracerProvider (its sampler, resource, ids, processors, flush and shutdown,
    all from the standard ``OTEL_*`` settings) whose tracers make lean spans. ``spans``: the
    processors every span ends in."""

    def __init__(self, resource: Resource) -> None:
        self.spans = SynchronousMultiSpanProcessor()  # type: ignore[no-untyped-call]
        self.span_ended: Callable[[ReadableSpan], None] = self.spans.on_end
        super().__init__(resource=resource, active_span_processor=self.spans)

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        """As the SDK's; with one processor, a span's end goes to it straight."""
        super().add_span_processor(span_processor)
        processors = self.spans._span_processors
        self.span_ended = (processors[0].on_end if len(processors) == 1
                           else self.spans.on_end)

    def get_tracer(self, instrumenting_module_name: str,
                   instrumenting_library_version: str | None = None,
                   schema_url: str | None = None, attributes: Attributes = None,
                   **_: Any) -> trace.Tracer:
        sdk = super().get_tracer(instrumenting_module_name, instrumenting_library_version,
                                 schema_url, attributes)
        if isinstance(sdk, trace.NoOpTracer):  # OTEL_SDK_DISABLED
            return sdk
        return LeanTracer(InstrumentationScope(instrumenting_module_name,
                                               instrumenting_library_version or "", schema_url,
                                               attributes), self)
